"""Bulk catalog import from CSV or JSON: all rows or none, every bad row named by its line.

Format (DESIGN.md): `sku, name, category, price, stock` required; `description,
low_stock_threshold, image, attributes` optional; price a decimal in the shop currency.
An existing SKU is updated, a new one created.

Images are paths to files in the import file's own folder, for the command line. Whatever
a path says (absolute, `../..`, a symlink out, /proc/self/environ, a device), only a
regular file inside that folder is read, and at most `MAX_BYTES` of it; a path outside
gets the same answer whether or not something is there. The console's upload has no
folder of its own (`base=None`): an image path there is refused, and pictures are added
on each product's page.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.catalog import service as catalog
from core.catalog.errors import CatalogError
from core.catalog.images import MAX_BYTES, CheckedImage, ImageStorage, check_image
from core.errors import DomainError, InvalidInput
from core.i18n import _
from core.inventory import service as inventory
from core.money import parse_amount

REQUIRED = ("sku", "name", "category", "price", "stock")
OPTIONAL = ("description", "low_stock_threshold", "image", "attributes")
DEFAULT_THRESHOLD = 5


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(InvalidInput):
    """The file had bad rows; nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        summary = "\n".join(str(p) for p in problems)
        super().__init__(CatalogError.IMPORT_FAILED,
                         f"Nothing was imported: {len(problems)} problem(s).\n{summary}")


@dataclass(slots=True)
class Row:
    line: int
    sku: str
    name: str
    category: str
    price_minor: int
    stock: int
    description: str
    threshold: int
    attributes: dict[str, str]
    image: CheckedImage | None


@dataclass(slots=True)
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated)


# -- reading ------------------------------------------------------------------------------

def _read_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    problems = _check_header(header)
    if problems:
        return [], problems
    reader.fieldnames = header
    records = []
    try:
        for record in reader:
            if None in record:
                problems.append(Problem(reader.line_num, "more values than columns"))
            elif any((value or "").strip() for value in record.values()):
                records.append((reader.line_num, record))
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, f"unreadable CSV: {exc}"))
    return records, problems


def _check_header(header: list[str]) -> list[Problem]:
    if not header:
        return [Problem(1, "the file is empty; expected a header row: " + ", ".join(REQUIRED))]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    problems = []
    if missing:
        problems.append(Problem(1, "missing column(s): " + ", ".join(missing)))
    if unknown:
        problems.append(Problem(1, "unknown column(s): " + ", ".join(unknown)))
    return problems


def _read_json(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    """A list of objects; each keeps the line it starts on, for the report."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if position >= len(text) or text[position] != "[":
        return [], [Problem(_line_of(text, position), "expected a JSON list of products")]
    records: list[tuple[int, dict[str, Any]]] = []
    position = _skip_space(text, position + 1)
    while position < len(text) and text[position] != "]":
        line = _line_of(text, position)
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            return records, [Problem(exc.lineno, f"invalid JSON: {exc.msg}")]
        if not isinstance(value, dict):
            return records, [Problem(line, "each product must be a JSON object")]
        records.append((line, {str(k).strip().lower(): v for k, v in value.items()}))
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip_space(text, position + 1)
    if position >= len(text):
        return records, [Problem(_line_of(text, position), "the JSON list is not closed")]
    problems = []
    for line, record in records:
        unknown = [key for key in record if key not in REQUIRED + OPTIONAL]
        if unknown:
            problems.append(Problem(line, "unknown field(s): " + ", ".join(unknown)))
    return records, problems


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


# -- checking -----------------------------------------------------------------------------

def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()


def _whole(record: dict[str, Any], key: str, default: int | None = None) -> int:
    raw = record.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is None:
            raise ValueError(f"{key} is required")
        return default
    if isinstance(raw, bool) or isinstance(raw, float):
        raise ValueError(f"{key} must be a whole number, not {raw!r}")
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {raw!r}") from None
    if number < 0:
        raise ValueError(f"{key} cannot be negative")
    return number


def _attributes(raw: Any) -> dict[str, str]:
    """A JSON object, or `key=value; key=value` text."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("attributes: invalid JSON object") from None
        else:
            pairs = [part.split("=", 1) for part in text.split(";") if part.strip()]
            if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
                raise ValueError("attributes: use a JSON object or key=value; key=value")
            return {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(raw, dict):
        raise ValueError("attributes must be an object of names to values")
    if any(isinstance(v, dict | list) for v in raw.values()):
        raise ValueError("attribute values must be text or numbers")
    return {str(k).strip(): str(v).strip() for k, v in raw.items()}


class ImageRefused(Exception):
    """An image path that names nothing this import may read; the message says so."""


def _image_bytes(base: Path | None, name: str) -> bytes:
    """The file `name` names inside `base`, symlinks resolved first, read up to one byte
    past the size limit (check_image refuses that). Only a regular file: a FIFO or a
    device would block or never end, so it is opened without waiting and looked at first."""
    if base is None:
        raise ImageRefused(_("Pictures cannot be given by path here: add them on the "
                             "product's page (the image column is for the command line)."))
    try:
        folder = base.resolve()
        path = (folder / name).resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL, a name too long, a symlink loop
        path = None
    if path is None or path == folder or not path.is_relative_to(folder):
        raise ImageRefused(_("The image {name} is not a file in the import file's folder.",
                             name=repr(name)))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise ImageRefused(f"image {name!r} not found next to the file") from None
    except OSError:
        raise ImageRefused(_("The image {name} cannot be read.", name=repr(name))) from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise ImageRefused(_("The image {name} is not a regular file.", name=repr(name)))
        try:
            return file.read(MAX_BYTES + 1)
        except OSError:
            raise ImageRefused(_("The image {name} cannot be read.",
                                 name=repr(name))) from None


def _check(line: int, record: dict[str, Any], currency: str,
           base: Path | None) -> tuple[Row | None, list[str]]:
    errors: list[str] = []
    sku, name, category = _text(record, "sku"), _text(record, "name"), _text(record, "category")
    if not sku:
        errors.append("sku is required")
    elif not catalog.SKU_PATTERN.match(sku):
        errors.append(f"sku {sku!r} may only hold letters, digits, '.', '_' and '-' (max 64)")
    if not name:
        errors.append("name is required")
    elif len(name) > 200:
        errors.append("name is longer than 200 characters")
    try:
        catalog.split_path(category)
    except DomainError as exc:
        errors.append(f"category: {exc.message}")
    price_minor = stock = threshold = 0
    raw_price = record.get("price")
    try:
        if raw_price is None or str(raw_price).strip() == "":
            raise ValueError("is required")
        if isinstance(raw_price, float):
            raw_price = repr(raw_price)  # JSON numbers: take the digits as written
        price_minor = parse_amount(str(raw_price), currency)
    except ValueError as exc:
        errors.append(f"price {exc}" if str(exc) == "is required" else f"price: {exc}")
    for key, default in (("stock", None), ("low_stock_threshold", DEFAULT_THRESHOLD)):
        try:
            value = _whole(record, key, default)
        except ValueError as exc:
            errors.append(str(exc))
        else:
            stock, threshold = (value, threshold) if key == "stock" else (stock, value)
    attributes: dict[str, str] = {}
    try:
        attributes = _attributes(record.get("attributes"))
    except ValueError as exc:
        errors.append(str(exc))
    image = None
    if image_name := _text(record, "image"):
        try:
            image = check_image(_image_bytes(base, image_name))
        except ImageRefused as refused:
            errors.append(str(refused))
        except InvalidInput as exc:
            errors.append(f"image {image_name!r}: {exc.message}")
    if errors:
        return None, errors
    return Row(line, sku, name, category, price_minor, stock, _text(record, "description"),
               threshold, attributes, image), []


def read_rows(data: bytes, *, filename: str, currency: str, base: Path | None) -> list[Row]:
    """Parse and check a whole file; raise ImportFailed listing every bad row. Images are
    read from the folder `base` (the file's own); None refuses every image path."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([Problem(data.count(b"\n", 0, exc.start) + 1,
                                    "the file is not UTF-8 text")]) from None
    is_json = filename.lower().endswith(".json") or text.lstrip().startswith("[")
    records, problems = _read_json(text) if is_json else _read_csv(text)
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for line, record in records:
        row, errors = _check(line, record, currency, base)
        sku = _text(record, "sku")
        if sku and sku in seen:
            errors.append(f"sku {sku} is also on line {seen[sku]}")
        seen.setdefault(sku, line)
        problems.extend(Problem(line, error) for error in errors)
        if row is not None:
            rows.append(row)
    if not records and not problems:
        problems.append(Problem(1, "the file has no products"))
    if problems:
        raise ImportFailed(sorted(problems, key=lambda p: p.line))
    return rows


# -- writing ------------------------------------------------------------------------------

async def import_rows(
    *, session: AsyncSession, rows: list[Row], storage: ImageStorage, currency: str,
    actor: Actor,
) -> Report:
    """Create or update every row in the caller's transaction; any failure fails them all."""
    report = Report()
    problems: list[Problem] = []
    for row in rows:
        try:
            await _apply(session, row, storage, currency, actor, report)
        except DomainError as exc:
            problems.append(Problem(row.line, exc.message))
    if problems:
        raise ImportFailed(problems)
    await audit.record(session=session, actor=actor, action="catalog.imported",
                       subject_type="catalog", subject_id="import",
                       data={"created": len(report.created), "updated": len(report.updated)})
    return report


async def _apply(session: AsyncSession, row: Row, storage: ImageStorage, currency: str,
                 actor: Actor, report: Report) -> None:
    category = await catalog.ensure_category(session=session, path=row.category, actor=actor)
    product = await catalog.get_by_sku(session=session, sku=row.sku)
    if product is None:
        product = await catalog.create_product(
            session=session, actor=actor, sku=row.sku, name=row.name,
            price_minor=row.price_minor, currency=currency, category=category,
            description=row.description, attributes=row.attributes, stock=row.stock,
            low_stock_threshold=row.threshold)
        report.created.append(row.sku)
    else:
        await catalog.update_product(
            session=session, actor=actor, product_id=product.id, name=row.name,
            price_minor=row.price_minor, category_id=category.id,
            description=row.description, attributes=row.attributes)
        await inventory.set_threshold(session=session, product_id=product.id,
                                      threshold=row.threshold, actor=actor)
        await inventory.set_on_hand(session=session, product_id=product.id, on_hand=row.stock,
                                    reason="catalog import", actor=actor)
        report.updated.append(row.sku)
    if row.image is not None:
        await catalog.add_image(session=session, storage=storage, actor=actor,
                                product_id=product.id, image=row.image, alt=row.name)
