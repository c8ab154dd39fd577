"""Lazy package exports (PEP 562): loading params imports every package, which must not import torch."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, table: dict[str, list[str]]) -> tuple[Callable[[str], Any], list[str]]:
    """Return `(__getattr__, __all__)` for `package`, whose names live in submodules: {submodule: [names]}."""
    where = {name: module for module, names in table.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{where[name]}"), name)

    return __getattr__, sorted(where)
