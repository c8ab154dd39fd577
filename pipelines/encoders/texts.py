"""The text of an item as the CLIP text tower reads it (kept apart so evaluation can use it without the encoders)."""

from __future__ import annotations

import pandas as pd


def clip_texts(items: pd.DataFrame) -> list[str]:
    """The CLIP text of each item: its title, then its description when it has one."""
    return [
        f"{title}. {desc}" if desc else str(title)
        for title, desc in zip(items["title"].fillna(""), items["desc"].fillna(""), strict=True)
    ]
