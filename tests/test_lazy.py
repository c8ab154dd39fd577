"""Lazy package exports: every name a package declares for type checkers resolves, and only on first use."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.lazy import lazy_exports, type_checking_exports

PACKAGES = sorted(
    p.parent.name
    for p in Path(__file__).resolve().parents[1].joinpath("pipelines").glob("*/__init__.py")
    if "lazy_exports(" in p.read_text()
)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_resolves_to_its_module(name):
    package = importlib.import_module(f"pipelines.{name}")
    table = type_checking_exports(ast.parse(Path(package.__file__).read_text()), package.__name__)
    for exported, module in table.items():
        assert module.startswith(f"{package.__name__}."), (exported, module)
        assert getattr(package, exported) is getattr(importlib.import_module(module), exported)


def test_lazy_exports_reads_the_type_checking_block_and_rejects_other_names(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from json.decoder import JSONDecoder\n    from .encoder import JSONEncoder\n"
    )
    getattr_, exported = lazy_exports("json", str(init))
    assert exported == ["JSONDecoder", "JSONEncoder"]
    assert getattr_("JSONEncoder").__name__ == "JSONEncoder"
    with pytest.raises(AttributeError, match="'dumps'"):
        getattr_("dumps")


def test_loading_params_imports_no_torch():
    code = (  # the sections whose packages hold torch code: their configs must not import it
        "import dataclasses, sys\n"
        "from pipelines.encoders.config import ModelConfig\n"
        "from pipelines.evaluation.config import EvalConfig\n"
        "from pipelines.params import load_params\n"
        "from pipelines.search.config import RerankConfig\n"
        "from pipelines.training.config import TrainConfig\n"
        "sections = [('model', ModelConfig), ('train', TrainConfig), ('eval', EvalConfig), ('rerank', RerankConfig)]\n"
        "load_params(dataclasses.make_dataclass('Params', sections))\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    assert out.stdout.strip() == "False"
