"""Jeans, trousers, shorts and skirts: waistband, legs or a flared body, and the trims that tell them apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import ImageDraw

from pipelines.catalog.sample.garments.drawer import Drawer
from pipelines.catalog.sample.garments.look import RGB, Look, shade


class Legs(Drawer):
    """Jeans, trousers and shorts: waistband and two legs; trims tell denim, tailoring and sportswear apart."""

    def __init__(self, look: Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
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
        seam = shade(self.look.base, 0.6)
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


def _trims_jeans(legs: Legs, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
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


def _trims_trousers(legs: Legs, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
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
            fill=shade(legs.look.base, 0.72),
            width=legs.w(0.008),
        )  # pressed crease


def _trims_shorts(legs: Legs, draw: ImageDraw.ImageDraw, seam: RGB) -> None:
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


class Skirt(Drawer):
    """Skirts: a waistband and a flared panel, no legs."""

    def __init__(self, look: Look, sil: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
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
        seam = shade(self.look.base, 0.6)
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
                    fill=shade(self.look.base, 0.8),
                    width=1,
                )
