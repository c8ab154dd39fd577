"""The built-in sample catalog: a deterministic Kaggle-Myntra-layout catalog whose images show their attributes.

`generate_sample_catalog` (render.py) writes `styles.csv` (the real header, Myntra vocabulary, the real file's
warts) and `images/<id>.jpg` (garments drawn by `garments/` so that article type, colour, pattern, material,
neckline and sleeve length are visible). `plan_sample_catalog` (plan.py) returns the same rows as `SampleItem`s
(item.py) with their hidden truth, which tests and extractor checks compare against.
"""

from pipelines.catalog.sample.item import COLUMN, HEADER, IMAGE_STATES, SampleItem, SampleReport
from pipelines.catalog.sample.plan import plan_sample_catalog, sample_tables, summarize
from pipelines.catalog.sample.render import generate_sample_catalog, render_item

__all__ = [
    "COLUMN",
    "HEADER",
    "IMAGE_STATES",
    "SampleItem",
    "SampleReport",
    "generate_sample_catalog",
    "plan_sample_catalog",
    "render_item",
    "sample_tables",
    "summarize",
]
