"""The base garment drawer: a silhouette mask filled with fabric, outlined, trimmed with details, then posed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from pipelines.catalog.sample.garments.look import RGB, Look, Point, catalog_tiles, fabric_texture, pattern_alpha


class Drawer:
    """Base drawer: a silhouette mask, filled with texture and pattern, trimmed with details, then posed."""

    def __init__(self, look: Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
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

        tiles = catalog_tiles(s, look.seed)
        mult, add = fabric_texture(look, tiles)
        alpha = pattern_alpha(look, tiles)
        light = np.float32(view_rng.uniform(0.94, 1.06))  # lighting of this photo
        if alpha is None:
            fill = (look.base * light) * mult[..., None]
        else:
            a = alpha[..., None]
            fill = (look.base * light + (look.overlay - look.base) * light * a) * mult[..., None]
        fill += add[..., None]
        fabric = Image.fromarray(np.clip(fill, 0, 255).astype(np.uint8), "RGB")

        level = view_rng.uniform(236, 252)
        red, green, blue = (int(round(level + t)) for t in view_rng.uniform(-3, 3, 3))
        background = (red, green, blue)
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
