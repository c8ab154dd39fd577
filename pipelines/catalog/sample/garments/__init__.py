"""The procedural garment renderer of the sample catalog: one drawer per silhouette kind, a look per product."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from pipelines.catalog.sample.garments.accessories import Bag, Shoe
from pipelines.catalog.sample.garments.bottoms import Legs, Skirt
from pipelines.catalog.sample.garments.drawer import Drawer
from pipelines.catalog.sample.garments.look import product_look
from pipelines.catalog.sample.garments.tops import Top
from pipelines.catalog.sample.item import SampleItem

JPEG_QUALITY = 90


def encode_jpeg(image: Image.Image) -> bytes:
    """Baseline JPEG at a fixed quality: the same pixels always give the same bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


DRAWERS: dict[str, type[Drawer]] = {"top": Top, "legs": Legs, "skirt": Skirt, "shoe": Shoe, "bag": Bag}


def render_garment(item: SampleItem, image_size: int, seed: int, tables: Mapping[str, Any]) -> Image.Image:
    """Draw one view of an item: the product's look (seeded by product) posed with this view's jitter."""
    spec = tables["article_types"][item.article_type]
    sil = tables["silhouettes"][spec["silhouette"]]
    look = product_look(item, spec, image_size, seed, tables)
    view_rng = np.random.default_rng([seed, 2, item.id])
    return DRAWERS[sil["kind"]](look, sil, tables).render(view_rng)
