"""Flat, deterministic product pictures drawn with Pillow, and the demo import file.

A picture is the category's colour (lightened) as background, a simple drawing that hints at
what the product is (a mug, a lamp, a bag of beans...) in the product's colour, and the
product's name underneath, wrapped to fit. Everything is drawn at twice the size and scaled
down, which gives smooth edges; nothing random is involved, so the same input always gives
the same bytes (for one Pillow version).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.demo.drawings import (
    DRAWINGS,
    GLASS,
    GREY,
    INK,
    KRAFT,
    PAINTS,
    RGB,
    SCALE,
    STEEL,
    WOOD,
    Pen,
    bag,
    cloth,
    lighter,
    scenery,
)
from core.demo.products import CATEGORY_COLOURS, DEMO_PRODUCTS

FIELDS = ["sku", "name", "category", "price", "stock", "description", "low_stock_threshold",
          "image", "attributes"]

# Words in the name, most telling first: "Tea time gift box" is a box, not tea.
_NAME_WORDS: list[tuple[set[str], str]] = [
    ({"gift card"}, "gift_card"), ({"box", "hamper"}, "gift_box"),
    ({"teapot", "kettle"}, "teapot"), ({"percolator"}, "percolator"),
    ({"candle", "candles"}, "candle"), ({"mug", "cup", "tumbler"}, "mug"),
    ({"flask", "bottle"}, "flask"), ({"pendant"}, "pendant"), ({"lamp", "light"}, "lamp"),
    ({"hoodie", "sweatshirt", "jumper"}, "hoodie"), ({"t-shirt", "tee"}, "tee"),
    ({"cap", "hat"}, "cap"), ({"notebook", "journal", "diary"}, "notebook"),
    ({"card", "cards"}, "envelope"), ({"pen", "pencil"}, "pen"), ({"apron"}, "apron"),
    ({"towel", "towels"}, "towels"), ({"blanket", "throw", "rug"}, "cloth"),
    ({"cushion", "pillow"}, "cushion"), ({"board"}, "board"), ({"dripper"}, "dripper"),
    ({"filter", "filters"}, "filters"), ({"press"}, "press"), ({"grinder"}, "grinder"),
    ({"beans", "roast", "ground", "coffee"}, "bag"), ({"tea", "chai"}, "tin"),
    ({"plant", "tree", "seeds"}, "outdoor"),
]
# Otherwise the category decides, the subcategory first.
_CATEGORY_WORDS: dict[str, str] = {
    "mugs": "mug", "teapots": "teapot", "lamps": "lamp", "candles": "candle",
    "t-shirts": "tee", "notebooks": "notebook", "coffee": "bag", "tea": "tin",
    "brewing": "dripper", "apparel": "tee", "stationery": "notebook", "outdoor": "outdoor",
    "gifts": "gift_box", "garden": "outdoor", "plants": "outdoor",
}
# Things that would otherwise all look alike (tea tins, notebooks...) get a colour of their
# own, picked from the name by a checksum: stable from run to run, unlike hash().
VARIED: list[RGB] = [(176, 92, 62), (112, 134, 92), (86, 128, 160), (200, 160, 60),
                     (150, 100, 140), (70, 128, 116), (122, 86, 62), (64, 76, 104)]
_VARIED_KINDS = {"tin", "notebook", "candle", "envelope"}
_DEFAULT_PAINTS: dict[str, RGB] = {
    "bag": KRAFT, "gift_box": KRAFT, "board": WOOD, "grinder": WOOD, "press": STEEL,
    "dripper": PAINTS["white"], "filters": (236, 222, 196), "flask": STEEL,
}


def _kind(name: str, category: str) -> str:
    text = name.lower()
    words = set(re.findall(r"[a-z]+(?:-[a-z]+)*", text))
    for keys, kind in _NAME_WORDS:
        if any((key in text) if " " in key else (key in words) for key in keys):
            return kind
    for part in reversed([p.strip().lower() for p in category.split(">")]):
        if part in _CATEGORY_WORDS:
            return _CATEGORY_WORDS[part]
    return "generic"


def _paint(name: str, kind: str, colour: str | None, base: RGB) -> RGB:
    if colour:
        for word in colour.lower().split():
            if word in PAINTS:
                return PAINTS[word]
    if "glass" in name.lower():
        return GLASS
    if kind in _VARIED_KINDS:
        return _varied(name)
    return _DEFAULT_PAINTS.get(kind, base)


def _varied(name: str) -> RGB:
    return VARIED[zlib.crc32(name.encode()) % len(VARIED)]


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
          width: float) -> list[str]:
    """As few lines as fit `width`, split so they are as even as possible ("Blue enamel /
    camp mug", not "Blue enamel camp / mug")."""
    words = text.split()
    greedy: list[str] = []
    for word in words:
        if greedy and font.getlength(f"{greedy[-1]} {word}") <= width:
            greedy[-1] = f"{greedy[-1]} {word}"
        else:
            greedy.append(word)
    if not 1 < len(greedy) <= 3 or len(words) > 12:
        return greedy
    best, best_width = greedy, max(font.getlength(line) for line in greedy)
    for cuts in itertools.combinations(range(1, len(words)), len(greedy) - 1):
        bounds = [0, *cuts, len(words)]
        lines = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
        widest = max(font.getlength(line) for line in lines)
        if widest < best_width:
            best, best_width = lines, widest
    return best


def _fit(text: str, width: float, height: float, largest: int, smallest: int,
         ) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str], float]:
    """The largest font (down to `smallest`) at which `text` fits in at most 3 lines."""
    size = largest
    while True:
        font = _font(size)
        lines = _wrap(text, font, width)
        step = size * 1.22
        fits = (len(lines) <= 3 and step * len(lines) <= height
                and all(font.getlength(line) <= width for line in lines))
        if fits or size <= smallest:
            break
        size = max(smallest, int(size * 0.9))
    if not fits:  # even the smallest font is too big: cut, and say so with an ellipsis
        lines = lines[:3]
        while lines[-1] and font.getlength(lines[-1] + "…") > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return font, lines, step


def render_product_image(name: str, category: str, size: int = 480,
                         colour: str | None = None) -> bytes:
    """A square PNG: the category's colour, a drawing of the product, and its name.

    `colour` is the product's colour attribute ("blue", "red check"...): the drawing is
    painted in it when it is one of PAINTS, in a colour that suits the object otherwise.
    """
    top_level = category.split(">")[0].strip()
    base = CATEGORY_COLOURS.get(top_level, GREY)
    big = size * SCALE
    background = lighter(base, 0.8)
    image = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(image)
    kind = _kind(name, category)
    paint = _paint(name, kind, colour, base)
    if top_level.lower() in {"outdoor", "garden"} and kind != "outdoor":
        scenery(draw, big, base, background)
    pen = Pen(draw, (big * 0.25, big * 0.10, big * 0.75, big * 0.60), background)
    if kind == "bag":
        bag(pen, paint, _varied(name))
    elif kind == "cloth":
        cloth(pen, paint, checked="check" in (colour or "").lower())
    else:
        DRAWINGS[kind](pen, paint)

    area_top, area_bottom, area_width = big * 0.67, big * 0.96, big * 0.88
    font, lines, step = _fit(name, area_width, area_bottom - area_top,
                             largest=max(8, big // 12), smallest=max(8, big // 24))
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (step, 0)
    block = step * (len(lines) - 1) + ascent + descent
    y = area_top + (area_bottom - area_top - block) / 2
    for line in lines:
        draw.text(((big - font.getlength(line)) / 2, y), line, font=font, fill=INK)
        y += step

    image = image.reduce(SCALE)  # averages SCALE x SCALE blocks: exact and fast
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def write_demo_catalog(directory: Path) -> Path:
    """Write every demo image and a catalog.csv in the import format; returns the CSV."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for product in DEMO_PRODUCTS:
            attributes = product["attributes"]
            colour = attributes.get("colour") if isinstance(attributes, dict) else None
            (directory / str(product["image"])).write_bytes(render_product_image(
                str(product["name"]), str(product["category"]), colour=colour))
            writer.writerow({**product, "attributes": json.dumps(
                attributes, separators=(",", ":"), ensure_ascii=False)})
    return path
