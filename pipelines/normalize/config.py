"""The `schema` params section: how raw catalog fields become the fixed attribute schema."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaConfig:
    rules: bool = True
