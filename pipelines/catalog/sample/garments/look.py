"""One product's look (fill, overlay colour, cut) and the per-catalog texture and print tiles it is painted with."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from pipelines.catalog.sample.item import SampleItem

RGB = tuple[int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True)
class Look:
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


def product_look(item: SampleItem, spec: Mapping[str, Any], size: int, seed: int, tables: Mapping[str, Any]) -> Look:
    rng = np.random.default_rng([seed, 1, item.product])
    material = item.truth["material"]
    palette = tables["material_colours"].get(material, {})
    rgb = palette.get(item.base_colour, tables["colours"][item.base_colour])["rgb"]
    base = np.asarray(rgb, dtype=np.float32) * rng.uniform(0.9, 1.08) + rng.uniform(-9, 9, 3)
    base = np.clip(base, 0, 255).astype(np.float32)
    contrast = [c for c in tables["overlay_colours"] if abs(luma(c) - luma(base)) > 85] or [[128, 128, 128]]
    overlay = np.asarray(contrast[int(rng.integers(len(contrast)))], dtype=np.float32)
    fit = tables["fit_width"][item.truth["fit"]]
    return Look(
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
        tile_offset=_pair(rng.integers(0, size, 2)),
        highlight=(rng.uniform(0.3, 0.6), rng.uniform(-0.8, -0.3)),
        graphic=int(rng.integers(4)),
    )


def luma(rgb: Sequence[float] | np.ndarray) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def shade(base: np.ndarray, k: float) -> RGB:
    """A trim colour: darker than the fill, or lighter on near-black fills (so seams stay visible)."""
    if luma(base) < 70:
        out = base + (255 - base) * (1 - k) * 0.9
    else:
        out = base * k
    red, green, blue = (int(v) for v in np.clip(out, 0, 255))
    return red, green, blue


def _pair(values: np.ndarray) -> tuple[int, int]:
    first, second = (int(v) for v in values)
    return first, second


_TILE_VARIANTS = 6


@lru_cache(maxsize=4)
def catalog_tiles(size: int, seed: int) -> dict[str, np.ndarray]:
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


def fabric_texture(look: Look, tiles: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Material as pixels: (multiplicative, additive) maps. Denim twill, leather sheen, knit ribs, plain cotton."""
    s = look.size
    oy, ox = look.tile_offset
    crop = {k: v[oy : oy + s, ox : ox + s] for k, v in tiles.items() if v.ndim == 2}
    material = look.truth["material"]
    return _TEXTURES.get(material, _TEXTURES["cotton"])(look, crop)


def _cotton(look: Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return 1.0 + 0.025 * t["noise"] + 0.03 * t["smooth"], np.zeros_like(t["noise"])


def _canvas(look: Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return 1.0 + 0.05 * t["weave"] + 0.03 * t["noise"], 3.0 * t["weave"]


def _denim(look: Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # twill: diagonal light weft lines over the indigo, slubby, faded where the fabric bends
    return 0.95 + 0.1 * t["twill"] + 0.04 * t["noise"] + 0.1 * t["smooth"], 16.0 * np.maximum(t["twill"], 0)


def _leather(look: Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    s = look.size
    xx, yy = (v / np.float32(s) for v in _coordinates(s))
    pos, slope = look.highlight
    band = np.exp(-(((yy - pos) - slope * (xx - 0.5)) ** 2) / (2 * 0.07**2))
    grain = 0.02 * t["noise"]
    return 0.85 + 0.25 * band + grain + 0.08 * (0.5 - yy), 80.0 * band**2


def _knit(look: Look, t: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # vertical ribs: alternating raised and sunken columns, visible on dark yarn too (additive term)
    return 1.0 + 0.13 * t["rib"] + 0.03 * t["noise"], 12.0 * t["rib"]


_TEXTURES: dict[str, Callable[[Look, Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]] = {
    "cotton": _cotton,
    "canvas": _canvas,
    "denim": _denim,
    "leather": _leather,
    "knit": _knit,
}


def pattern_alpha(look: Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Where the pattern's contrast colour covers the fabric (0..1), or None for plain fabric."""
    fn = _PATTERNS.get(look.truth["pattern"])
    return None if fn is None else fn(look, tiles)


def _grid(look: Look) -> tuple[np.ndarray, np.ndarray]:
    xx, yy = _coordinates(look.size)
    return xx + np.float32(look.pattern_phase[0]), yy + np.float32(look.pattern_phase[1])


@lru_cache(maxsize=4)
def _coordinates(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx, yy


def _striped(look: Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
    xx, yy = _grid(look)
    axis = xx if look.stripes_vertical else yy
    period = look.pattern_period * (0.6 if look.stripes_vertical else 1.0)
    return ((axis % period) < period * look.stripe_ratio).astype(np.float32)


def _checked(look: Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
    xx, yy = _grid(look)
    p = look.pattern_period
    bars = ((xx % p) < p * 0.38).astype(np.float32) + ((yy % p) < p * 0.38).astype(np.float32)
    alpha: np.ndarray = np.minimum(0.5 * bars, 0.85) + 0.15 * (((xx % p) < p * 0.06) | ((yy % p) < p * 0.06))
    return alpha


def _dotted(look: Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
    xx, yy = _grid(look)
    p = look.pattern_period * 0.85
    row = np.floor(yy / p)
    dx = ((xx + (row % 2) * p / 2) % p) - p / 2
    dy = (yy % p) - p / 2
    return ((dx * dx + dy * dy) < (p * 0.24) ** 2).astype(np.float32)


def _tiled(kind: str) -> Callable[[Look, Mapping[str, np.ndarray]], np.ndarray]:
    def alpha(look: Look, tiles: Mapping[str, np.ndarray]) -> np.ndarray:
        oy, ox = look.tile_offset
        return tiles[kind][look.tile_index, oy : oy + look.size, ox : ox + look.size]

    return alpha


# graphic: one big chest print, drawn by the silhouette (see Top._graphic); solid: plain fabric
_PATTERNS: dict[str, Callable[[Look, Mapping[str, np.ndarray]], np.ndarray]] = {
    "striped": _striped,
    "checked": _checked,
    "dotted": _dotted,
    "floral": _tiled("floral"),
    "printed": _tiled("printed"),
}
