"""The params loader: the committed params.yaml loads, and every kind of bad key is named."""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from pipelines.catalog.config import DataConfig
from pipelines.encoders import KVConfig, ModelConfig
from pipelines.evaluation import EvalConfig, ScoreboardConfig
from pipelines.extract import ExtractConfig
from pipelines.index.config import IndexConfig
from pipelines.mining.config import MiningConfig
from pipelines.normalize import SchemaConfig
from pipelines.pairs.config import PairsConfig
from pipelines.params import SECTIONS, ParamsError, declared_params, load_params, require_declared
from pipelines.runtime import RuntimeConfig
from pipelines.search.config import RerankConfig
from pipelines.signals.config import SignalsConfig
from pipelines.training import TrainConfig

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {
    "data": DataConfig,
    "schema": SchemaConfig,
    "model": ModelConfig,
    "kv": KVConfig,
    "signals": SignalsConfig,
    "index": IndexConfig,
    "mining": MiningConfig,
    "pairs": PairsConfig,
    "train": TrainConfig,
    "eval": EvalConfig,
    "scoreboard": ScoreboardConfig,
    "rerank": RerankConfig,
    "extract": ExtractConfig,
    "runtime": RuntimeConfig,
}
# Every section, as a stage's Params dataclass names the ones it reads.
AllParams = dataclasses.make_dataclass("AllParams", [("seed", int), *CONFIGS.items()], frozen=True)


def test_committed_params_load_with_defaults_matching_dataclasses():
    params = load_params(AllParams, REPO / "params.yaml")
    assert params.seed == 42
    assert params.data.source == "sample"
    assert params.model.pretrained == "none"
    # params.yaml and the dataclass defaults describe the same pipeline, and every section has its dataclass
    assert set(CONFIGS) | {"seed"} == set(SECTIONS) == set(yaml.safe_load((REPO / "params.yaml").read_text()))
    for name, cls in CONFIGS.items():
        assert getattr(params, name) == cls(), name


def test_a_stage_builds_only_the_sections_it_asks_for():
    @dataclasses.dataclass(frozen=True)
    class Params:
        index: IndexConfig

    params = load_params(Params, REPO / "params.yaml")
    assert isinstance(params, Params) and params.index == IndexConfig()
    assert [f.name for f in dataclasses.fields(params)] == ["index"]


def test_params_classes_name_only_sections():
    @dataclasses.dataclass(frozen=True)
    class Params:
        indexes: IndexConfig

    with pytest.raises(TypeError, match="'indexes' is not a params.yaml section"):
        load_params(Params, REPO / "params.yaml")
    with pytest.raises(TypeError, match="not a dataclass"):
        load_params(dict, REPO / "params.yaml")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"train": {"lrr": 1}}, "unknown key 'train.lrr'"),
        ({"train": {"head": "mpl"}}, "'train.head' must be one of 'linear', 'mlp', got 'mpl'"),
        ({"train": {"lr": "fast"}}, "'train.lr' must be a number"),
        ({"train": {"epochs": 2.5}}, "'train.epochs' must be a whole number"),
        ({"train": {"grad_clip": -1.0}}, "train.grad_clip must be at least 0, got -1.0"),
        ({"train": {"grad_clip": float("inf")}}, "'train.grad_clip' must be a finite number, got inf"),
        # .nan passes every `x < 0`-style range check and .inf most: the loader refuses both, naming the key
        ({"train": {"lr": float("nan")}}, "'train.lr' must be a finite number, got nan"),
        ({"rerank": {"alpha": float("nan")}}, "'rerank.alpha' must be a finite number, got nan"),
        ({"train": {"attr_weights": {"neckline": float("-inf")}}}, "'train.attr_weights.neckline' must be a finite"),
        # one key per message, with its value
        ({"train": {"threads": -2}}, "train.threads must be at least 0, got -2"),
        ({"train": {"batch_size": 1}}, "train.batch_size must be at least 2, got 1"),
        ({"mining": {"per_anchor": 0}}, "mining.per_anchor must be at least 1, got 0"),
        ({"rerank": {"beta": -0.5}}, "rerank.beta must be at least 0, got -0.5"),
        ({"signals": {"refine": {"temperature": 0.0}}}, "signals.refine.temperature must be positive, got 0.0"),
        ({"train": {"dropout": 1.0}}, "train.dropout must be in [0, 1), got 1.0"),
        ({"index": {"text": "yes"}}, "'index.text' must be true or false"),
        ({"signals": {"dims": ["neck"]}}, "signals.dims names 'neck'"),
        ({"data": {"splits": {"train": 1.0}}}, "data.splits must name exactly train, val and test"),
        ({"pairs": {"mix": {"strong": 1.0}}}, "pairs.mix must name exactly"),
        ({"scoreboard": {"targets": [{"slice": "all"}]}}, "missing required key 'scoreboard.targets[0].metric'"),
        ({"model": {"precision": "int8"}}, "'model.precision' must be one of"),
        ({"sed": 1}, "unknown key 'sed'"),
        ({"runtime": {"encode": {"batch_size": 0}}}, "runtime.encode.batch_size"),
        ({"runtime": {"device": "tpu"}}, "runtime.device must be auto, cpu, cuda or cuda:N"),
        ({"runtime": {"engine": "spark"}}, "'runtime.engine' must be one of 'local', 'ray', got 'spark'"),
        ({"runtime": {"encode": {"actors": 0}}}, "runtime.encode.actors must be at least 1"),
        ({"runtime": {"encode": {"threads": -1}}}, "runtime.encode.threads must be 0 (every core) or more"),
    ],
)
def test_bad_params_name_the_key(tmp_path, override, message):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(override))
    with pytest.raises(ParamsError) as info:
        load_params(AllParams, path)
    assert message in str(info.value)


def test_load_params_reports_missing_and_invalid_files(tmp_path):
    with pytest.raises(ParamsError, match="params file not found"):
        load_params(AllParams, tmp_path / "params.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(AllParams, bad)
    for empty in ("", "# every knob was here\n", "{}\n"):  # not a silent run on the dataclass defaults
        bad.write_text(empty)
        with pytest.raises(ParamsError, match=r"params.yaml: the file is empty"):
            load_params(AllParams, bad)


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("train:\n  lr: 0.1\n  epochs: 3\n  lr: 0.001\n")  # PyYAML alone would keep 0.001
    with pytest.raises(ParamsError, match=r"line 4: key 'lr' is given twice \(first on line 2\); keep one"):
        load_params(AllParams, path)
    path.write_text("seed: 1\ntrain: {}\nseed: 2\n")
    with pytest.raises(ParamsError, match="line 3: key 'seed' is given twice"):
        load_params(AllParams, path)


def test_nested_sections_are_typed(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"train": {"sampler": {"dominant_cap": 0.5}, "lora": {"enabled": True}}}))

    @dataclasses.dataclass(frozen=True)
    class Params:
        train: TrainConfig

    params = load_params(Params, path)
    assert params.train.sampler.dominant_cap == 0.5
    assert params.train.lora.enabled is True
    assert params.train.sampler.weak_categories == ["cardigans", "shorts"]


DVC_YAML = """\
stages:
  train:
    cmd: python -m stages.train
    params: [seed, train.lr, train.sampler.dominant_cap, {params.yaml: [train.epochs]}, {other.yaml: [x]}]
  ingest:
    cmd: python -m stages.ingest --verbose
    params: [data.source]
"""


def test_a_stage_s_declared_keys_are_read_from_dvc_yaml(tmp_path):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    assert declared_params("stages.train", tmp_path / "dvc.yaml") == [
        ("train", "seed"),
        ("train", "train.lr"),
        ("train", "train.sampler.dominant_cap"),
        ("train", "train.epochs"),
    ]
    assert declared_params("stages.ingest", tmp_path / "dvc.yaml") == [("ingest", "data.source")]
    assert declared_params("stages.evaluate", tmp_path / "dvc.yaml") == []
    assert declared_params("stages.train", tmp_path / "no-dvc.yaml") == []


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"train": {"lr": 0.1, "sampler": {"dominant_cap": 0.5}, "epochs": 2}},
            "missing key 'seed' (stage train lists it",
        ),
        ({"seed": 1, "train": {"sampler": {"dominant_cap": 0.5}, "epochs": 2}}, "missing key 'train.lr' (stage train"),
        (
            {"seed": 1, "train": {"lr": 0.1, "epochs": 2}},
            "missing key 'train.sampler' (stage train lists 'train.sampler.dominant_cap' in dvc.yaml)",
        ),
        ({"seed": 1, "train": {"lr": 0.1, "sampler": {"dominant_cap": 0.5}}}, "missing key 'train.epochs'"),
        ({"seed": 1, "data": {}}, "missing key 'train' (stage train lists 'train.lr' in dvc.yaml)"),
    ],
)
def test_a_stage_run_refuses_params_yaml_without_a_key_dvc_yaml_lists(tmp_path, params, message):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ParamsError, match=f"params.yaml: {re.escape(message)}"):
        require_declared("stages.train", tmp_path / "params.yaml", tmp_path / "dvc.yaml")


def test_keys_no_stage_lists_may_be_absent(tmp_path):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"seed": 1, "train": {"lr": 0.1, "sampler": {"dominant_cap": 0.5}, "epochs": 2}}))
    require_declared("stages.train", params, tmp_path / "dvc.yaml")  # train's other keys are not listed here
    require_declared("stages.evaluate", params, tmp_path / "dvc.yaml")  # no stage runs it
    require_declared("stages.ingest", params, tmp_path / "no-dvc.yaml")  # no dvc.yaml: nothing is declared
    params.write_text(yaml.safe_dump({"seed": 1, "train": 3}))  # a value in the way is build's to name, by type
    require_declared("stages.train", params, tmp_path / "dvc.yaml")


def test_the_committed_params_hold_every_key_each_stage_lists():
    for stage, body in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items():
        # every stage with params is found by its command (a cmd the parser stopped matching would declare nothing)
        assert bool(declared_params(f"stages.{stage}", REPO / "dvc.yaml")) == bool(body.get("params")), stage
        require_declared(f"stages.{stage}", REPO / "params.yaml", REPO / "dvc.yaml")
