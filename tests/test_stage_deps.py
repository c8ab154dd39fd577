"""dvc.yaml declares exactly what each stage loads: the project files of its import closure, and its params by leaf key.

The code side is written by `make deps` from each stage's real import closure (`pipelines.closure`, lazy exports
and data files included) and checked here against it; the params side reads which `params.<section>.<leaf>` a
stage's script uses, where a section or sub-section handed whole to library code counts as every leaf below it
that some file of the stage's closure reads as an attribute (`cfg.nprobe`). `runtime` is read but never declared.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from pathlib import Path
from typing import get_type_hints

import pytest
import yaml

from pipelines.closure import dvc_yaml, imports

REPO = Path(__file__).resolve().parents[1]
DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))
STAGES = DVC_YAML["stages"]
# Params whose value is a mapping by design (one knob, not a section).
LEAF_MAPPINGS = {"data.splits", "pairs.mix", "train.attr_weights"}


def stage_module(name: str) -> str:
    return dvc_yaml.stage_module(name, STAGES[name])


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_deps_are_what_make_deps_writes(name):
    """A stage's code deps are its import closure, exactly as `make deps` writes them (no file missing or extra)."""
    change = dvc_yaml.stage_change(name, STAGES[name], REPO)
    assert change is None, f"{change.describe()}; run `make deps`"


def test_make_deps_keeps_the_rest_of_dvc_yaml():
    text = (REPO / "dvc.yaml").read_text(encoding="utf-8")
    assert dvc_yaml.render(text, REPO) == text, "dvc.yaml differs from what `make deps` writes; run `make deps`"


# -- params --------------------------------------------------------------------------------------------------------


def _leaves(cls: type, prefix: str) -> set[str]:
    hints = get_type_hints(cls)
    out = set()
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        key = f"{prefix}.{f.name}"
        out |= _leaves(hint, key) if dataclasses.is_dataclass(hint) else {key}
    return out


@functools.cache
def _attributes_read(module: str) -> set[str]:
    """Every attribute name the stage's code closure (its script and the library files it imports) reads."""
    names = set()
    for rel in imports.stage_files(module, REPO):
        if rel.endswith(".py"):
            tree = ast.parse((REPO / rel).read_text(encoding="utf-8"))
            names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return names


def _resolve(cls: type, section: str, attrs: list[str]) -> set[str]:
    """The leaf keys an access `params.<section>.<attrs...>` reads (stops at the first non-field, e.g. a method)."""
    key = section
    for attr in attrs:
        if not dataclasses.is_dataclass(cls) or attr not in {f.name for f in dataclasses.fields(cls)}:
            break
        cls, key = get_type_hints(cls)[attr], f"{key}.{attr}"
    return _leaves(cls, key) if dataclasses.is_dataclass(cls) else {key}


def params_read(module: str) -> set[str]:
    """Leaf params a stage script reads through `params = load_params(Params)` (Params: a dataclass whose fields
    are the sections it reads, `seed: int`, `train: TrainConfig`, ...).

    Follows aliases such as `cfg = params.index`; `params.index.factory` reads one leaf, a config object
    passed on whole (`build(vectors, cfg)`) reads every leaf below it that the closure reads by name (evaluate
    hands over the whole `index` section but reads `index.eval_queries` nowhere).
    """
    import importlib

    path = REPO / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    namespace = vars(importlib.import_module(module))
    roots: dict[str, list[str]] = {}  # local name -> attribute path below `params`
    sections: dict[str, type] = {"seed": int}
    aliases: set[ast.AST] = set()  # the right-hand sides of alias assignments

    def chain(node: ast.AST) -> tuple[str, list[str]] | None:
        attrs = []
        while isinstance(node, ast.Attribute):
            attrs.insert(0, node.attr)
            node = node.value
        return (node.id, attrs) if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):  # breadth-first: the load_params call and aliases precede their uses
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        if isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "load_params":
            roots[node.targets[0].id] = []
            (params_class,) = node.value.args
            sections.update(get_type_hints(eval(compile(ast.Expression(params_class), str(path), "eval"), namespace)))
        elif (found := chain(node.value)) and found[0] in roots and found[1]:
            roots[node.targets[0].id] = roots[found[0]] + found[1]
            aliases.add(node.value)
    assert roots, f"{module} never calls load_params"

    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    read: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Attribute, ast.Name)) or isinstance(node.ctx, ast.Store) or node in aliases:
            continue
        if isinstance(parents.get(node), ast.Attribute):
            continue  # only the outermost access of a chain counts
        found = chain(node)
        if found and found[0] in roots and (path_ := roots[found[0]] + found[1]):
            leaves = _resolve(sections[path_[0]], path_[0], path_[1:])
            if leaves != {".".join(path_)}:  # handed on whole: keep the leaves read by name
                leaves = {key for key in leaves if key.rsplit(".", 1)[-1] in _attributes_read(module)}
            read |= leaves
    return {key for key in read if key.split(".")[0] != "runtime"}


def declared_params(name: str) -> set[str]:
    return {p for p in STAGES[name].get("params", []) if isinstance(p, str)}


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_params_are_the_leaf_keys_it_reads(name):
    read = params_read(stage_module(name))
    declared = declared_params(name)
    assert not sorted(read - declared), (
        f"stage {name!r} reads {sorted(read - declared)} but dvc.yaml does not list them"
    )
    assert not sorted(declared - read), (
        f"stage {name!r} lists {sorted(declared - read)} in dvc.yaml but never reads them"
    )


def test_params_are_leaf_keys_and_runtime_is_no_stage_param():
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))

    def value(key: str):
        node = params
        for part in key.split("."):
            node = node[part]
        return node

    for name in STAGES:
        for key in declared_params(name):
            assert key.split(".")[0] != "runtime", f"stage {name!r} lists {key}: runtime knobs change only speed"
            assert not isinstance(value(key), dict) or key in LEAF_MAPPINGS, (
                f"stage {name!r} lists the section {key!r}; list its leaf keys"
            )


def test_external_paths_are_templated_deps():
    """The catalog and the checkpoint are deps of every stage that reads them, through their params."""

    def deps(name):
        return STAGES[name]["deps"]

    assert "${data.catalog}" in deps("ingest")
    for name in ("encode_kv", "train", "evaluate"):
        assert "${model.checkpoint}" in deps(name), name
