"""Normalize: raw catalog rows -> canonical schema attributes, product groups, splits and a data profile."""

from pipelines.lazy import lazy_exports
from pipelines.normalize.config import SchemaConfig

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "items": ["ITEM_COLUMNS", "NormalizeResult", "check_catalog", "normalize_catalog"],
        "profile": ["build_profile", "render_profile_markdown"],
    },
)
__all__ += ["SchemaConfig"]
