"""The one params loader: reads params.yaml into validated dataclasses, naming any bad key."""

from __future__ import annotations

import dataclasses
import math
import types
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from pipelines.errors import PipelineError

PARAMS_FILE = Path("params.yaml")
DVC_YAML = Path("dvc.yaml")
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # dvc.yaml is read on every stage start
DEFAULT_SEED = 42
T = TypeVar("T")


class ParamsError(PipelineError):
    """params.yaml holds a key, type or value the pipeline does not accept."""


def build(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from a mapping, checking every key, type and enum value.

    `where` is the dotted key path used in error messages (e.g. "train.sampler").
    Keys missing from `data` take the dataclass default (a stage run first refuses a params.yaml that lacks a
    key its dvc.yaml entry lists: `require_declared`); a key the dataclass does not declare is an error, so a
    typo never passes silently.
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


def at_least(section: str, minimum: float, **values: float) -> None:
    """A config's range check: one ValueError naming the first of `values` below `minimum`, with its value."""
    for name, value in values.items():
        if not value >= minimum:
            raise ValueError(f"{section}.{name} must be at least {minimum:g}, got {value!r}")


def positive(section: str, **values: float) -> None:
    """A config's range check: one ValueError naming the first of `values` that is not above 0, with its value."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{section}.{name} must be positive, got {value!r}")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return build(hint, value, key)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            raise ParamsError(f"params.yaml: '{key}' must be one of {', '.join(map(repr, allowed))}, got {value!r}")
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
        if not math.isfinite(value):  # .nan passes every range check (nan < 0 is false) and .inf most
            raise ParamsError(f"params.yaml: '{key}' must be a finite number, got {value!r}")
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


# Every top-level key params.yaml may hold. A stage builds only the sections it reads (each section's
# dataclass lives beside the code that uses it), so loading params never imports another stage's code.
SECTIONS = (
    "seed",
    "data",
    "schema",
    "model",
    "kv",
    "signals",
    "index",
    "mining",
    "pairs",
    "train",
    "eval",
    "scoreboard",
    "rerank",
    "extract",
    "runtime",
)


class _DuplicateKey(yaml.YAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping: PyYAML would keep the last silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in first:
                raise _DuplicateKey(f"line {line}: key {key!r} is given twice (first on line {first[key]}); keep one")
            first[key] = line
        return super().construct_mapping(node, deep=deep)


def load_params(cls: type[T], path: str | Path = PARAMS_FILE) -> T:
    """Read params.yaml (the file DVC tracks) into `cls`, a dataclass naming the sections a stage reads:

        @dataclass(frozen=True)
        class Params:
            seed: int
            train: TrainConfig

    Each field is a top-level key of params.yaml typed by its config dataclass (`seed` an int, 42 when absent);
    every top-level key of the file must be a known section, and each requested section is checked key by key.
    A key the file lacks takes its default here; `run_stage` has already refused one that dvc.yaml lists.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"load_params: {cls!r} is not a dataclass of params.yaml sections")
    hints = get_type_hints(cls)
    unsupported = sorted(set(hints) - set(SECTIONS))
    if unsupported:
        raise TypeError(f"load_params: {unsupported[0]!r} is not a params.yaml section ({', '.join(SECTIONS)})")
    raw = read_params(path)
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ParamsError(
            f"params.yaml: unknown key '{unknown[0]}' (known keys in 'top level': {', '.join(sorted(SECTIONS))})"
        )
    seed = _coerce(int, raw.get("seed", DEFAULT_SEED), "seed")
    values = {name: seed if name == "seed" else build(hint, raw.get(name, {}), name) for name, hint in hints.items()}
    return cls(**values)


def read_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """params.yaml as parsed (every key given once), naming the file when it is missing, empty or no mapping."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found (run the stage from the repository root)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise ParamsError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if raw is None or raw == {}:  # no silent run on the dataclass defaults
        raise ParamsError(f"{path}: the file is empty; every stage reads its knobs from it")
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: must be a mapping of sections, got {type(raw).__name__}")
    return raw


def require_declared(module: str, path: str | Path = PARAMS_FILE, dvc_yaml: str | Path = DVC_YAML) -> None:
    """Refuse to run stage script `module` (e.g. "stages.train") when params.yaml lacks a key that its stage lists
    under `params:` in dvc.yaml: `build` would give the key its dataclass default, so a deleted key would run
    silently on a value the file never said. No dvc.yaml, or no stage running `module`, declares nothing."""
    declared = declared_params(module, dvc_yaml)
    if not declared:
        return
    raw = read_params(path)
    for stage, key in declared:
        absent = _absent_prefix(raw, key)
        if absent is not None:
            said = "it" if absent == key else repr(key)
            raise ParamsError(f"{path}: missing key '{absent}' (stage {stage} lists {said} in dvc.yaml)")


def declared_params(module: str, dvc_yaml: str | Path = DVC_YAML) -> list[tuple[str, str]]:
    """(stage, key) for every params.yaml key listed under `params:` by the dvc.yaml stages whose cmd is
    `python -m <module>`, in dvc.yaml's order; none when there is no dvc.yaml."""
    dvc_yaml = Path(dvc_yaml)
    if not dvc_yaml.is_file():
        return []
    try:
        spec = yaml.load(dvc_yaml.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{dvc_yaml}: not valid YAML: {exc}") from None
    stages = spec.get("stages") if isinstance(spec, dict) else None
    declared = []
    for stage, body in (stages if isinstance(stages, dict) else {}).items():
        if isinstance(body, dict) and str(body.get("cmd", "")).split()[:3] == ["python", "-m", module]:
            declared += [(stage, key) for key in _params_keys(body.get("params") or [])]
    return declared


def _params_keys(entries: list[Any]) -> list[str]:
    """The params.yaml keys of a stage's `params:` list: plain keys, and those listed under `params.yaml:`."""
    keys = []
    for entry in entries:
        if isinstance(entry, str):
            keys.append(entry)
        elif isinstance(entry, dict):
            keys += [key for file, listed in entry.items() if file == str(PARAMS_FILE) for key in listed or []]
    return keys


def _absent_prefix(raw: dict[str, Any], key: str) -> str | None:
    """The shortest prefix of dotted `key` that `raw` lacks (`train` when the whole section is gone), or None.
    A value in the way that is no mapping is left to `build`, which names its type."""
    node: Any = raw
    parts = key.split(".")
    for depth, part in enumerate(parts, 1):
        if not isinstance(node, dict):
            return None
        if part not in node:
            return ".".join(parts[:depth])
        node = node[part]
    return None


def params_dict(section: Any) -> dict[str, Any]:
    """A section as plain data, for manifests and checkpoint hashes."""
    return dataclasses.asdict(section)


__all__ = [
    "SECTIONS",
    "ParamsError",
    "at_least",
    "build",
    "declared_params",
    "load_params",
    "params_dict",
    "positive",
    "read_params",
    "require_declared",
]
