"""Planning the sample catalog: its rows in file order with their hidden truth (the canonical schema values the
pixels show), names in Myntra's word orders, and the real file's warts. The tables (article types, long tail,
colours, name phrases, geometry) live in `pipelines/catalog/sample_catalog.yaml`, the path `data.catalog` names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pipelines.catalog.sample.item import COLUMN, HEADER, IMAGE_STATES, SampleItem, SampleReport
from pipelines.errors import PipelineError
from pipelines.schema import FIELDS, UNKNOWN

MIN_ITEMS = 20
IMAGE_SIZE_RANGE = (16, 1024)
TABLES_PATH = Path(__file__).parents[1] / "sample_catalog.yaml"


def plan_sample_catalog(items: int, seed: int) -> list[SampleItem]:
    """The catalog's rows in file order, with their truth; `generate_sample_catalog` writes exactly these."""
    check_args(items, seed)
    tables = sample_tables()
    rng = np.random.default_rng([seed, 0])
    views = _view_counts(rng, items, tables)
    kinds = _allocate(len(views), {name: spec["weight"] for name, spec in tables["article_types"].items()}, rng)
    products = [_plan_product(rng, kind, tables) for kind in kinds]

    rows: list[dict[str, Any]] = []
    for index, (product, count) in enumerate(zip(products, views, strict=True)):
        for view in range(count):
            rows.append({"product": index, "view": view, **product})
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    id_space = max(60_000, 3 * items)
    ids = rng.choice(np.arange(1_500, 1_500 + id_space), size=len(rows), replace=False)
    warts = _assign_warts(rng, rows, views, tables)

    plan = []
    for i, (row, item_id) in enumerate(zip(rows, ids, strict=True)):
        fields = [str(int(item_id)), *row["fields"]]
        for column, value in warts["fields"].get(i, ()):
            fields[COLUMN[column]] = value
        plan.append(
            SampleItem(
                id=int(item_id),
                product=row["product"],
                view=row["view"],
                fields=tuple(fields),
                truth=row["truth"],
                article_type=row["article_type"],
                base_colour=row["base_colour"],
                image=warts["image"].get(i, "ok"),
                malformed=i in warts["malformed"],
            )
        )
    return plan


def summarize(plan: Sequence[SampleItem]) -> SampleReport:
    """Count what a plan writes (rows, warts, multi-view groups, article types)."""
    views = Counter(item.product for item in plan)
    multi = {product for product, count in views.items() if count > 1}
    by_state = {state: tuple(sorted(item.id for item in plan if item.image == state)) for state in IMAGE_STATES}
    columns = HEADER[1:-1]
    return SampleReport(
        rows=len(plan),
        products=len(views),
        images=len(plan) - len(by_state["missing"]),
        malformed_rows=sum(item.malformed for item in plan),
        malformed_ids=tuple(sorted(item.id for item in plan if item.malformed)),
        na_values={c: n for c in columns if (n := sum(item.fields[COLUMN[c]] == "NA" for item in plan))},
        empty_fields={c: n for c in columns if (n := sum(item.fields[COLUMN[c]] == "" for item in plan))},
        missing_images=by_state["missing"],
        zero_byte_images=by_state["zero_byte"],
        truncated_images=by_state["truncated"],
        multi_view_groups=len(multi),
        multi_view_rows=sum(views[p] for p in multi),
        article_types=dict(sorted(Counter(item.article_type for item in plan).items())),
    )


def check_args(items: int, seed: int, image_size: int | None = None) -> None:
    if not isinstance(items, (int, np.integer)) or items < MIN_ITEMS:
        raise PipelineError(f"sample catalog: items must be an integer of at least {MIN_ITEMS}, got {items!r}")
    low, high = IMAGE_SIZE_RANGE
    if image_size is not None and (not isinstance(image_size, (int, np.integer)) or not low <= image_size <= high):
        raise PipelineError(f"sample catalog: image_size must be an integer in {low}..{high} px, got {image_size!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise PipelineError(f"sample catalog: seed must be a non-negative integer, got {seed!r}")


@lru_cache(maxsize=1)
def sample_tables() -> dict[str, Any]:
    tables: dict[str, Any] = yaml.safe_load(TABLES_PATH.read_text(encoding="utf-8"))
    return tables


class _Weighted:
    """A fast weighted choice over a small table (rng.random + searchsorted)."""

    def __init__(self, table: Mapping[Any, float]) -> None:
        self.keys = list(table)
        self.cum = np.cumsum(np.asarray([float(v) for v in table.values()]))

    def __call__(self, rng: np.random.Generator) -> Any:
        return self.keys[int(np.searchsorted(self.cum, rng.random() * self.cum[-1], side="right"))]


@cache
def _weighted(path: tuple[str, ...]) -> _Weighted:
    node: Any = sample_tables()
    for key in path:
        node = node[key]
    return _Weighted({k: (v["weight"] if isinstance(v, Mapping) else v) for k, v in node.items()})


def _view_counts(rng: np.random.Generator, items: int, tables: Mapping[str, Any]) -> list[int]:
    pick = _Weighted({int(k): v for k, v in tables["views"].items()})
    counts: list[int] = []
    total = 0
    while total < items:
        count = min(pick(rng), items - total)
        counts.append(count)
        total += count
    return counts


def _allocate(n: int, weights: Mapping[str, float], rng: np.random.Generator) -> list[str]:
    """Exactly proportional counts (largest remainder), shuffled: the long tail without sampling noise."""
    names = list(weights)
    share = np.asarray([weights[k] for k in names], dtype=float)
    exact = share / share.sum() * n
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    kinds = [name for name, c in zip(names, counts, strict=True) for _ in range(c)]
    return [kinds[i] for i in rng.permutation(n)]


def _plan_product(rng: np.random.Generator, article_type: str, tables: Mapping[str, Any]) -> dict[str, Any]:
    spec = tables["article_types"][article_type]
    at = ("article_types", article_type)
    gender = _weighted(at + ("gender",))(rng)
    usage = _weighted(at + ("usage",))(rng)
    season = _weighted(at + ("season",))(rng)
    material = _weighted(at + ("material",))(rng)
    pattern = "solid" if material in tables["plain_materials"] else _weighted(at + ("pattern",))(rng)
    neckline = _weighted(at + ("neckline",))(rng) if "neckline" in spec else UNKNOWN
    sleeve = _weighted(at + ("sleeve_length",))(rng) if "sleeve_length" in spec else UNKNOWN
    fit = _weighted(at + ("fit",))(rng) if "fit" in spec else UNKNOWN
    palette = ("material_colours", material) if material in tables["material_colours"] else ("colours",)
    colour = _weighted(palette)(rng)
    year = _weighted(("years",))(rng)
    truth = {
        "category": spec["category"],
        "color": tables["colours"][colour]["color"],
        "style": tables["usages"][usage],
        "season": tables["seasons"][season],
        "material": material,
        "pattern": pattern,
        "gender": tables["genders"][gender],
        "fit": fit,
        "sleeve_length": sleeve,
        "neckline": neckline,
    }
    assert set(truth) == set(FIELDS)
    brands = tables["brands"][spec["brands"]]
    brand = brands[int(rng.integers(len(brands)))]
    name = _product_name(rng, spec, article_type, brand, gender, colour, truth, tables)
    fields = [gender, spec["master"], spec["sub"], article_type, colour, season, year, usage, name]
    return {
        "fields": fields,
        "truth": truth,
        "article_type": article_type,
        "base_colour": colour,
        "brand": brand,
        "gender_word": _weighted(("gender_words", gender))(rng),
    }


def _product_name(
    rng: np.random.Generator,
    spec: Mapping[str, Any],
    article_type: str,
    brand: str,
    gender: str,
    colour: str,
    truth: Mapping[str, str],
    tables: Mapping[str, Any],
) -> str:
    """Brand first, then some attributes in one of Myntra's word orders, the noun last (mostly)."""
    mention = tables["mention"]
    words = tables["name_words"]
    slots: dict[str, str] = {}
    if rng.random() < mention["colour"]:
        slots["colour"] = colour
    pattern = truth["pattern"]
    if rng.random() < mention["solid" if pattern == "solid" else "pattern"]:
        slots["pattern"] = _weighted(("name_words", "pattern", pattern))(rng)
    for attr in ("material", "neckline", "sleeve_length", "fit"):
        value = truth[attr]
        if value in words[attr] and rng.random() < mention[attr]:
            slots[attr] = _weighted(("name_words", attr, value))(rng)
    slots["noun"] = _weighted(("article_types", article_type, "nouns"))(rng)
    order = tables["name_orders"][int(rng.integers(len(tables["name_orders"])))]
    head = [brand]
    if rng.random() < mention["gender"]:
        head.append(_weighted(("gender_words", gender))(rng))
    name = " ".join(head + [slots[slot] for slot in order if slot in slots])
    assert "," not in name, name
    return name


def _wart_count(rate: float, items: int) -> int:
    return max(1, round(rate * items))


def _assign_warts(
    rng: np.random.Generator,
    rows: list[dict[str, Any]],
    views: list[int],
    tables: Mapping[str, Any],
) -> dict[str, Any]:
    """Pick disjoint rows for each wart; malformed names go to single-view tees (graphic ones first)."""
    n = len(rows)
    rates = tables["warts"]
    taken: set[int] = set()

    def draw(count: int, pool: Sequence[int]) -> list[int]:
        free = [i for i in pool if i not in taken]
        chosen = [free[i] for i in sorted(rng.choice(len(free), size=min(count, len(free)), replace=False))]
        taken.update(chosen)
        return chosen

    single = [i for i, r in enumerate(rows) if views[r["product"]] == 1]
    tees = [i for i in single if rows[i]["article_type"] == "Tshirts"]
    graphic = [i for i in tees if rows[i]["truth"]["pattern"] == "graphic"]
    want = _wart_count(rates["malformed_name"], n)
    malformed = draw(want, graphic)
    malformed += draw(want - len(malformed), tees)
    malformed += draw(want - len(malformed), single)

    fields: dict[int, list[tuple[str, str]]] = {}
    slogans = tables["comma_slogans"]
    for i in malformed:
        row = rows[i]
        slogan = slogans[int(rng.integers(len(slogans)))]
        noun = _weighted(("article_types", row["article_type"], "nouns"))(rng)
        name = f"{row['brand']} {row['gender_word']} {slogan} {row['base_colour']} {noun}"
        fields.setdefault(i, []).append(("productDisplayName", name))
    everyone = range(n)
    for wart, column, value in (
        ("na_usage", "usage", "NA"),
        ("na_colour", "baseColour", "NA"),
        ("empty_season", "season", ""),
        ("empty_year", "year", ""),
        ("empty_usage", "usage", ""),
    ):
        for i in draw(_wart_count(rates[wart], n), everyone):
            fields.setdefault(i, []).append((column, value))

    image: dict[int, str] = {}
    for i in draw(_wart_count(rates["missing_image"], n), everyone):
        image[i] = "missing"
    cap = int(tables["unreadable_cap"] * n)
    zero = min(_wart_count(rates["zero_byte_image"], n), cap)
    truncated = min(_wart_count(rates["truncated_image"], n), cap - zero)
    for i in draw(zero, everyone):
        image[i] = "zero_byte"
    for i in draw(truncated, everyone):
        image[i] = "truncated"
    return {"fields": fields, "image": image, "malformed": set(malformed)}
