"""The one params loader: reads params.yaml into validated dataclasses, naming any bad key."""
from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import yaml

from pipelines.errors import PipelineError

PARAMS_FILE = Path("params.yaml")


class ParamsError(PipelineError):
    """params.yaml holds a key, type or value the pipeline does not accept."""


def build(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from a mapping, checking every key, type and enum value.

    `where` is the dotted key path used in error messages (e.g. "train.sampler").
    Keys missing from `data` take the dataclass default; a key the dataclass does not
    declare is an error, so a typo never passes silently.
    """
    if not isinstance(data, dict):
        raise ParamsError(f"params.yaml: '{where}' must be a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ParamsError(
            f"params.yaml: unknown key '{_join(where, unknown[0])}' (known keys in "
            f"'{where or 'top level'}': {', '.join(sorted(known))})"
        )
    values = {}
    for name, f in known.items():
        key = _join(where, name)
        if name in data:
            values[name] = _coerce(hints[name], data[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ParamsError(f"params.yaml: missing required key '{key}'")
    try:
        return cls(**values)
    except ParamsError:
        raise
    except (ValueError, TypeError) as exc:
        raise ParamsError(f"params.yaml: {exc}") from None


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, key)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            raise ParamsError(
                f"params.yaml: '{key}' must be one of {', '.join(map(repr, allowed))}, got {value!r}"
            )
        return value
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, key)
            except ParamsError as exc:
                errors.append(str(exc))
        raise ParamsError(errors[0] if len(errors) == 1 else f"params.yaml: '{key}' has an invalid value {value!r}")
    if origin is list:
        (item,) = get_args(hint)
        if not isinstance(value, list):
            raise ParamsError(f"params.yaml: '{key}' must be a list, got {value!r}")
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        key_type, item = get_args(hint)
        if not isinstance(value, dict):
            raise ParamsError(f"params.yaml: '{key}' must be a mapping, got {value!r}")
        return {_coerce(key_type, k, key): _coerce(item, v, f"{key}.{k}") for k, v in value.items()}
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"params.yaml: '{key}' must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"params.yaml: '{key}' must be a whole number, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"params.yaml: '{key}' must be true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(f"params.yaml: '{key}' must be a string, got {value!r}")
        return value
    if hint is Any:
        return value
    raise TypeError(f"params loader cannot check type {hint!r} of '{key}'")


# The section dataclasses live beside the code that uses them; this is where they meet.
from pipelines.catalog.config import DataConfig  # noqa: E402
from pipelines.normalize.config import SchemaConfig  # noqa: E402
from pipelines.encoders.config import KVConfig, ModelConfig  # noqa: E402
from pipelines.signals.config import SignalsConfig  # noqa: E402
from pipelines.index.config import IndexConfig  # noqa: E402
from pipelines.mining.config import MiningConfig  # noqa: E402
from pipelines.pairs.config import PairsConfig  # noqa: E402
from pipelines.training.config import TrainConfig  # noqa: E402
from pipelines.evaluation.config import EvalConfig, ScoreboardConfig  # noqa: E402


@dataclass(frozen=True)
class Params:
    seed: int = 42
    data: DataConfig = field(default_factory=DataConfig)
    schema: SchemaConfig = field(default_factory=SchemaConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    kv: KVConfig = field(default_factory=KVConfig)
    signals: SignalsConfig = field(default_factory=SignalsConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    mining: MiningConfig = field(default_factory=MiningConfig)
    pairs: PairsConfig = field(default_factory=PairsConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    scoreboard: ScoreboardConfig = field(default_factory=ScoreboardConfig)


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml (the file DVC tracks) from the working directory."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found (run the stage from the repository root)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    return build(Params, raw, "")


def params_dict(section: Any) -> dict:
    """A section as plain data, for manifests and checkpoint hashes."""
    return dataclasses.asdict(section)


__all__ = ["Params", "ParamsError", "build", "load_params", "params_dict"]
