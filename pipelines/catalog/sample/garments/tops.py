"""Tops and dresses: torso, sleeves, the neckline (a mask edit and a trim), hems, cuffs, fronts and pockets."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from PIL import ImageDraw

from pipelines.catalog.sample.garments.drawer import Drawer
from pipelines.catalog.sample.garments.look import RGB, Look, Point, luma, shade


class Top(Drawer):
    """Tees, shirts, tops, sweaters, cardigans, jackets and dresses: torso, sleeves, neckline, trims."""

    def __init__(self, look: Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
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
        seam = shade(base, 0.62)
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


def _round_box(t: Top) -> list[Point]:
    return t.pts([(0.5 - t.nw, 2 * t.sy - t.neck_bottom - 0.02), (0.5 + t.nw, t.neck_bottom)])


def _neck_round(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_round_box(t), fill=0)


def _trim_round(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    draw.arc(_round_box(t), 0, 180, fill=seam, width=t.w(0.022))


def _neck_v(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(t.pts([(0.5 - t.nw, t.sy - 0.03), (0.5 + t.nw, t.sy - 0.03), (0.5, t.neck_bottom)]), fill=0)


def _trim_v(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    draw.line(
        t.pts([(0.5 - t.nw, t.sy - 0.01), (0.5, t.neck_bottom), (0.5 + t.nw, t.sy - 0.01)]),
        fill=seam,
        width=t.w(0.022),
        joint="curve",
    )


def _neck_square(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(t.pts([(0.5 - t.nw * 1.15, t.sy - 0.03), (0.5 + t.nw * 1.15, t.neck_bottom)]), fill=0)


def _trim_square(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    x0, x1, y = 0.5 - t.nw * 1.15, 0.5 + t.nw * 1.15, t.neck_bottom
    draw.line(t.pts([(x0, t.sy - 0.005), (x0, y), (x1, y), (x1, t.sy - 0.005)]), fill=seam, width=t.w(0.02))


def _boat_box(t: Top) -> list[Point]:
    return t.pts([(0.5 - t.hw * 0.72, t.sy - 0.04), (0.5 + t.hw * 0.72, t.neck_bottom)])


def _neck_boat(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_boat_box(t), fill=0)


def _trim_boat(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    draw.arc(_boat_box(t), 0, 180, fill=seam, width=t.w(0.02))


def _neck_off_shoulder(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(t.pts([(0.0, 0.0), (1.0, t.neck_bottom)]), fill=0)


def _trim_off_shoulder(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    # elastic ruffle across the bare shoulders
    y = t.neck_bottom + 0.018
    x0, x1 = 0.5 - t.hw * 1.05, 0.5 + t.hw * 1.05
    draw.line(t.pts([(x0, y), (x1, y)]), fill=seam, width=t.w(0.02))
    for x in np.arange(x0, x1, 0.05):
        draw.arc(t.pts([(x, y - 0.015), (x + 0.05, y + 0.025)]), 0, 180, fill=seam, width=t.w(0.01))


def _neck_high(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(t.pts([(0.5 - t.nw * 0.95, t.sy - 0.085), (0.5 + t.nw * 0.95, t.sy + 0.01)]), fill=255)


def _trim_high(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    x0, x1 = 0.5 - t.nw * 0.95, 0.5 + t.nw * 0.95
    draw.rectangle(t.pts([(x0, t.sy - 0.085), (x1, t.sy - 0.07)]), fill=seam)  # the fold
    for y in (t.sy - 0.045, t.sy - 0.02, t.sy + 0.005):
        draw.line(t.pts([(x0, y), (x1, y)]), fill=seam, width=t.w(0.008))
    for x in np.linspace(x0 + 0.012, x1 - 0.012, 5):
        draw.line(t.pts([(x, t.sy - 0.07), (x, t.sy + 0.01)]), fill=seam, width=1)


def _neck_collar(t: Top, draw: ImageDraw.ImageDraw) -> None:
    k = t.sil["collar"]
    draw.rectangle(t.pts([(0.5 - t.nw, t.sy - 0.05), (0.5 + t.nw, t.sy)]), fill=255)  # collar stand
    draw.polygon(
        t.pts([(0.5 - t.nw * 0.55, t.sy - 0.02), (0.5 + t.nw * 0.55, t.sy - 0.02), (0.5, t.sy + 0.03 * k)]), fill=0
    )


def _collar_flaps(t: Top, draw: ImageDraw.ImageDraw, seam: RGB, spread: float, depth: float) -> None:
    k = t.sil["collar"]
    fill = shade(t.look.base, 0.86) if t.look.truth["pattern"] == "solid" else tuple(int(v) for v in t.look.base)
    left = [
        (0.5 - t.nw * 1.05, t.sy - 0.045),
        (0.5 - 0.004, t.sy + depth * k),
        (0.5 - t.nw * spread * k, t.sy + (depth + 0.02) * k),
        (0.5 - t.nw * 1.35, t.sy + 0.01),
    ]
    for flap in (left, [(1 - x, y) for x, y in left]):
        draw.polygon(t.pts(flap), fill=fill, outline=seam, width=t.w(0.012))


def _trim_collar(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    _collar_flaps(t, draw, seam, spread=2.0, depth=0.075)


def _trim_polo(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    _collar_flaps(t, draw, seam, spread=1.7, depth=0.05)
    x0, x1 = 0.5 - 0.02, 0.5 + 0.02
    draw.rectangle(t.pts([(x0, t.sy + 0.03), (x1, t.sy + 0.17)]), outline=seam, width=t.w(0.01))
    button = _button_colour(t.look.base)
    for y in (t.sy + 0.075, t.sy + 0.13):
        draw.ellipse(t.pts([(0.5 - 0.011, y - 0.011), (0.5 + 0.011, y + 0.011)]), fill=button)


def _hood_box(t: Top, k: float) -> list[Point]:
    return t.pts([(0.5 - t.nw * 2.1 * k, t.sy - 0.13 * k), (0.5 + t.nw * 2.1 * k, t.sy + 0.07)])


def _neck_hood(t: Top, draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_hood_box(t, 1.0), fill=255)


def _trim_hood(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    inside = tuple(int(v) for v in np.clip(t.look.base * 0.42 + 8, 0, 255))
    draw.ellipse(_hood_box(t, 0.62), fill=inside, outline=seam, width=t.w(0.015))
    draw.arc(_hood_box(t, 1.0), 180, 360, fill=seam, width=t.w(0.012))
    for x in (0.5 - t.nw * 0.6, 0.5 + t.nw * 0.6):  # drawstrings
        draw.line(t.pts([(x, t.sy + 0.05), (x, t.sy + 0.19)]), fill=seam, width=t.w(0.012))
        draw.ellipse(t.pts([(x - 0.01, t.sy + 0.185), (x + 0.01, t.sy + 0.205)]), fill=seam)


def _no_op(*_: Any) -> None:
    return None


_NECK_MASKS: dict[str, Callable[[Top, ImageDraw.ImageDraw], None]] = {
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


_NECK_TRIMS: dict[str, Callable[[Top, ImageDraw.ImageDraw, RGB], None]] = {
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


def _hem_line(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["hem_flare"]
    y = t.hem - 0.025
    draw.line(t.pts([(0.5 - half * 0.99, y), (0.5 + half * 0.99, y)]), fill=seam, width=t.w(0.008))


def _hem_curve(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    # shirt tail: the side seams rise, so the hem reads as a curve
    half = t.hw * t.sil["hem_flare"]
    draw.arc(t.pts([(0.5 - half, t.hem - 0.09), (0.5 + half, t.hem - 0.005)]), 10, 170, fill=seam, width=t.w(0.01))


def _hem_rib(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["hem_flare"]
    y0, y1 = t.hem - 0.065, t.hem
    draw.rectangle(t.pts([(0.5 - half, y0), (0.5 + half, y1)]), fill=shade(t.look.base, 0.8))
    draw.line(t.pts([(0.5 - half, y0), (0.5 + half, y0)]), fill=seam, width=t.w(0.01))
    for x in np.arange(0.5 - half + 0.012, 0.5 + half, 0.022):
        draw.line(t.pts([(x, y0), (x, y1)]), fill=seam, width=1)


def _hem_band(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["hem_flare"]
    y = t.hem - 0.05
    draw.line(t.pts([(0.5 - half, y), (0.5 + half, y)]), fill=seam, width=t.w(0.014))


_HEM_TRIMS = {"line": _hem_line, "curve": _hem_curve, "rib": _hem_rib, "band": _hem_band}


def _cuff_points(t: Top, quad: list[Point], depth: float) -> list[Point]:
    (_, _), (ux, uy), (vx, vy), _ = quad
    dx, dy = t.cuff_dir
    if quad[0][0] > 0.5:  # right sleeve: mirrored direction
        dx = -dx
    return [(ux - dx * depth, uy - dy * depth), (ux, uy), (vx, vy), (vx - dx * depth, vy - dy * depth)]


def _cuff_line(t: Top, draw: ImageDraw.ImageDraw, quad: list[Point], seam: RGB) -> None:
    a, _, _, d = _cuff_points(t, quad, 0.025)
    draw.line(t.pts([a, d]), fill=seam, width=t.w(0.008))


def _cuff_band(t: Top, draw: ImageDraw.ImageDraw, quad: list[Point], seam: RGB) -> None:
    a, _, _, d = _cuff_points(t, quad, 0.05)
    draw.line(t.pts([a, d]), fill=seam, width=t.w(0.014))


def _cuff_rib(t: Top, draw: ImageDraw.ImageDraw, quad: list[Point], seam: RGB) -> None:
    band = _cuff_points(t, quad, 0.06)
    draw.polygon(t.pts(band), fill=shade(t.look.base, 0.8))
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
    return (235, 232, 220) if luma(base) < 140 else (45, 42, 40)


def _buttons(t: Top, draw: ImageDraw.ImageDraw, y0: float, colour: RGB, r: float = 0.011) -> None:
    for y in np.arange(y0, t.hem - 0.04, 0.1):
        draw.ellipse(t.pts([(0.5 - r, y - r), (0.5 + r, y + r)]), fill=colour)


def _front_buttons(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    y0 = t.neck_bottom
    for x in (0.5 - 0.018, 0.5 + 0.018):
        draw.line(t.pts([(x, y0), (x, t.hem)]), fill=seam, width=t.w(0.007))
    colour = (190, 120, 60) if t.look.truth["material"] == "denim" else _button_colour(t.look.base)
    _buttons(t, draw, y0 + 0.04, colour)


def _front_cardigan(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    # open knit front: a ribbed button band down the middle with a gap line and contrast buttons
    y0 = t.neck_bottom
    draw.rectangle(t.pts([(0.5 - 0.028, y0), (0.5 + 0.028, t.hem)]), fill=shade(t.look.base, 0.78))
    draw.line(t.pts([(0.5, y0), (0.5, t.hem)]), fill=shade(t.look.base, 0.4), width=t.w(0.01))
    for x in (0.5 - 0.028, 0.5 + 0.028):
        draw.line(t.pts([(x, y0), (x, t.hem)]), fill=seam, width=t.w(0.008))
    _buttons(t, draw, y0 + 0.045, _button_colour(t.look.base), r=0.014)


def _front_zip(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    if t.look.truth["material"] == "denim":  # denim jackets button up, with contrast stitching
        stitch = (206, 150, 64)
        for y in (t.sy + 0.1, t.hem - 0.06):
            draw.line(t.pts([(0.5 - t.hw, y), (0.5 + t.hw, y)]), fill=stitch, width=t.w(0.008))
        _front_buttons(t, draw, stitch)
        return
    metal = (168, 168, 176) if luma(t.look.base) < 140 else (70, 70, 76)
    y0 = t.neck_bottom - (0.06 if t.neckline == "high" else 0.0)
    draw.line(t.pts([(0.5, y0), (0.5, t.hem)]), fill=metal, width=t.w(0.022))
    draw.rectangle(t.pts([(0.5 - 0.012, y0 + 0.01), (0.5 + 0.012, y0 + 0.05)]), fill=metal)


def _front_waist_seam(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    half = t.hw * t.sil["waist"]
    draw.line(t.pts([(0.5 - half, t.waist_y), (0.5 + half, t.waist_y)]), fill=seam, width=t.w(0.014))


_FRONTS = {
    "none": _no_op,
    "buttons": _front_buttons,
    "cardigan": _front_cardigan,
    "zip": _front_zip,
    "waist_seam": _front_waist_seam,
}


def _pocket_chest(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    x0, x1 = 0.5 - t.hw * 0.7, 0.5 - t.hw * 0.3
    y0 = t.sy + 0.13
    draw.rectangle(t.pts([(x0, y0), (x1, y0 + 0.11)]), outline=seam, width=t.w(0.008))


def _pocket_welt(t: Top, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
    y = t.hem - 0.2
    for sign in (-1, 1):
        a, b = 0.5 + sign * t.hw * 0.35, 0.5 + sign * t.hw * 0.7
        draw.line(t.pts([(a, y + 0.05), (b, y)]), fill=shade(t.look.base, 0.45), width=t.w(0.022))


_POCKETS = {"none": _no_op, "chest": _pocket_chest, "welt": _pocket_welt}
