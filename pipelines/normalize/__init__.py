"""Normalize: raw catalog rows -> canonical schema attributes, product groups, splits and a data profile."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports
from pipelines.normalize.config import SchemaConfig

if TYPE_CHECKING:
    from pipelines.normalize.items import (
        ITEM_COLUMNS as ITEM_COLUMNS,
        NormalizeResult as NormalizeResult,
        check_catalog as check_catalog,
        normalize_catalog as normalize_catalog,
    )
    from pipelines.normalize.profile import (
        build_profile as build_profile,
        render_profile_markdown as render_profile_markdown,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["SchemaConfig"]
