"""Flat, deterministic product pictures drawn with Pillow, and the demo import file."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.demo.products import CATEGORY_COLOURS, DEMO_PRODUCTS

FIELDS = ["sku", "name", "category", "price", "stock", "description", "low_stock_threshold",
          "image", "attributes"]


def _lighter(colour: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    r, g, b = colour
    return (int(r + (255 - r) * amount), int(g + (255 - g) * amount),
            int(b + (255 - b) * amount))


def _shape(draw: ImageDraw.ImageDraw, kind: str, box: tuple[int, int, int, int],
           colour: tuple[int, int, int]) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    outline = (40, 40, 40)
    if kind in {"mug", "cup", "flask", "percolator"}:
        body = (left + width * 0.2, top + height * 0.15, left + width * 0.7, bottom)
        draw.arc((body[2] - width * 0.12, top + height * 0.35, body[2] + width * 0.2,
                  top + height * 0.75), -90, 90, fill=outline, width=max(4, width // 24))
        draw.rounded_rectangle(body, radius=width // 12, fill=colour, outline=outline, width=3)
    elif kind in {"lamp", "pendant"}:
        draw.polygon([(left + width * 0.25, top + height * 0.45),
                      (left + width * 0.75, top + height * 0.45),
                      (left + width * 0.62, top), (left + width * 0.38, top)],
                     fill=colour, outline=outline)
        draw.rectangle((left + width * 0.48, top + height * 0.45, left + width * 0.52,
                        bottom - height * 0.08), fill=outline)
        draw.rectangle((left + width * 0.32, bottom - height * 0.08, left + width * 0.68, bottom),
                       fill=outline)
    elif kind in {"tee", "hoodie", "cap"}:
        draw.polygon([(left + width * 0.3, top), (left + width * 0.7, top), (right, top + height
                      * 0.25), (left + width * 0.85, top + height * 0.4), (left + width * 0.78,
                      top + height * 0.3), (left + width * 0.78, bottom), (left + width * 0.22,
                      bottom), (left + width * 0.22, top + height * 0.3), (left + width * 0.15,
                      top + height * 0.4), (left, top + height * 0.25)], fill=colour,
                     outline=outline)
    elif kind in {"notebook", "card", "journal", "book"}:
        draw.rounded_rectangle((left + width * 0.2, top, right - width * 0.2, bottom), radius=8,
                               fill=colour, outline=outline, width=3)
        for n in range(1, 7):
            y = top + height * n / 7
            draw.line((left + width * 0.3, y, right - width * 0.3, y), fill=(250, 250, 250),
                      width=2)
    elif kind in {"teapot", "pot"}:
        draw.ellipse((left + width * 0.15, top + height * 0.25, right - width * 0.15, bottom),
                     fill=colour, outline=outline, width=3)
        draw.polygon([(right - width * 0.2, top + height * 0.55), (right, top + height * 0.3),
                      (right - width * 0.05, top + height * 0.3),
                      (right - width * 0.22, top + height * 0.7)], fill=colour, outline=outline)
        draw.ellipse((left + width * 0.42, top + height * 0.12, left + width * 0.58,
                      top + height * 0.3), fill=outline)
    else:
        draw.ellipse((left + width * 0.15, top + height * 0.1, right - width * 0.15,
                      bottom - height * 0.1), fill=colour, outline=outline, width=3)


_KINDS = ["mug", "cup", "flask", "percolator", "pendant", "lamp", "t-shirt", "hoodie", "cap",
          "notebook", "journal", "card", "teapot"]
PAINTS = {"blue": (60, 100, 180), "red": (190, 60, 50), "white": (245, 245, 240),
          "black": (50, 50, 50), "brass": (190, 150, 70), "navy": (40, 55, 100),
          "green": (70, 120, 70), "grey": (140, 140, 140), "oat": (215, 200, 170),
          "cream": (240, 230, 200), "olive": (120, 120, 60), "sand": (210, 190, 150),
          "honey": (220, 170, 60), "steel": (170, 175, 180), "natural": (200, 170, 120)}


def _kind(name: str, category: str) -> str:
    words = f"{name} {category}".lower()
    kind = next((kind for kind in _KINDS if kind in words), "other")
    return "tee" if kind == "t-shirt" else kind


def render_product_image(name: str, category: str, size: int = 480,
                         colour: str | None = None) -> bytes:
    """A PNG: the category's colour, a shape in the product's colour, and its name."""
    top_level = category.split(">")[0].strip()
    base = CATEGORY_COLOURS.get(top_level, (150, 150, 150))
    image = Image.new("RGB", (size, size), _lighter(base, 0.78))
    draw = ImageDraw.Draw(image)
    margin = size // 6
    paint = PAINTS.get((colour or "").split()[0].lower(), base) if colour else base
    _shape(draw, _kind(name, category), (margin, margin // 2, size - margin, int(size * 0.62)),
           paint)
    font = ImageFont.load_default(size=max(12, size // 13))
    lines = textwrap.wrap(name, width=18)[:3]
    line_height = font.getbbox("Ag")[3] + size // 60
    y = int(size * 0.68)
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((size - width) / 2, y), line, font=font, fill=(35, 35, 35))
        y += line_height
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)
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
            assert isinstance(attributes, dict)
            (directory / str(product["image"])).write_bytes(render_product_image(
                str(product["name"]), str(product["category"]), colour=attributes.get("colour")))
            writer.writerow({**product, "attributes": json.dumps(product["attributes"],
                                                                  separators=(",", ":"))})
    return path
