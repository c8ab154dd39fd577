"""dvc.yaml declares exactly what each stage loads: the project files of its import closure, and its params by leaf key.

The code side follows each stage's real import closure (`pipelines.closure`, lazy exports and data files
included); the params side reads which `params.<section>.<leaf>` a stage's script uses, where a section or
sub-section handed whole to library code counts as every leaf below it. `runtime` is read but never declared.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import get_type_hints

import pytest
import yaml

from pipelines.closure import stage_files

REPO = Path(__file__).resolve().parents[1]
DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))
STAGES = DVC_YAML["stages"]
PROJECT_DIRS = ("pipelines/", "stages/")
TEMPLATED = re.compile(r"\$\{[^}]+\}")
# Params whose value is a mapping by design (one knob, not a section).
LEAF_MAPPINGS = {"data.splits", "pairs.mix", "train.attr_weights"}


def stage_module(name: str) -> str:
    match = re.fullmatch(r"python -m (stages\.\w+)", STAGES[name]["cmd"])
    assert match, f"stage {name!r}: cmd must be `python -m stages.<name>`, got {STAGES[name]['cmd']!r}"
    return match[1]


def declared_files(name: str) -> set[str]:
    """The project files a stage's deps cover (a declared folder covers every file under it)."""
    files = set()
    for dep in STAGES[name].get("deps", []):
        if TEMPLATED.search(dep) or not dep.startswith(PROJECT_DIRS):
            continue
        path = REPO / dep
        assert path.exists(), f"stage {name!r}: dep {dep} does not exist"
        found = (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        files.update(p.relative_to(REPO).as_posix() for p in found)
    return files


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_deps_are_the_files_it_loads(name):
    loaded = set(stage_files(stage_module(name), REPO))
    declared = declared_files(name)
    undeclared = sorted(loaded - declared)
    assert not undeclared, (
        f"stage {name!r} loads {undeclared[0]}, which is not among its deps in dvc.yaml "
        f"({len(undeclared)} such files: {undeclared})"
    )
    unused = sorted(declared - loaded)
    assert not unused, f"stage {name!r} declares {unused[0]} in dvc.yaml but never loads it ({unused})"


# -- params --------------------------------------------------------------------------------------------------------


def _leaves(cls: type, prefix: str) -> set[str]:
    hints = get_type_hints(cls)
    out = set()
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        key = f"{prefix}.{f.name}"
        out |= _leaves(hint, key) if dataclasses.is_dataclass(hint) else {key}
    return out


def _resolve(cls: type, section: str, attrs: list[str]) -> set[str]:
    """The leaf keys an access `params.<section>.<attrs...>` reads (stops at the first non-field, e.g. a method)."""
    key = section
    for attr in attrs:
        if not dataclasses.is_dataclass(cls) or attr not in {f.name for f in dataclasses.fields(cls)}:
            break
        cls, key = get_type_hints(cls)[attr], f"{key}.{attr}"
    return _leaves(cls, key) if dataclasses.is_dataclass(cls) else {key}


def params_read(module: str) -> set[str]:
    """Leaf params a stage script reads through `params = load_params(section=Config, ...)`.

    Follows aliases such as `cfg = params.index`; `params.index.factory` reads one leaf, a config object
    passed on whole (`build(vectors, cfg)`) reads every leaf below it.
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
            sections.update(
                {
                    kw.arg: eval(compile(ast.Expression(kw.value), str(path), "eval"), namespace)
                    for kw in node.value.keywords
                }
            )
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
            read |= _resolve(sections[path_[0]], path_[0], path_[1:])
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
