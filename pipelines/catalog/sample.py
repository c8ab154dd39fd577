"""The built-in sample catalog: a deterministic Kaggle-Myntra-layout catalog whose images show their attributes.

`generate_sample_catalog` writes `styles.csv` (the real header, Myntra vocabulary, the real file's warts)
and `images/<id>.jpg` (garments drawn so that article type, colour, pattern, material, neckline and
sleeve length are visible). `plan_sample_catalog` returns the same rows with their hidden truth (the
canonical schema values the pixels show), which tests and rule-extractor checks can compare against.
The tables (article types, long tail, colours, name phrases, geometry) live in `sample_catalog.yaml`.
"""

from __future__ import annotations

import io
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image, ImageChops, ImageDraw
from tqdm import tqdm

from pipelines.errors import PipelineError
from pipelines.io import atomic_path
from pipelines.schema import FIELDS, UNKNOWN

log = logging.getLogger(__name__)

HEADER = (
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
)
COLUMN = {name: i for i, name in enumerate(HEADER)}
JPEG_QUALITY = 90
MIN_ITEMS = 20
IMAGE_SIZE_RANGE = (16, 1024)
IMAGE_STATES = ("ok", "missing", "zero_byte", "truncated")
TABLES_PATH = Path(__file__).with_name("sample_catalog.yaml")

RGB = tuple[int, int, int]
Point = tuple[float, float]


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleItem:
    """One row of the sample catalog: what styles.csv says, what the image shows, and the image's fate."""

    id: int
    product: int  # rows with the same product are views of one article (same name)
    view: int  # 0 for the first image of a product
    fields: tuple[str, ...]  # the CSV values in HEADER order, as written (NA / empty warts included)
    truth: Mapping[str, str]  # schema field -> canonical value the pixels show (`unknown`: not applicable)
    article_type: str  # the true articleType (also fields[4])
    base_colour: str  # the true Myntra colour drawn (fields[5] may say NA)
    image: str  # ok | missing | zero_byte | truncated
    malformed: bool  # the name holds an unquoted comma, so the line has 11 fields

    @property
    def line(self) -> str:
        """The styles.csv line, unquoted as in the real file (malformed rows really are malformed)."""
        return ",".join(self.fields)

    @property
    def name(self) -> str:
        return self.fields[COLUMN["productDisplayName"]]


@dataclass(frozen=True)
class SampleReport:
    """What the generator wrote, warts counted, for ingest's manifest."""

    rows: int
    products: int
    images: int  # image files written (zero-byte and truncated included)
    malformed_rows: int
    malformed_ids: tuple[int, ...]
    na_values: Mapping[str, int]  # column -> rows with a literal NA
    empty_fields: Mapping[str, int]  # column -> rows with an empty value
    missing_images: tuple[int, ...]  # ids whose image file was not written
    zero_byte_images: tuple[int, ...]
    truncated_images: tuple[int, ...]
    multi_view_groups: int  # products drawn more than once
    multi_view_rows: int  # rows belonging to those products
    article_types: Mapping[str, int]  # articleType -> rows

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, sorted mappings)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
            elif isinstance(value, Mapping):
                out[key] = dict(sorted(value.items()))
        return out


def generate_sample_catalog(out_dir: Path, items: int, image_size: int, seed: int) -> SampleReport:
    """Write `out_dir/styles.csv` and `out_dir/images/<id>.jpg` like a Kaggle Myntra download; same seed, same bytes.

    `items` is the number of CSV rows (one image each, multi-view products included). Images are
    written first and styles.csv last, atomically, so an interrupted run leaves no styles.csv.
    """
    _check_args(items, seed, image_size)
    out_dir = Path(out_dir)
    images_dir = out_dir / "images"
    if (out_dir / "styles.csv").exists() or (images_dir.is_dir() and any(images_dir.iterdir())):
        raise PipelineError(
            f"{out_dir}: expected an empty folder for the sample catalog, found an existing styles.csv or images/"
        )
    images_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_sample_catalog(items, seed)
    log.info("sample catalog: drawing %d images of %d px (seed %d)", items, image_size, seed)
    for item in tqdm(plan, desc="sample images", unit="img", disable=None, leave=False):
        if item.image == "missing":
            continue
        path = images_dir / f"{item.id}.jpg"
        if item.image == "zero_byte":
            path.write_bytes(b"")
            continue
        data = encode_jpeg(render_item(item, image_size, seed))
        if item.image == "truncated":
            cut = np.random.default_rng([seed, 4, item.id]).uniform(0.35, 0.7)
            data = data[: int(len(data) * cut)]
        path.write_bytes(data)
    text = "\n".join([",".join(HEADER)] + [item.line for item in plan]) + "\n"
    with atomic_path(out_dir / "styles.csv") as tmp:
        tmp.write_bytes(text.encode("utf-8"))
    report = summarize(plan)
    log.info(
        "sample catalog: %d rows, %d products, %d multi-view groups, %d malformed rows, "
        "%d missing / %d zero-byte / %d truncated images",
        report.rows,
        report.products,
        report.multi_view_groups,
        report.malformed_rows,
        len(report.missing_images),
        len(report.zero_byte_images),
        len(report.truncated_images),
    )
    return report


def plan_sample_catalog(items: int, seed: int) -> list[SampleItem]:
    """The catalog's rows in file order, with their truth; `generate_sample_catalog` writes exactly these."""
    _check_args(items, seed)
    tables = _tables()
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


def encode_jpeg(image: Image.Image) -> bytes:
    """Baseline JPEG at a fixed quality: the same pixels always give the same bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def render_item(item: SampleItem, image_size: int, seed: int) -> Image.Image:
    """Draw one view of an item: the product's look (seeded by product) posed with this view's jitter."""
    tables = _tables()
    spec = tables["article_types"][item.article_type]
    sil = tables["silhouettes"][spec["silhouette"]]
    look = _product_look(item, spec, image_size, seed, tables)
    view_rng = np.random.default_rng([seed, 2, item.id])
    return _DRAWERS[sil["kind"]](look, sil, tables).render(view_rng)


# --------------------------------------------------------------------------------------------------
# Planning: rows, names, warts
# --------------------------------------------------------------------------------------------------


def _check_args(items: int, seed: int, image_size: int | None = None) -> None:
    if not isinstance(items, (int, np.integer)) or items < MIN_ITEMS:
        raise PipelineError(f"sample catalog: items must be an integer of at least {MIN_ITEMS}, got {items!r}")
    low, high = IMAGE_SIZE_RANGE
    if image_size is not None and (not isinstance(image_size, (int, np.integer)) or not low <= image_size <= high):
        raise PipelineError(f"sample catalog: image_size must be an integer in {low}..{high} px, got {image_size!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise PipelineError(f"sample catalog: seed must be a non-negative integer, got {seed!r}")


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    return yaml.safe_load(TABLES_PATH.read_text(encoding="utf-8"))


class _Weighted:
    """A fast weighted choice over a small table (rng.random + searchsorted)."""

    def __init__(self, table: Mapping[Any, float]) -> None:
        self.keys = list(table)
        self.cum = np.cumsum(np.asarray([float(v) for v in table.values()]))

    def __call__(self, rng: np.random.Generator) -> Any:
        return self.keys[int(np.searchsorted(self.cum, rng.random() * self.cum[-1], side="right"))]


@cache
def _weighted(path: tuple[str, ...]) -> _Weighted:
    node: Any = _tables()
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


# --------------------------------------------------------------------------------------------------
# Drawing: per-catalog texture and print tiles, per-product look, per-view pose
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Look:
    """Everything that makes one product look like itself in every view."""

    size: int
    seed: int  # the catalog's seed (texture and print tiles)
    truth: Mapping[str, str]
    variant: str
    base: np.ndarray  # float32 RGB fill, jittered shade of the Myntra colour
    overlay: np.ndarray  # float32 RGB of the pattern's contrast colour
    width: float  # fit and cut (multiplies garment widths)
    length: float
    pattern_period: float
    pattern_phase: tuple[float, float]
    stripe_ratio: float
    stripes_vertical: bool
    tile_index: int
    tile_offset: tuple[int, int]
    highlight: tuple[float, float]  # leather sheen: band position and angle
    graphic: int


def _product_look(item: SampleItem, spec: Mapping[str, Any], size: int, seed: int, tables: Mapping[str, Any]) -> _Look:
    rng = np.random.default_rng([seed, 1, item.product])
    material = item.truth["material"]
    palette = tables["material_colours"].get(material, {})
    rgb = palette.get(item.base_colour, tables["colours"][item.base_colour])["rgb"]
    base = np.asarray(rgb, dtype=np.float32) * rng.uniform(0.9, 1.08) + rng.uniform(-9, 9, 3)
    base = np.clip(base, 0, 255).astype(np.float32)
    contrast = [c for c in tables["overlay_colours"] if abs(_luma(c) - _luma(base)) > 85] or [[128, 128, 128]]
    overlay = np.asarray(contrast[int(rng.integers(len(contrast)))], dtype=np.float32)
    fit = tables["fit_width"][item.truth["fit"]]
    return _Look(
        size=size,
        seed=seed,
        truth=item.truth,
        variant=spec.get("variant", ""),
        base=base,
        overlay=overlay,
        width=fit * rng.uniform(0.95, 1.05),
        length=rng.uniform(0.95, 1.04),
        pattern_period=size * rng.uniform(1 / 10.5, 1 / 7),
        pattern_phase=tuple(rng.uniform(0, size, 2)),
        stripe_ratio=rng.uniform(0.3, 0.48),
        stripes_vertical=spec.get("stripes") == "vertical",
        tile_index=int(rng.integers(_TILE_VARIANTS)),
        tile_offset=tuple(int(v) for v in rng.integers(0, size, 2)),
        highlight=(rng.uniform(0.3, 0.6), rng.uniform(-0.8, -0.3)),
        graphic=int(rng.integers(4)),
    )


def _luma(rgb: Sequence[float]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _shade(base: np.ndarray, k: float) -> RGB:
    """A trim colour: darker than the fill, or lighter on near-black fills (so seams stay visible)."""
    if _luma(base) < 70:
        out = base + (255 - base) * (1 - k) * 0.9
    else:
        out = base * k
    return tuple(int(v) for v in np.clip(out, 0, 255))


_TILE_VARIANTS = 6


@lru_cache(maxsize=4)
def _tiles(size: int, seed: int) -> dict[str, np.ndarray]:
    """Texture and print tiles twice the image side, drawn once per catalog and cropped per product."""
    rng = np.random.default_rng([seed, 3, size])
    big = 2 * size
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32)
    twill = max(3.0, size / 40)
    rib = max(3.0, size / 30)
    tiles = {
        "noise": rng.normal(0, 1, (big, big)).astype(np.float32),
        "twill": np.sin(2 * np.pi * (xx + yy) / twill).astype(np.float32),
        "rib": np.cos(2 * np.pi * xx / rib).astype(np.float32),
        "weave": (((xx.astype(int) // 1) + (yy.astype(int) // 1)) % 2 * 2 - 1).astype(np.float32),
        "smooth": _smooth_noise(rng, big, cells=6),
    }
    for kind, draw_motif in (("floral", _draw_flower), ("printed", _draw_print_motif)):
        stack = []
        for _ in range(_TILE_VARIANTS):
            tile = Image.new("L", (big, big), 0)
            draw = ImageDraw.Draw(tile)
            step = size / (5.5 if kind == "floral" else 7.0)
            for gy in np.arange(0, big, step):
                for gx in np.arange(0, big, step):
                    cx, cy = gx + rng.uniform(0, step * 0.6), gy + rng.uniform(0, step * 0.6)
                    draw_motif(draw, cx, cy, step, rng)
            stack.append(np.asarray(tile, dtype=np.float32) / 255.0)
        tiles[kind] = np.stack(stack)
    return tiles


def _smooth_noise(rng: np.random.Generator, big: int, cells: int) -> np.ndarray:
    coarse = Image.fromarray((rng.uniform(0, 255, (cells, cells))).astype(np.uint8), "L")
    return np.asarray(coarse.resize((big, big), Image.Resampling.BICUBIC), dtype=np.float32) / 127.5 - 1.0


def _draw_flower(draw: ImageDraw.ImageDraw, cx: float, cy: float, step: float, rng: np.random.Generator) -> None:
    r = step * rng.uniform(0.14, 0.2)
    turn = rng.uniform(0, 2 * np.pi)
    for k in range(5):
        a = turn + k * 2 * np.pi / 5
        px, py = cx + math.cos(a) * r * 1.1, cy + math.sin(a) * r * 1.1
        draw.ellipse((px - r * 0.75, py - r * 0.75, px + r * 0.75, py + r * 0.75), fill=255)
    draw.ellipse((cx - r * 0.45, cy - r * 0.45, cx + r * 0.45, cy + r * 0.45), fill=90)


def _draw_print_motif(draw: ImageDraw.ImageDraw, cx: float, cy: float, step: float, rng: np.random.Generator) -> None:
    r = step * rng.uniform(0.15, 0.3)
    kind = int(rng.integers(3))
    a = rng.uniform(0, 2 * np.pi)
    if kind == 0:  # triangle
        pts = [(cx + r * math.cos(a + k * 2.094), cy + r * math.sin(a + k * 2.094)) for k in range(3)]
        draw.polygon(pts, fill=255)
    elif kind == 1:  # leaf-like stroke
        draw.line(
            [(cx - r * math.cos(a), cy - r * math.sin(a)), (cx + r * math.cos(a), cy + r * math.sin(a))],
            fill=255,
            width=max(1, int(r * 0.6)),
        )
    else:  # diamond
        draw.polygon([(cx, cy - r), (cx + r * 0.6, cy), (cx, cy + r), (cx - r * 0.6, cy)], fill=255)


def _texture(look: _Look, tiles: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Material as pixels: (multiplicative, additive) maps. Denim twill, leather sheen, knit ribs, plain cotton."""
    s = look.size
    oy, ox = look.tile_offset
    crop = {k: v[oy : oy + s, ox : ox + s] for k, v in tiles.items() if v.ndim == 2}
    material = look.truth["material"]
    return _TEXTURES.get(material, _TEXTURES["cotton"])(look, crop)


def _cotton(look: _Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return 1.0 + 0.025 * t["noise"] + 0.03 * t["smooth"], np.zeros_like(t["noise"])


def _canvas(look: _Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return 1.0 + 0.05 * t["weave"] + 0.03 * t["noise"], 3.0 * t["weave"]


def _denim(look: _Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # twill: diagonal light weft lines over the indigo, slubby, faded where the fabric bends
    return 0.95 + 0.1 * t["twill"] + 0.04 * t["noise"] + 0.1 * t["smooth"], 16.0 * np.maximum(t["twill"], 0)


def _leather(look: _Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    s = look.size
    xx, yy = (v / np.float32(s) for v in _coordinates(s))
    pos, slope = look.highlight
    band = np.exp(-(((yy - pos) - slope * (xx - 0.5)) ** 2) / (2 * 0.07**2))
    grain = 0.02 * t["noise"]
    return 0.85 + 0.25 * band + grain + 0.08 * (0.5 - yy), 80.0 * band**2


def _knit(look: _Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # vertical ribs: alternating raised and sunken columns, visible on dark yarn too (additive term)
    return 1.0 + 0.13 * t["rib"] + 0.03 * t["noise"], 12.0 * t["rib"]


_TEXTURES: dict[str, Callable[[_Look, Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]] = {
    "cotton": _cotton,
    "canvas": _canvas,
    "denim": _denim,
    "leather": _leather,
    "knit": _knit,
}


def _pattern_alpha(look: _Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Where the pattern's contrast colour covers the fabric (0..1), or None for plain fabric."""
    fn = _PATTERNS.get(look.truth["pattern"])
    return None if fn is None else fn(look, tiles)


def _grid(look: _Look) -> tuple[np.ndarray, np.ndarray]:
    xx, yy = _coordinates(look.size)
    return xx + np.float32(look.pattern_phase[0]), yy + np.float32(look.pattern_phase[1])


@lru_cache(maxsize=4)
def _coordinates(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx, yy


def _striped(look: _Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
    xx, yy = _grid(look)
    axis = xx if look.stripes_vertical else yy
    period = look.pattern_period * (0.6 if look.stripes_vertical else 1.0)
    return ((axis % period) < period * look.stripe_ratio).astype(np.float32)


def _checked(look: _Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
    xx, yy = _grid(look)
    p = look.pattern_period
    bars = ((xx % p) < p * 0.38).astype(np.float32) + ((yy % p) < p * 0.38).astype(np.float32)
    return np.minimum(0.5 * bars, 0.85) + 0.15 * (((xx % p) < p * 0.06) | ((yy % p) < p * 0.06))


def _dotted(look: _Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
    xx, yy = _grid(look)
    p = look.pattern_period * 0.85
    row = np.floor(yy / p)
    dx = ((xx + (row % 2) * p / 2) % p) - p / 2
    dy = (yy % p) - p / 2
    return ((dx * dx + dy * dy) < (p * 0.24) ** 2).astype(np.float32)


def _tiled(kind: str) -> Callable[[_Look, Mapping[str, np.ndarray]], np.ndarray]:
    def alpha(look: _Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
        oy, ox = look.tile_offset
        return tiles[kind][look.tile_index, oy : oy + look.size, ox : ox + look.size]

    return alpha


# graphic: one big chest print, drawn by the silhouette (see _Top._graphic); solid: plain fabric
_PATTERNS: dict[str, Callable[[_Look, Mapping[str, np.ndarray]], np.ndarray]] = {
    "striped": _striped,
    "checked": _checked,
    "dotted": _dotted,
    "floral": _tiled("floral"),
    "printed": _tiled("printed"),
}


class _Drawer:
    """Base drawer: a silhouette mask, filled with texture and pattern, trimmed with details, then posed."""

    def __init__(self, look: _Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
        self.look = look
        self.sil = sil
        self.tables = tables
        self.s = look.size

    # unit coordinates -> pixels
    def p(self, x: float, y: float) -> Point:
        return (x * self.s, y * self.s)

    def pts(self, points: Sequence[Point]) -> list[Point]:
        return [self.p(x, y) for x, y in points]

    def w(self, k: float) -> int:
        return max(1, round(k * self.s))

    @staticmethod
    def mirror(points: Sequence[Point]) -> list[Point]:
        return [(1.0 - x, y) for x, y in reversed(points)]

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        raise NotImplementedError

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        raise NotImplementedError

    def render(self, view_rng: np.random.Generator) -> Image.Image:
        s = self.s
        look = self.look
        mask = Image.new("L", (s, s), 0)
        self.draw_mask(ImageDraw.Draw(mask))

        tiles = _tiles(s, look.seed)
        mult, add = _texture(look, tiles)
        alpha = _pattern_alpha(look, tiles)
        light = np.float32(view_rng.uniform(0.94, 1.06))  # lighting of this photo
        if alpha is None:
            fill = (look.base * light) * mult[..., None]
        else:
            a = alpha[..., None]
            fill = (look.base * light + (look.overlay - look.base) * light * a) * mult[..., None]
        fill += add[..., None]
        fabric = Image.fromarray(np.clip(fill, 0, 255).astype(np.uint8), "RGB")

        level = view_rng.uniform(236, 252)
        background = tuple(int(round(level + t)) for t in view_rng.uniform(-3, 3, 3))
        image = Image.composite(fabric, Image.new("RGB", (s, s), background), mask)
        # a thin darker outline, so white garments read against the white studio background
        inside = np.asarray(mask) > 127
        core = inside.copy()
        core[1:, :] &= inside[:-1, :]
        core[:-1, :] &= inside[1:, :]
        core[:, 1:] &= inside[:, :-1]
        core[:, :-1] &= inside[:, 1:]
        edge = Image.fromarray(((inside & ~core) * np.uint8(255)).astype(np.uint8), "L")
        image = Image.composite(ImageChops.multiply(image, Image.new("RGB", (s, s), (178, 178, 178))), image, edge)
        self.draw_details(ImageDraw.Draw(image))
        return self._pose(image, view_rng, background)

    def _pose(self, image: Image.Image, rng: np.random.Generator, background: RGB) -> Image.Image:
        s = self.s
        angle = math.radians(rng.uniform(-6, 6))
        scale = rng.uniform(0.86, 1.02)
        tx, ty = rng.uniform(-0.05, 0.05, 2) * s
        c = s / 2
        cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
        # output pixel -> input pixel: rotate/scale about the centre, after shifting by (tx, ty)
        a, b, d, e = cos, sin, -sin, cos
        cx, cy = c + tx, c + ty
        coeffs = (a, b, c - a * cx - b * cy, d, e, c - d * cx - e * cy)
        return image.transform(
            (s, s), Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR, fillcolor=background
        )


class _Top(_Drawer):
    """Tees, shirts, tops, sweaters, cardigans, jackets and dresses: torso, sleeves, neckline, trims."""

    def __init__(self, look: _Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
        super().__init__(look, sil, tables)
        self.sy = sil["shoulder_y"]
        self.hem = self.sy + (sil["hem_y"] - self.sy) * look.length
        self.hw = sil["half_width"] * look.width
        self.nw = sil["neck"]
        self.neckline = look.truth["neckline"]
        self.sleeve = look.truth["sleeve_length"]
        self.neck_bottom = self.sy + tables["neckline_depth"][self.neckline]
        self.waist_y = sil.get("waist_y", (self.sy + self.hem) / 2 + 0.04)
        sy, hw, nw = self.sy, self.hw, self.nw
        if self.sleeve == "sleeveless":
            self.shoulder = (0.5 - hw * 0.66, sy + 0.005)
            armhole = [(0.5 - hw * 0.70, sy + 0.07), (0.5 - hw * 0.86, sy + 0.13)]
        else:
            self.shoulder = (0.5 - hw * 1.03, sy + 0.035)
            armhole = []
        self.armpit = (0.5 - hw, sy + 0.165)
        left = [
            (0.5 - nw, sy - 0.01),
            self.shoulder,
            *armhole,
            self.armpit,
            (0.5 - hw * sil["waist"], self.waist_y),
            (0.5 - hw * sil["hem_flare"], self.hem),
        ]
        self.torso = left + self.mirror(left)
        self.sleeves = [] if self.sleeve == "sleeveless" else self._sleeve_quads()

    def _sleeve_quads(self) -> list[list[Point]]:
        spec = self.tables["sleeves"][self.sleeve]
        angle = math.radians(spec["angle"])
        d = (-math.cos(angle), math.sin(angle))
        perp = (math.sin(angle), math.cos(angle))
        length, cuff = spec["length"] * self.look.length, spec["cuff"] * self.look.width
        sx, sy = self.shoulder
        ux, uy = sx + d[0] * length, sy + d[1] * length
        vx, vy = ux + perp[0] * cuff, uy + perp[1] * cuff
        left = [self.shoulder, (ux, uy), (vx, vy), self.armpit]
        self.cuff_dir = d
        return [left, [(1 - x, y) for x, y in left]]

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        for quad in self.sleeves:
            draw.polygon(self.pts(quad), fill=255)
        draw.polygon(self.pts(self.torso), fill=255)
        _NECK_MASKS[self.neckline](self, draw)

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        base = self.look.base
        seam = _shade(base, 0.62)
        _HEM_TRIMS[self.sil["hem_trim"]](self, draw, seam)
        for quad in self.sleeves:
            _CUFF_TRIMS[self.sil["cuff"]](self, draw, quad, seam)
        _FRONTS[self.sil["front"]](self, draw, seam)
        _POCKETS[self.sil["pocket"]](self, draw, seam)
        _NECK_TRIMS[self.neckline](self, draw, seam)
        if self.look.truth["pattern"] == "graphic":
            self._graphic(draw)

    def _graphic(self, draw: ImageDraw.ImageDraw) -> None:
        colour = tuple(int(v) for v in self.look.overlay)
        cx, cy = 0.5, self.neck_bottom + 0.16
        r = 0.11
        kind = self.look.graphic
        if kind == 0:  # badge: disc with a ring
            draw.ellipse(self.pts([(cx - r, cy - r), (cx + r, cy + r)]), fill=colour)
            draw.ellipse(
                self.pts([(cx - r * 0.6, cy - r * 0.6), (cx + r * 0.6, cy + r * 0.6)]),
                outline=tuple(int(v) for v in self.look.base),
                width=self.w(0.02),
            )
        elif kind == 1:  # star
            star = [
                (
                    cx + (r if k % 2 == 0 else r * 0.45) * math.sin(k * math.pi / 5),
                    cy - (r if k % 2 == 0 else r * 0.45) * math.cos(k * math.pi / 5),
                )
                for k in range(10)
            ]
            draw.polygon(self.pts(star), fill=colour)
        elif kind == 2:  # slogan: three bars of block letters
            for k, width in enumerate((0.9, 1.2, 0.7)):
                y = cy - r * 0.8 + k * r * 0.75
                draw.rectangle(self.pts([(cx - r * width, y), (cx + r * width, y + r * 0.45)]), fill=colour)
        else:  # number on a panel
            draw.rectangle(self.pts([(cx - r, cy - r), (cx + r, cy + r)]), fill=colour)
            seven = [(cx - r * 0.3, cy - r * 0.6), (cx + r * 0.3, cy - r * 0.6), (cx - r * 0.2, cy + r * 0.7)]
            draw.line(self.pts(seven), fill=tuple(int(v) for v in self.look.base), width=self.w(0.03))


# ---- necklines: a mask edit (cut or add) and a trim, both at the top of the garment ----


def _round_box(t: _Top) -> list[Point]:
    return t.pts([(0.5 - t.nw, 2 * t.sy - t.neck_bottom - 0.02), (0.5 + t.nw, t.neck_bottom)])


def _neck_round(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_round_box(t), fill=0)


def _trim_round(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    draw.arc(_round_box(t), 0, 180, fill=seam, width=t.w(0.022))


def _neck_v(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(t.pts([(0.5 - t.nw, t.sy - 0.03), (0.5 + t.nw, t.sy - 0.03), (0.5, t.neck_bottom)]), fill=0)


def _trim_v(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    draw.line(
        t.pts([(0.5 - t.nw, t.sy - 0.01), (0.5, t.neck_bottom), (0.5 + t.nw, t.sy - 0.01)]),
        fill=seam,
        width=t.w(0.022),
        joint="curve",
    )


def _neck_square(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(t.pts([(0.5 - t.nw * 1.15, t.sy - 0.03), (0.5 + t.nw * 1.15, t.neck_bottom)]), fill=0)


def _trim_square(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    x0, x1, y = 0.5 - t.nw * 1.15, 0.5 + t.nw * 1.15, t.neck_bottom
    draw.line(t.pts([(x0, t.sy - 0.005), (x0, y), (x1, y), (x1, t.sy - 0.005)]), fill=seam, width=t.w(0.02))


def _boat_box(t: _Top) -> list[Point]:
    return t.pts([(0.5 - t.hw * 0.72, t.sy - 0.04), (0.5 + t.hw * 0.72, t.neck_bottom)])


def _neck_boat(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_boat_box(t), fill=0)


def _trim_boat(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    draw.arc(_boat_box(t), 0, 180, fill=seam, width=t.w(0.02))


def _neck_off_shoulder(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(t.pts([(0.0, 0.0), (1.0, t.neck_bottom)]), fill=0)


def _trim_off_shoulder(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    # elastic ruffle across the bare shoulders
    y = t.neck_bottom + 0.018
    x0, x1 = 0.5 - t.hw * 1.05, 0.5 + t.hw * 1.05
    draw.line(t.pts([(x0, y), (x1, y)]), fill=seam, width=t.w(0.02))
    for x in np.arange(x0, x1, 0.05):
        draw.arc(t.pts([(x, y - 0.015), (x + 0.05, y + 0.025)]), 0, 180, fill=seam, width=t.w(0.01))


def _neck_high(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(t.pts([(0.5 - t.nw * 0.95, t.sy - 0.085), (0.5 + t.nw * 0.95, t.sy + 0.01)]), fill=255)


def _trim_high(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    x0, x1 = 0.5 - t.nw * 0.95, 0.5 + t.nw * 0.95
    draw.rectangle(t.pts([(x0, t.sy - 0.085), (x1, t.sy - 0.07)]), fill=seam)  # the fold
    for y in (t.sy - 0.045, t.sy - 0.02, t.sy + 0.005):
        draw.line(t.pts([(x0, y), (x1, y)]), fill=seam, width=t.w(0.008))
    for x in np.linspace(x0 + 0.012, x1 - 0.012, 5):
        draw.line(t.pts([(x, t.sy - 0.07), (x, t.sy + 0.01)]), fill=seam, width=1)


def _neck_collar(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    k = t.sil["collar"]
    draw.rectangle(t.pts([(0.5 - t.nw, t.sy - 0.05), (0.5 + t.nw, t.sy)]), fill=255)  # collar stand
    draw.polygon(
        t.pts([(0.5 - t.nw * 0.55, t.sy - 0.02), (0.5 + t.nw * 0.55, t.sy - 0.02), (0.5, t.sy + 0.03 * k)]), fill=0
    )


def _collar_flaps(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB, spread: float, depth: float) -> None:
    k = t.sil["collar"]
    fill = _shade(t.look.base, 0.86) if t.look.truth["pattern"] == "solid" else tuple(int(v) for v in t.look.base)
    left = [
        (0.5 - t.nw * 1.05, t.sy - 0.045),
        (0.5 - 0.004, t.sy + depth * k),
        (0.5 - t.nw * spread * k, t.sy + (depth + 0.02) * k),
        (0.5 - t.nw * 1.35, t.sy + 0.01),
    ]
    for flap in (left, [(1 - x, y) for x, y in left]):
        draw.polygon(t.pts(flap), fill=fill, outline=seam, width=t.w(0.012))


def _trim_collar(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    _collar_flaps(t, draw, seam, spread=2.0, depth=0.075)


def _trim_polo(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    _collar_flaps(t, draw, seam, spread=1.7, depth=0.05)
    x0, x1 = 0.5 - 0.02, 0.5 + 0.02
    draw.rectangle(t.pts([(x0, t.sy + 0.03), (x1, t.sy + 0.17)]), outline=seam, width=t.w(0.01))
    button = _button_colour(t.look.base)
    for y in (t.sy + 0.075, t.sy + 0.13):
        draw.ellipse(t.pts([(0.5 - 0.011, y - 0.011), (0.5 + 0.011, y + 0.011)]), fill=button)


def _hood_box(t: _Top, k: float) -> list[Point]:
    return t.pts([(0.5 - t.nw * 2.1 * k, t.sy - 0.13 * k), (0.5 + t.nw * 2.1 * k, t.sy + 0.07)])


def _neck_hood(t: _Top, draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_hood_box(t, 1.0), fill=255)


def _trim_hood(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    inside = tuple(int(v) for v in np.clip(t.look.base * 0.42 + 8, 0, 255))
    draw.ellipse(_hood_box(t, 0.62), fill=inside, outline=seam, width=t.w(0.015))
    draw.arc(_hood_box(t, 1.0), 180, 360, fill=seam, width=t.w(0.012))
    for x in (0.5 - t.nw * 0.6, 0.5 + t.nw * 0.6):  # drawstrings
        draw.line(t.pts([(x, t.sy + 0.05), (x, t.sy + 0.19)]), fill=seam, width=t.w(0.012))
        draw.ellipse(t.pts([(x - 0.01, t.sy + 0.185), (x + 0.01, t.sy + 0.205)]), fill=seam)


def _no_op(*_: Any) -> None:
    return None


_NECK_MASKS: dict[str, Callable[[_Top, ImageDraw.ImageDraw], None]] = {
    "round": _neck_round,
    "v_neck": _neck_v,
    "square": _neck_square,
    "boat": _neck_boat,
    "off_shoulder": _neck_off_shoulder,
    "high": _neck_high,
    "collar": _neck_collar,
    "polo": _neck_collar,
    "hood": _neck_hood,
}
_NECK_TRIMS: dict[str, Callable[[_Top, ImageDraw.ImageDraw, RGB], None]] = {
    "round": _trim_round,
    "v_neck": _trim_v,
    "square": _trim_square,
    "boat": _trim_boat,
    "off_shoulder": _trim_off_shoulder,
    "high": _trim_high,
    "collar": _trim_collar,
    "polo": _trim_polo,
    "hood": _trim_hood,
}


# ---- hems, cuffs, fronts, pockets ----


def _hem_line(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["hem_flare"]
    y = t.hem - 0.025
    draw.line(t.pts([(0.5 - half * 0.99, y), (0.5 + half * 0.99, y)]), fill=seam, width=t.w(0.008))


def _hem_curve(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    # shirt tail: the side seams rise, so the hem reads as a curve
    half = t.hw * t.sil["hem_flare"]
    draw.arc(t.pts([(0.5 - half, t.hem - 0.09), (0.5 + half, t.hem - 0.005)]), 10, 170, fill=seam, width=t.w(0.01))


def _hem_rib(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["hem_flare"]
    y0, y1 = t.hem - 0.065, t.hem
    draw.rectangle(t.pts([(0.5 - half, y0), (0.5 + half, y1)]), fill=_shade(t.look.base, 0.8))
    draw.line(t.pts([(0.5 - half, y0), (0.5 + half, y0)]), fill=seam, width=t.w(0.01))
    for x in np.arange(0.5 - half + 0.012, 0.5 + half, 0.022):
        draw.line(t.pts([(x, y0), (x, y1)]), fill=seam, width=1)


def _hem_band(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["hem_flare"]
    y = t.hem - 0.05
    draw.line(t.pts([(0.5 - half, y), (0.5 + half, y)]), fill=seam, width=t.w(0.014))


_HEM_TRIMS = {"line": _hem_line, "curve": _hem_curve, "rib": _hem_rib, "band": _hem_band}


def _cuff_points(t: _Top, quad: list[Point], depth: float) -> list[Point]:
    (_, _), (ux, uy), (vx, vy), _ = quad
    dx, dy = t.cuff_dir
    if quad[0][0] > 0.5:  # right sleeve: mirrored direction
        dx = -dx
    return [(ux - dx * depth, uy - dy * depth), (ux, uy), (vx, vy), (vx - dx * depth, vy - dy * depth)]


def _cuff_line(t: _Top, draw: ImageDraw.ImageDraw, quad: list[Point], seam: RGB) -> None:
    a, _, _, d = _cuff_points(t, quad, 0.025)
    draw.line(t.pts([a, d]), fill=seam, width=t.w(0.008))


def _cuff_band(t: _Top, draw: ImageDraw.ImageDraw, quad: list[Point], seam: RGB) -> None:
    a, _, _, d = _cuff_points(t, quad, 0.05)
    draw.line(t.pts([a, d]), fill=seam, width=t.w(0.014))


def _cuff_rib(t: _Top, draw: ImageDraw.ImageDraw, quad: list[Point], seam: RGB) -> None:
    band = _cuff_points(t, quad, 0.06)
    draw.polygon(t.pts(band), fill=_shade(t.look.base, 0.8))
    a, b, c, d = band
    for f in (0.25, 0.5, 0.75):
        draw.line(
            t.pts(
                [
                    (a[0] + (d[0] - a[0]) * f, a[1] + (d[1] - a[1]) * f),
                    (b[0] + (c[0] - b[0]) * f, b[1] + (c[1] - b[1]) * f),
                ]
            ),
            fill=seam,
            width=1,
        )
    draw.line(t.pts([a, d]), fill=seam, width=t.w(0.01))


_CUFF_TRIMS = {"line": _cuff_line, "band": _cuff_band, "rib": _cuff_rib}


def _button_colour(base: np.ndarray) -> RGB:
    return (235, 232, 220) if _luma(base) < 140 else (45, 42, 40)


def _buttons(t: _Top, draw: ImageDraw.ImageDraw, y0: float, colour: RGB, r: float = 0.011) -> None:
    for y in np.arange(y0, t.hem - 0.04, 0.1):
        draw.ellipse(t.pts([(0.5 - r, y - r), (0.5 + r, y + r)]), fill=colour)


def _front_buttons(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    y0 = t.neck_bottom
    for x in (0.5 - 0.018, 0.5 + 0.018):
        draw.line(t.pts([(x, y0), (x, t.hem)]), fill=seam, width=t.w(0.007))
    colour = (190, 120, 60) if t.look.truth["material"] == "denim" else _button_colour(t.look.base)
    _buttons(t, draw, y0 + 0.04, colour)


def _front_cardigan(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    # open knit front: a ribbed button band down the middle with a gap line and contrast buttons
    y0 = t.neck_bottom
    draw.rectangle(t.pts([(0.5 - 0.028, y0), (0.5 + 0.028, t.hem)]), fill=_shade(t.look.base, 0.78))
    draw.line(t.pts([(0.5, y0), (0.5, t.hem)]), fill=_shade(t.look.base, 0.4), width=t.w(0.01))
    for x in (0.5 - 0.028, 0.5 + 0.028):
        draw.line(t.pts([(x, y0), (x, t.hem)]), fill=seam, width=t.w(0.008))
    _buttons(t, draw, y0 + 0.045, _button_colour(t.look.base), r=0.014)


def _front_zip(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    if t.look.truth["material"] == "denim":  # denim jackets button up, with contrast stitching
        stitch = (206, 150, 64)
        for y in (t.sy + 0.1, t.hem - 0.06):
            draw.line(t.pts([(0.5 - t.hw, y), (0.5 + t.hw, y)]), fill=stitch, width=t.w(0.008))
        _front_buttons(t, draw, stitch)
        return
    metal = (168, 168, 176) if _luma(t.look.base) < 140 else (70, 70, 76)
    y0 = t.neck_bottom - (0.06 if t.neckline == "high" else 0.0)
    draw.line(t.pts([(0.5, y0), (0.5, t.hem)]), fill=metal, width=t.w(0.022))
    draw.rectangle(t.pts([(0.5 - 0.012, y0 + 0.01), (0.5 + 0.012, y0 + 0.05)]), fill=metal)


def _front_waist_seam(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["waist"]
    draw.line(t.pts([(0.5 - half, t.waist_y), (0.5 + half, t.waist_y)]), fill=seam, width=t.w(0.014))


_FRONTS = {
    "none": _no_op,
    "buttons": _front_buttons,
    "cardigan": _front_cardigan,
    "zip": _front_zip,
    "waist_seam": _front_waist_seam,
}


def _pocket_chest(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    x0, x1 = 0.5 - t.hw * 0.7, 0.5 - t.hw * 0.3
    y0 = t.sy + 0.13
    draw.rectangle(t.pts([(x0, y0), (x1, y0 + 0.11)]), outline=seam, width=t.w(0.008))


def _pocket_welt(t: _Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    y = t.hem - 0.2
    for sign in (-1, 1):
        a, b = 0.5 + sign * t.hw * 0.35, 0.5 + sign * t.hw * 0.7
        draw.line(t.pts([(a, y + 0.05), (b, y)]), fill=_shade(t.look.base, 0.45), width=t.w(0.022))


_POCKETS = {"none": _no_op, "chest": _pocket_chest, "welt": _pocket_welt}


class _Legs(_Drawer):
    """Jeans, trousers and shorts: waistband and two legs; trims tell denim, tailoring and sportswear apart."""

    def __init__(self, look: _Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
        super().__init__(look, sil, tables)
        self.wy = sil["waist_y"]
        self.ww = sil["half_width"] * look.width
        self.band = 0.05
        self.crotch = self.wy + sil["rise"]
        self.hem = self.wy + (sil["hem_y"] - self.wy) * look.length
        self.leg = sil["leg_hem"] * look.width**1.5
        self.gap = 0.012
        self.left = [
            (0.5 - self.ww, self.wy),
            (0.5, self.wy),
            (0.5, self.crotch),
            (0.5 - self.gap, self.hem),
            (0.5 - self.gap - self.leg, self.hem),
            (0.5 - self.ww * 1.04, self.wy + 0.13),
        ]

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        draw.polygon(self.pts(self.left), fill=255)
        draw.polygon(self.pts(self.mirror(self.left)), fill=255)

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        seam = _shade(self.look.base, 0.6)
        wy, ww, band = self.wy, self.ww, self.band
        draw.line(self.pts([(0.5 - ww, wy + band), (0.5 + ww, wy + band)]), fill=seam, width=self.w(0.01))
        for x in (0.5 - ww * 0.82, 0.5 - ww * 0.35, 0.5 + ww * 0.35, 0.5 + ww * 0.82):  # belt loops
            draw.rectangle(self.pts([(x - 0.008, wy - 0.004), (x + 0.008, wy + band + 0.01)]), outline=seam)
        trims = self.sil["trims"]
        if trims == "shorts":
            trims = "jeans" if self.look.truth["material"] == "denim" else "shorts"
        _LEG_TRIMS[trims](self, draw, seam)

    def hem_lines(self, draw: ImageDraw.ImageDraw, colour: RGB, depth: float) -> None:
        for x0, x1 in ((0.5 - self.gap - self.leg, 0.5 - self.gap), (0.5 + self.gap, 0.5 + self.gap + self.leg)):
            draw.line(
                self.pts([(x0 + 0.004, self.hem - depth), (x1 - 0.004, self.hem - depth)]),
                fill=colour,
                width=self.w(0.008),
            )


def _trims_jeans(legs: _Legs, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    stitch = (206, 150, 64)
    wy, ww, band = legs.wy, legs.ww, legs.band
    top = wy + band
    draw.line(
        legs.pts([(0.5 + 0.04, top), (0.5 + 0.04, legs.crotch - 0.06), (0.5 + 0.005, legs.crotch - 0.02)]),
        fill=stitch,
        width=legs.w(0.008),
    )  # fly J-stitch
    r = 0.085
    draw.arc(legs.pts([(0.5 - ww - r, top - r), (0.5 - ww + r, top + r)]), 0, 90, fill=stitch, width=legs.w(0.009))
    draw.arc(legs.pts([(0.5 + ww - r, top - r), (0.5 + ww + r, top + r)]), 90, 180, fill=stitch, width=legs.w(0.009))
    draw.rectangle(legs.pts([(0.5 + ww - 0.07, top + 0.015), (0.5 + ww - 0.035, top + 0.05)]), outline=stitch)
    for x in (0.5 - ww + r * 0.9, 0.5 + ww - r * 0.9):  # rivets
        draw.ellipse(legs.pts([(x - 0.008, top - 0.004), (x + 0.008, top + 0.012)]), fill=(190, 150, 90))
    draw.ellipse(legs.pts([(0.5 - 0.014, wy + 0.01), (0.5 + 0.014, wy + 0.038)]), fill=(190, 150, 90))
    for outer_top, outer_hem in (
        ((0.5 - ww * 1.04 + 0.012, wy + 0.13), (0.5 - legs.gap - legs.leg + 0.01, legs.hem)),
        ((0.5 + ww * 1.04 - 0.012, wy + 0.13), (0.5 + legs.gap + legs.leg - 0.01, legs.hem)),
    ):
        draw.line(legs.pts([outer_top, outer_hem]), fill=stitch, width=1)
    legs.hem_lines(draw, stitch, 0.025)


def _trims_trousers(legs: _Legs, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    wy, ww, band = legs.wy, legs.ww, legs.band
    draw.rectangle(legs.pts([(0.5 - 0.012, wy + 0.015), (0.5 + 0.012, wy + 0.035)]), fill=seam)  # hook
    draw.line(legs.pts([(0.5 + 0.03, wy + band), (0.5 + 0.03, legs.crotch - 0.04)]), fill=seam, width=1)
    for sign in (-1, 1):
        draw.line(
            legs.pts([(0.5 + sign * ww * 0.7, wy + band), (0.5 + sign * ww * 1.02, wy + 0.15)]),
            fill=seam,
            width=legs.w(0.01),
        )  # slanted side pockets
        top = 0.5 + sign * ww * 0.5
        bottom = 0.5 + sign * (legs.gap + legs.leg / 2)
        draw.line(
            legs.pts([(top, wy + band + 0.02), (bottom, legs.hem - 0.01)]),
            fill=_shade(legs.look.base, 0.72),
            width=legs.w(0.008),
        )  # pressed crease


def _trims_shorts(legs: _Legs, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    wy, band = legs.wy, legs.band
    for x in (0.5 - 0.02, 0.5 + 0.02):  # drawstring
        draw.line(legs.pts([(0.5, wy + band / 2), (x, wy + band + 0.09)]), fill=seam, width=legs.w(0.01))
    for sign in (-1, 1):
        draw.line(
            legs.pts([(0.5 + sign * legs.ww * 0.7, wy + band), (0.5 + sign * legs.ww * 1.02, wy + 0.15)]),
            fill=seam,
            width=legs.w(0.01),
        )
    legs.hem_lines(draw, seam, 0.035)


_LEG_TRIMS = {"jeans": _trims_jeans, "trousers": _trims_trousers, "shorts": _trims_shorts}


class _Skirt(_Drawer):
    """Skirts: a waistband and a flared panel, no legs."""

    def __init__(self, look: _Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
        super().__init__(look, sil, tables)
        self.wy = sil["waist_y"]
        self.ww = sil["half_width"] * look.width
        self.hem = self.wy + (sil["hem_y"] - self.wy) * look.length
        self.flare = self.ww * sil["hem_flare"]

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        wy, ww, hem, fl = self.wy, self.ww, self.hem, self.flare
        draw.polygon(
            self.pts(
                [
                    (0.5 - ww, wy),
                    (0.5 + ww, wy),
                    (0.5 + fl, hem),
                    (0.5 + fl * 0.5, hem + 0.015),
                    (0.5 - fl * 0.5, hem + 0.015),
                    (0.5 - fl, hem),
                ]
            ),
            fill=255,
        )

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        seam = _shade(self.look.base, 0.6)
        wy, ww = self.wy, self.ww
        draw.line(self.pts([(0.5 - ww, wy + 0.045), (0.5 + ww, wy + 0.045)]), fill=seam, width=self.w(0.01))
        if self.look.truth["material"] == "denim":
            stitch = (206, 150, 64)
            draw.line(self.pts([(0.5, wy + 0.045), (0.5, self.hem + 0.012)]), fill=stitch, width=self.w(0.008))
            hem = self.hem - 0.02
            draw.line(self.pts([(0.5 - self.flare * 0.97, hem), (0.5 + self.flare * 0.97, hem)]), fill=stitch, width=1)
        else:
            for f in (-0.6, -0.2, 0.2, 0.6):  # pleats fanning out
                draw.line(
                    self.pts([(0.5 + f * ww, wy + 0.05), (0.5 + f * self.flare, self.hem)]),
                    fill=_shade(self.look.base, 0.8),
                    width=1,
                )


class _Shoe(_Drawer):
    """Shoes in side view: upper, collar opening, sole; laces and stripes by variant."""

    UPPERS = {
        "casual": [
            (0.14, 0.70),
            (0.15, 0.47),
            (0.22, 0.455),
            (0.33, 0.50),
            (0.42, 0.43),
            (0.47, 0.445),
            (0.62, 0.53),
            (0.80, 0.585),
            (0.88, 0.64),
            (0.87, 0.70),
        ],
        "sports": [
            (0.13, 0.70),
            (0.14, 0.45),
            (0.22, 0.43),
            (0.33, 0.48),
            (0.42, 0.40),
            (0.48, 0.42),
            (0.63, 0.52),
            (0.80, 0.57),
            (0.88, 0.63),
            (0.87, 0.70),
        ],
        "formal": [
            (0.14, 0.70),
            (0.15, 0.52),
            (0.24, 0.51),
            (0.34, 0.545),
            (0.45, 0.50),
            (0.50, 0.51),
            (0.66, 0.57),
            (0.82, 0.62),
            (0.91, 0.665),
            (0.89, 0.70),
        ],
    }
    SOLES = {"casual": (0.67, 0.745), "sports": (0.655, 0.76), "formal": (0.69, 0.72)}

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        draw.polygon(self.pts(self.UPPERS[self.look.variant]), fill=255)
        y0, y1 = self.SOLES[self.look.variant]
        draw.rectangle(self.pts([(0.12, y0), (0.9, y1)]), fill=255)

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        variant = self.look.variant
        leather = self.look.truth["material"] == "leather"
        seam = _shade(self.look.base, 0.55)
        sole_colour = (40, 32, 28) if variant == "formal" or leather else (236, 234, 228)
        y0, y1 = self.SOLES[variant]
        draw.rounded_rectangle(
            self.pts([(0.12, y0), (0.9, y1)]), radius=self.w(0.02), fill=sole_colour, outline=(90, 90, 90), width=1
        )
        if variant == "formal":
            draw.rectangle(self.pts([(0.14, y1), (0.26, y1 + 0.03)]), fill=(35, 28, 24))  # heel block
        opening = self.UPPERS[variant][1:4]
        draw.polygon(self.pts([(x + 0.01, y + 0.012) for x, y in opening]), fill=(38, 34, 32))
        if variant != "formal":
            for k in range(4):  # laces across the vamp
                x, y = 0.45 + 0.045 * k, 0.47 + 0.025 * k
                draw.line(
                    self.pts([(x - 0.02, y - 0.02), (x + 0.03, y + 0.01)]),
                    fill=(245, 245, 240) if _luma(self.look.base) < 150 else (40, 40, 40),
                    width=self.w(0.014),
                )
            if not leather:  # rubber toe cap
                draw.chord(self.pts([(0.76, y0 - 0.07), (0.92, y0 + 0.04)]), 270, 90, fill=sole_colour)
        else:
            draw.line(self.pts([(0.45, 0.505), (0.62, 0.575)]), fill=seam, width=self.w(0.01))  # vamp seam
        if variant == "sports":
            stripe = tuple(int(v) for v in self.look.overlay)
            draw.line(self.pts([(0.28, 0.63), (0.5, 0.6), (0.72, 0.56)]), fill=stripe, width=self.w(0.03))


class _Bag(_Drawer):
    """Handbags: a trapezoid body with a flap and clasp, and an arched handle."""

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        draw.polygon(self.pts([(0.27, 0.42), (0.73, 0.42), (0.80, 0.84), (0.20, 0.84)]), fill=255)
        draw.arc(self.pts([(0.33, 0.2), (0.67, 0.64)]), 180, 360, fill=255, width=self.w(0.045))

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        seam = _shade(self.look.base, 0.55)
        draw.line(
            self.pts([(0.27, 0.42), (0.29, 0.56), (0.5, 0.61), (0.71, 0.56), (0.73, 0.42)]),
            fill=seam,
            width=self.w(0.012),
        )
        gold = (206, 172, 70)
        draw.ellipse(self.pts([(0.475, 0.575), (0.525, 0.625)]), fill=gold)
        for x in (0.33, 0.67):  # handle rings
            draw.rectangle(self.pts([(x - 0.02, 0.40), (x + 0.02, 0.44)]), fill=gold)
        draw.line(self.pts([(0.21, 0.81), (0.79, 0.81)]), fill=seam, width=1)


_DRAWERS: dict[str, type[_Drawer]] = {"top": _Top, "legs": _Legs, "skirt": _Skirt, "shoe": _Shoe, "bag": _Bag}
