"""Shoes and handbags: side-view uppers and soles, bag bodies, flaps and handles."""

from __future__ import annotations

from PIL import ImageDraw

from pipelines.catalog.sample.garments.drawer import Drawer
from pipelines.catalog.sample.garments.look import luma, shade


class Shoe(Drawer):
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
        seam = shade(self.look.base, 0.55)
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
                    fill=(245, 245, 240) if luma(self.look.base) < 150 else (40, 40, 40),
                    width=self.w(0.014),
                )
            if not leather:  # rubber toe cap
                draw.chord(self.pts([(0.76, y0 - 0.07), (0.92, y0 + 0.04)]), 270, 90, fill=sole_colour)
        else:
            draw.line(self.pts([(0.45, 0.505), (0.62, 0.575)]), fill=seam, width=self.w(0.01))  # vamp seam
        if variant == "sports":
            stripe = tuple(int(v) for v in self.look.overlay)
            draw.line(self.pts([(0.28, 0.63), (0.5, 0.6), (0.72, 0.56)]), fill=stripe, width=self.w(0.03))


class Bag(Drawer):
    """Handbags: a trapezoid body with a flap and clasp, and an arched handle."""

    def draw_mask(self, draw: ImageDraw.ImageDraw) -> None:
        draw.polygon(self.pts([(0.27, 0.42), (0.73, 0.42), (0.80, 0.84), (0.20, 0.84)]), fill=255)
        draw.arc(self.pts([(0.33, 0.2), (0.67, 0.64)]), 180, 360, fill=255, width=self.w(0.045))

    def draw_details(self, draw: ImageDraw.ImageDraw) -> None:
        seam = shade(self.look.base, 0.55)
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
