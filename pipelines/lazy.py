"""Lazy package exports (PEP 562): loading params imports every package, which must not import torch.

A package lists what it exports as imports under `if TYPE_CHECKING:` in its `__init__.py`, so type checkers and
IDEs see the real names, and `lazy_exports` turns that same block into a module `__getattr__` that imports the
submodule on first use. The import closure (pipelines/closure.py) reads the block with `type_checking_exports`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any


def lazy_exports(package: str, init_file: str) -> tuple[Callable[[str], Any], list[str]]:
    """`(__getattr__, __all__)` for `package`: the names its `__init__.py` imports under `if TYPE_CHECKING:`."""
    where = type_checking_exports(ast.parse(Path(init_file).read_text(encoding="utf-8")), package)

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(where[name]), name)

    return __getattr__, sorted(where)


def type_checking_exports(tree: ast.Module, package: str) -> dict[str, str]:
    """{name: absolute module} of the `from <module> import <names>` under a top-level `if TYPE_CHECKING:`."""
    exports = {}
    for node in type_checking_blocks(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            # `from .loop import Trainer` in package `pipelines.training` is `pipelines.training.loop`
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = f"{base}.{node.module}" if base else node.module
            for alias in node.names:
                exports[alias.asname or alias.name] = module
    return exports


def type_checking_blocks(tree: ast.Module) -> Iterator[ast.stmt]:
    """The statements directly inside the module's top-level `if TYPE_CHECKING:` blocks."""
    for node in tree.body:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            yield from node.body


def is_type_checking(test: ast.expr) -> bool:
    """Whether an `if` test is `TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
