"""Flat product drawings: a pen on a square canvas and one small function per kind of thing."""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import ImageDraw

RGB = tuple[int, int, int]
SCALE = 2  # drawn at SCALE x the size, then averaged down: anti-aliased edges
INK: RGB = (38, 34, 32)
GREY: RGB = (150, 150, 150)
GLASS: RGB = (214, 232, 236)
KRAFT: RGB = (196, 160, 112)
WOOD: RGB = (184, 134, 86)
STEEL: RGB = (172, 178, 184)
SUN: RGB = (250, 204, 92)
FLAME: RGB = (250, 172, 52)
LEAF: RGB = (96, 146, 84)
RIBBON: RGB = (184, 58, 52)

PAINTS: dict[str, RGB] = {
    "blue": (60, 100, 180), "red": (190, 60, 50), "white": (246, 244, 238),
    "black": (58, 56, 56), "brass": (196, 156, 72), "navy": (40, 55, 100),
    "green": (70, 120, 70), "grey": (140, 140, 140), "oat": (218, 204, 174),
    "cream": (242, 232, 204), "olive": (120, 120, 60), "sand": (214, 194, 154),
    "honey": (226, 176, 64), "steel": STEEL, "natural": (204, 172, 122),
}


def mix(colour: RGB, other: RGB, amount: float) -> RGB:
    r, g, b = (round(c + (o - c) * amount) for c, o in zip(colour, other, strict=True))
    return (r, g, b)


def lighter(colour: RGB, amount: float) -> RGB:
    return mix(colour, (255, 255, 255), amount)


def darker(colour: RGB, amount: float) -> RGB:
    return mix(colour, (0, 0, 0), amount)


class Pen:
    """Draws in coordinates relative to a square box: (0, 0) top left, (1, 1) bottom right."""

    def __init__(self, draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float],
                 background: RGB) -> None:
        self.draw, self.background = draw, background
        self.left, self.top, right, bottom = box
        self.w, self.h = right - self.left, bottom - self.top
        self.line = max(2, round(self.w / 85))

    def pt(self, x: float, y: float) -> tuple[float, float]:
        return (self.left + x * self.w, self.top + y * self.h)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (*self.pt(x0, y0), *self.pt(x1, y1))

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: RGB,
             radius: float = 0.0, outline: bool = True) -> None:
        self.draw.rounded_rectangle(self.box(x0, y0, x1, y1), radius=radius * self.w,
                                    fill=fill, outline=INK if outline else None,
                                    width=self.line if outline else 0)

    def oval(self, x0: float, y0: float, x1: float, y1: float, fill: RGB | None,
             outline: bool = True) -> None:
        self.draw.ellipse(self.box(x0, y0, x1, y1), fill=fill,
                          outline=INK if outline else None, width=self.line if outline else 0)

    def ring(self, x0: float, y0: float, x1: float, y1: float, colour: RGB,
             thickness: float) -> None:
        """A handle: an outlined ring of the given thickness (relative to the box)."""
        t = thickness
        self.oval(x0, y0, x1, y1, colour)
        self.oval(x0 + t, y0 + t, x1 - t, y1 - t, self.background)

    def poly(self, points: list[tuple[float, float]], fill: RGB, outline: bool = True) -> None:
        xy = [self.pt(x, y) for x, y in points]
        self.draw.polygon(xy, fill=fill)
        if outline:
            self.draw.line([*xy, xy[0]], fill=INK, width=self.line, joint="curve")

    def stroke(self, points: list[tuple[float, float]], colour: RGB = INK,
               width: float = 1.0) -> None:
        self.draw.line([self.pt(x, y) for x, y in points], fill=colour,
                       width=max(1, round(self.line * width)), joint="curve")

    def dome(self, x0: float, y0: float, x1: float, y1: float, fill: RGB) -> None:
        """The upper half of the ellipse in the box, flat side down."""
        self.draw.chord(self.box(x0, y0, x1, y1), 180, 360, fill=fill, outline=INK,
                        width=self.line)


# --- the drawings: each fills the unit box with one object ------------------------------

def _mug(pen: Pen, paint: RGB) -> None:
    pen.ring(0.50, 0.30, 0.90, 0.78, darker(paint, 0.12), 0.085)
    pen.rect(0.14, 0.12, 0.70, 1.0, paint, radius=0.08)
    pen.rect(0.22, 0.22, 0.28, 0.86, lighter(paint, 0.35), radius=0.03, outline=False)
    for x in (0.32, 0.46):
        pen.stroke([(x + 0.025 * math.sin(i * math.pi / 4), 0.07 - i * 0.022)
                    for i in range(9)], mix(pen.background, INK, 0.3), 0.9)


def _teapot(pen: Pen, paint: RGB) -> None:
    pen.ring(0.0, 0.40, 0.30, 0.82, darker(paint, 0.12), 0.07)
    pen.poly([(0.74, 0.60), (0.95, 0.34), (1.0, 0.36), (0.86, 0.86)], paint)
    pen.oval(0.14, 0.32, 0.86, 1.0, paint)
    pen.dome(0.32, 0.22, 0.68, 0.46, darker(paint, 0.1))
    pen.oval(0.45, 0.14, 0.55, 0.25, darker(paint, 0.25))
    pen.stroke([(0.26, 0.60), (0.74, 0.60)], lighter(paint, 0.35), 1.4)


def _percolator(pen: Pen, paint: RGB) -> None:
    pen.ring(0.56, 0.30, 0.92, 0.80, darker(paint, 0.2), 0.075)
    pen.poly([(0.30, 0.24), (0.22, 0.40), (0.06, 0.30), (0.10, 0.26)], paint)
    pen.poly([(0.30, 0.18), (0.66, 0.18), (0.74, 1.0), (0.22, 1.0)], paint)
    pen.dome(0.30, 0.06, 0.66, 0.30, darker(paint, 0.12))
    pen.oval(0.42, -0.02, 0.54, 0.10, GLASS)


def _flask(pen: Pen, paint: RGB) -> None:
    pen.rect(0.33, 0.16, 0.67, 1.0, paint, radius=0.1)
    pen.rect(0.35, 0.0, 0.65, 0.18, darker(paint, 0.35), radius=0.04)
    pen.rect(0.33, 0.34, 0.67, 0.42, darker(paint, 0.15), outline=False)
    pen.rect(0.40, 0.48, 0.45, 0.90, lighter(paint, 0.4), radius=0.02, outline=False)


def _lamp(pen: Pen, paint: RGB) -> None:
    pen.rect(0.48, 0.40, 0.52, 0.94, INK, outline=False)
    pen.rect(0.28, 0.90, 0.72, 1.0, darker(paint, 0.35), radius=0.03)
    pen.oval(0.43, 0.36, 0.57, 0.50, (255, 236, 170), outline=False)
    pen.poly([(0.36, 0.02), (0.64, 0.02), (0.80, 0.42), (0.20, 0.42)], paint)


def _pendant(pen: Pen, paint: RGB) -> None:
    pen.stroke([(0.5, -0.08), (0.5, 0.26)], INK, 1.0)
    pen.oval(0.40, 0.48, 0.60, 0.70, (255, 236, 170), outline=False)
    pen.dome(0.12, 0.24, 0.88, 0.86, paint)
    for i in range(1, 6):
        x = 0.12 + 0.76 * i / 6
        top = 0.55 - 0.31 * math.sqrt(max(0.0, 1 - ((x - 0.5) / 0.38) ** 2))
        pen.stroke([(x, top + 0.03), (x, 0.53)], darker(paint, 0.2), 0.6)


def _candle(pen: Pen, paint: RGB) -> None:
    pen.rect(0.28, 0.36, 0.72, 1.0, paint, radius=0.05)
    pen.oval(0.28, 0.30, 0.72, 0.42, lighter(paint, 0.3))
    pen.stroke([(0.5, 0.36), (0.5, 0.28)], INK, 1.0)
    pen.oval(0.42, 0.06, 0.58, 0.30, FLAME, outline=False)
    pen.oval(0.46, 0.16, 0.54, 0.29, (255, 236, 160), outline=False)
    pen.rect(0.28, 0.58, 0.72, 0.80, lighter(paint, 0.55), outline=False)


def _tee(pen: Pen, paint: RGB) -> None:
    pen.poly([(0.30, 0.04), (0.39, 0.04), (0.50, 0.13), (0.61, 0.04), (0.70, 0.04),
              (1.0, 0.26), (0.87, 0.44), (0.78, 0.37), (0.78, 1.0), (0.22, 1.0),
              (0.22, 0.37), (0.13, 0.44), (0.0, 0.26)], paint)
    pen.oval(0.56, 0.26, 0.66, 0.36, lighter(paint, 0.55), outline=False)


def _hoodie(pen: Pen, paint: RGB) -> None:
    pen.poly([(0.30, 0.10), (0.70, 0.10), (0.90, 0.28), (1.0, 0.94), (0.86, 0.96),
              (0.78, 0.48), (0.78, 1.0), (0.22, 1.0), (0.22, 0.48), (0.14, 0.96),
              (0.0, 0.94), (0.10, 0.28)], paint)
    pen.oval(0.34, 0.0, 0.66, 0.26, darker(paint, 0.12))
    pen.oval(0.41, 0.08, 0.59, 0.24, darker(paint, 0.35), outline=False)
    pen.rect(0.33, 0.66, 0.67, 0.86, darker(paint, 0.06), radius=0.03)
    for x in (0.45, 0.55):
        pen.stroke([(x, 0.24), (x, 0.44)], darker(paint, 0.4), 0.8)


def _cap(pen: Pen, paint: RGB) -> None:
    pen.oval(0.52, 0.60, 1.0, 0.76, darker(paint, 0.15))
    pen.dome(0.06, 0.28, 0.82, 1.04, paint)
    pen.stroke([(0.44, 0.30), (0.44, 0.66)], darker(paint, 0.25), 0.8)
    pen.oval(0.40, 0.25, 0.48, 0.33, darker(paint, 0.3))


def _notebook(pen: Pen, paint: RGB) -> None:
    pen.rect(0.20, 0.0, 0.80, 1.0, paint, radius=0.04)
    pen.rect(0.20, 0.0, 0.29, 1.0, darker(paint, 0.2), radius=0.04)
    pen.rect(0.38, 0.18, 0.72, 0.36, lighter(paint, 0.7), radius=0.02, outline=False)
    for n in range(3):
        y = 0.24 + n * 0.05
        pen.stroke([(0.42, y), (0.66, y)], darker(paint, 0.2), 0.5)
    pen.rect(0.68, 0.0, 0.72, 1.0, darker(paint, 0.45), outline=False)


def _envelope(pen: Pen, paint: RGB) -> None:
    pen.rect(0.20, 0.10, 0.84, 0.66, lighter(paint, 0.45), radius=0.02)
    paper = (250, 246, 236)
    pen.rect(0.08, 0.34, 0.92, 0.96, paper, radius=0.02)
    pen.stroke([(0.08, 0.36), (0.50, 0.68), (0.92, 0.36)], INK, 1.0)
    pen.rect(0.74, 0.42, 0.86, 0.56, paint, outline=False)


def _gift_card(pen: Pen, paint: RGB) -> None:
    pen.rect(0.04, 0.20, 0.96, 0.84, paint, radius=0.06)
    pen.rect(0.62, 0.20, 0.70, 0.84, RIBBON, outline=False)
    pen.oval(0.52, 0.36, 0.66, 0.52, RIBBON)
    pen.oval(0.66, 0.36, 0.80, 0.52, RIBBON)
    for n in range(3):
        y = 0.56 + n * 0.08
        pen.stroke([(0.12, y), (0.44 - n * 0.08, y)], lighter(paint, 0.6), 1.2)
    pen.draw.rounded_rectangle(pen.box(0.04, 0.20, 0.96, 0.84), radius=0.06 * pen.w,
                               outline=INK, width=pen.line)


def _pen(pen: Pen, paint: RGB) -> None:
    start, end, half = (0.14, 0.90), (0.84, 0.10), 0.055
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    nx, ny = -uy * half, ux * half

    def at(t: float, side: float) -> tuple[float, float]:
        return (start[0] + ux * length * t + nx * side, start[1] + uy * length * t + ny * side)

    pen.poly([at(0.14, 0.7), at(0.0, 0.0), at(0.14, -0.7)], darker(paint, 0.2))
    pen.poly([at(0.14, 1), at(1.0, 1), at(1.0, -1), at(0.14, -1)], paint)
    pen.poly([at(0.74, 1), at(1.0, 1), at(1.0, -1), at(0.74, -1)], darker(paint, 0.15))
    pen.stroke([at(0.76, -1.3), at(0.50, -1.3)], INK, 1.4)


def _gift_box(pen: Pen, paint: RGB) -> None:
    pen.oval(0.26, 0.06, 0.50, 0.32, RIBBON)
    pen.oval(0.50, 0.06, 0.74, 0.32, RIBBON)
    pen.rect(0.12, 0.40, 0.88, 1.0, paint)
    pen.rect(0.44, 0.40, 0.56, 1.0, RIBBON)
    pen.rect(0.06, 0.26, 0.94, 0.42, darker(paint, 0.08))
    pen.rect(0.44, 0.26, 0.56, 0.42, darker(RIBBON, 0.1))


def _apron(pen: Pen, paint: RGB) -> None:
    pen.draw.arc(pen.box(0.34, -0.06, 0.66, 0.30), 180, 360, fill=darker(paint, 0.3),
                 width=pen.line * 2)
    pen.stroke([(0.22, 0.46), (0.02, 0.56)], darker(paint, 0.3), 2)
    pen.stroke([(0.78, 0.46), (0.98, 0.56)], darker(paint, 0.3), 2)
    pen.poly([(0.34, 0.10), (0.66, 0.10), (0.66, 0.40), (0.80, 0.46), (0.84, 1.0),
              (0.16, 1.0), (0.20, 0.46), (0.34, 0.40)], paint)
    pen.rect(0.30, 0.62, 0.70, 0.82, darker(paint, 0.08), radius=0.02)
    pen.stroke([(0.5, 0.62), (0.5, 0.82)], INK, 1.0)


def cloth(pen: Pen, paint: RGB, checked: bool = False) -> None:
    pen.rect(0.06, 0.16, 0.94, 0.92, paint, radius=0.05)
    if checked:
        for n in range(1, 8):
            x, y = 0.06 + 0.88 * n / 8, 0.16 + 0.76 * n / 8
            pen.stroke([(x, 0.18), (x, 0.90)], lighter(paint, 0.6), 1.6)
            pen.stroke([(0.08, y), (0.92, y)], lighter(paint, 0.6), 1.6)
    else:
        for y in (0.26, 0.31, 0.77, 0.82):
            pen.stroke([(0.08, y), (0.92, y)], lighter(paint, 0.45), 1.2)
    pen.stroke([(0.06, 0.54), (0.94, 0.54)], darker(paint, 0.2), 1.0)
    for n in range(9):
        x = 0.12 + n * 0.095
        pen.stroke([(x, 0.92), (x, 0.99)], darker(paint, 0.2), 0.8)


def _towels(pen: Pen, paint: RGB) -> None:
    for n, colour in enumerate([(200, 190, 172), (128, 146, 104), (176, 92, 62)]):
        y = 0.16 + n * 0.26
        pen.rect(0.10 + n * 0.03, y, 0.90 - n * 0.03, y + 0.28, colour, radius=0.05)
        pen.stroke([(0.14 + n * 0.03, y + 0.07), (0.86 - n * 0.03, y + 0.07)],
                   lighter(colour, 0.4), 1.0)


def _cushion(pen: Pen, paint: RGB) -> None:
    pen.rect(0.08, 0.16, 0.92, 0.88, paint, radius=0.2)
    for x0, y0, x1, y1 in ((0.16, 0.24, 0.32, 0.38), (0.84, 0.24, 0.68, 0.38),
                           (0.16, 0.80, 0.32, 0.66), (0.84, 0.80, 0.68, 0.66)):
        pen.stroke([(x0, y0), (x1, y1)], darker(paint, 0.18), 0.8)
    pen.oval(0.45, 0.47, 0.55, 0.57, darker(paint, 0.25))


def _board(pen: Pen, paint: RGB) -> None:
    pen.rect(0.74, 0.46, 1.0, 0.64, paint, radius=0.06)
    pen.oval(0.88, 0.51, 0.95, 0.59, pen.background)
    pen.rect(0.0, 0.26, 0.80, 0.84, paint, radius=0.06)
    pen.rect(0.08, 0.34, 0.72, 0.76, lighter(paint, 0.12), radius=0.04)
    for y in (0.46, 0.58, 0.66):
        pen.stroke([(0.14, y), (0.66, y + 0.02)], darker(paint, 0.12), 0.7)


def _dripper(pen: Pen, paint: RGB) -> None:
    pen.rect(0.26, 0.60, 0.74, 1.0, darker(paint, 0.08), radius=0.06)
    pen.rect(0.22, 0.52, 0.78, 0.60, paint, radius=0.02)
    pen.poly([(0.10, 0.08), (0.90, 0.08), (0.66, 0.52), (0.34, 0.52)], paint)
    for x in (0.36, 0.5, 0.64):
        pen.stroke([(x, 0.14), (0.5 + (x - 0.5) * 0.5, 0.46)], darker(paint, 0.15), 0.7)


def _filters(pen: Pen, paint: RGB) -> None:
    for n in range(3):
        dx, dy = 0.06 * n, 0.12 * n
        pen.poly([(0.06 + dx, 0.10 + dy), (0.70 + dx, 0.10 + dy), (0.52 + dx, 0.62 + dy),
                  (0.24 + dx, 0.62 + dy)], darker(paint, 0.04 * n))
        pen.stroke([(0.38 + dx, 0.12 + dy), (0.38 + dx, 0.60 + dy)], darker(paint, 0.2), 0.6)


def _press(pen: Pen, paint: RGB) -> None:
    pen.ring(0.56, 0.32, 0.90, 0.80, darker(paint, 0.2), 0.07)
    pen.rect(0.24, 0.20, 0.70, 0.98, GLASS, radius=0.03)
    pen.rect(0.26, 0.52, 0.68, 0.96, (110, 72, 46), outline=False)
    pen.rect(0.22, 0.14, 0.72, 0.22, paint, radius=0.02)
    pen.rect(0.22, 0.92, 0.72, 1.0, paint, radius=0.02)
    pen.rect(0.45, 0.0, 0.49, 0.14, INK, outline=False)
    pen.oval(0.41, -0.04, 0.53, 0.06, paint)


def _grinder(pen: Pen, paint: RGB) -> None:
    pen.rect(0.24, 0.44, 0.76, 1.0, paint, radius=0.03)
    pen.oval(0.46, 0.70, 0.54, 0.78, darker(paint, 0.4))
    pen.rect(0.32, 0.24, 0.68, 0.44, STEEL)
    pen.stroke([(0.5, 0.20), (0.5, 0.12), (0.88, 0.06)], INK, 1.6)
    pen.oval(0.84, 0.0, 0.96, 0.12, WOOD)
    pen.oval(0.44, 0.16, 0.56, 0.26, INK)


def bag(pen: Pen, paint: RGB, label: RGB) -> None:
    pen.poly([(0.22, 0.14), (0.78, 0.14), (0.84, 1.0), (0.16, 1.0)], paint)
    pen.rect(0.22, 0.04, 0.78, 0.16, darker(paint, 0.12), radius=0.02)
    pen.rect(0.30, 0.40, 0.70, 0.80, label, radius=0.04)
    pen.oval(0.40, 0.48, 0.60, 0.72, (236, 220, 190))
    pen.draw.arc(pen.box(0.44, 0.48, 0.56, 0.72), 250, 110, fill=INK, width=pen.line)


def _leaf(start: tuple[float, float], end: tuple[float, float],
          half_width: float) -> list[tuple[float, float]]:
    """A leaf outline from stem to tip: widest in the middle, pointed at both ends."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy)
    nx, ny = -dy / length, dx / length
    ts = [i / 12 for i in range(13)]
    side = [(start[0] + dx * t + nx * half_width * math.sin(math.pi * t),
             start[1] + dy * t + ny * half_width * math.sin(math.pi * t)) for t in ts]
    other = [(start[0] + dx * t - nx * half_width * math.sin(math.pi * t),
              start[1] + dy * t - ny * half_width * math.sin(math.pi * t)) for t in ts]
    return side + other[::-1]


def _tin(pen: Pen, paint: RGB) -> None:
    pen.rect(0.26, 0.22, 0.74, 0.98, paint, radius=0.04)
    pen.rect(0.24, 0.12, 0.76, 0.30, darker(paint, 0.2), radius=0.03)
    pen.rect(0.26, 0.44, 0.74, 0.78, (244, 236, 218))
    pen.poly(_leaf((0.38, 0.72), (0.62, 0.50), 0.07), LEAF)
    pen.stroke([(0.40, 0.70), (0.60, 0.54)], darker(LEAF, 0.3), 0.8)


def _outdoor(pen: Pen, paint: RGB) -> None:
    pen.oval(0.58, 0.02, 0.90, 0.34, SUN)
    pen.rect(0.46, 0.78, 0.54, 1.0, WOOD)
    pen.poly([(0.5, 0.06), (0.86, 0.82), (0.14, 0.82)], paint)


def _generic(pen: Pen, paint: RGB) -> None:
    pen.oval(0.12, 0.12, 0.88, 0.88, paint)


def scenery(draw: ImageDraw.ImageDraw, size: int, base: RGB, background: RGB) -> None:
    """The outdoors behind outdoor things: a pale sun and two hills (circle and triangles)."""
    draw.ellipse((size * 0.70, size * 0.06, size * 0.88, size * 0.24),
                 fill=mix(background, SUN, 0.55))
    hill = mix(background, base, 0.28)
    draw.polygon([(0, size * 0.64), (size * 0.28, size * 0.30), (size * 0.58, size * 0.64)],
                 fill=hill)
    draw.polygon([(size * 0.40, size * 0.64), (size * 0.76, size * 0.36), (size, size * 0.58),
                  (size, size * 0.64)], fill=mix(background, base, 0.18))


Drawing = Callable[[Pen, RGB], None]
DRAWINGS: dict[str, Drawing] = {
    "mug": _mug, "teapot": _teapot, "percolator": _percolator, "flask": _flask,
    "lamp": _lamp, "pendant": _pendant, "candle": _candle, "tee": _tee, "hoodie": _hoodie,
    "cap": _cap, "notebook": _notebook, "envelope": _envelope, "gift_card": _gift_card,
    "pen": _pen, "gift_box": _gift_box, "apron": _apron, "cloth": cloth,
    "towels": _towels, "cushion": _cushion, "board": _board, "dripper": _dripper,
    "filters": _filters, "press": _press, "grinder": _grinder, "tin": _tin,
    "outdoor": _outdoor, "generic": _generic,
}
