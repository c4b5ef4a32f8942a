"""Catalog use cases: categories, products, archiving, images."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from core.audit import service as audit
from core.audit.actor import Actor
from core.catalog.errors import CatalogError
from core.catalog.images import CheckedImage, ImageStorage, thumbnail
from core.catalog.models import Category, Product, ProductImage, ProductStatus
from core.errors import Conflict, InvalidInput, NotFound
from core.inventory import service as inventory
from core.inventory.models import StockItem
from core.paging import PER_PAGE, Paged, paged

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
PATH_SEPARATOR = ">"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "category"


def split_path(path: str) -> list[str]:
    """ "Kitchen > Mugs" -> ["Kitchen", "Mugs"]; at most two levels."""
    parts = [part.strip() for part in path.split(PATH_SEPARATOR)]
    if not path.strip() or any(not part for part in parts):
        raise InvalidInput(CatalogError.CATEGORY_NOT_FOUND, "A category name is required.")
    if len(parts) > 2:
        raise InvalidInput(CatalogError.CATEGORY_TOO_DEEP,
                           "Categories nest one level: use 'Parent > Child'.")
    return parts


def search_text(product: Product, category_path: str = "") -> str:
    values = " ".join(str(v) for v in (product.attributes or {}).values())
    return " ".join([product.name, product.sku, product.description, category_path,
                     values]).lower()


# -- categories ---------------------------------------------------------------------------

async def _child(session: AsyncSession, parent_id: int | None, name: str) -> Category | None:
    return await session.scalar(
        select(Category).where(Category.parent_id.is_(None) if parent_id is None
                               else Category.parent_id == parent_id,
                               func.lower(Category.name) == name.lower()))


async def _unique_slug(session: AsyncSession, base: str) -> str:
    slug, n = base, 2
    while await session.scalar(select(func.count()).where(Category.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


async def ensure_category(*, session: AsyncSession, path: str, actor: Actor) -> Category:
    """The category at `path` ("Parent > Child"), created with its parent when missing."""
    parent: Category | None = None
    for name in split_path(path):
        found = await _child(session, parent.id if parent else None, name)
        if found is None:
            slug_base = slugify(f"{parent.name} {name}" if parent else name)
            found = Category(name=name[:80], parent_id=parent.id if parent else None,
                             path=f"{parent.name} > {name[:80]}" if parent else name[:80],
                             slug=await _unique_slug(session, slug_base))
            session.add(found)
            await session.flush()
            await audit.record(session=session, actor=actor, action="category.created",
                               subject_type="category", subject_id=found.id,
                               data={"path": found.path})
        parent = found
    assert parent is not None
    return parent


async def find_category(*, session: AsyncSession, path: str) -> Category | None:
    parent: Category | None = None
    for name in split_path(path):
        parent = await _child(session, parent.id if parent else None, name)
        if parent is None:
            return None
    return parent


async def get_category(*, session: AsyncSession, category_id: int) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound(CatalogError.CATEGORY_NOT_FOUND, "That category does not exist.")
    return category


async def subcategories(*, session: AsyncSession, category_id: int) -> list[Category]:
    rows = await session.scalars(select(Category).where(Category.parent_id == category_id)
                                 .order_by(Category.position, Category.name))
    return list(rows)


_SHELF = select(Category).where(or_(Category.id == bindparam("category_id"),
                                   Category.parent_id == bindparam("category_id"))
                               ).order_by(Category.position, Category.name)


async def shelf(*, session: AsyncSession, category_id: int) -> tuple[Category, list[Category]]:
    """A category and its subcategories in one statement (built once): what a chat's
    category page shows, on many turns."""
    found = list(await session.scalars(_SHELF, {"category_id": category_id}))
    category = next((c for c in found if c.id == category_id), None)
    if category is None:
        raise NotFound(CatalogError.CATEGORY_NOT_FOUND, "That category does not exist.")
    return category, [c for c in found if c.id != category_id]


@dataclass(frozen=True, slots=True)
class CategoryNode:
    category: Category
    children: list[Category]
    product_count: int


_CATEGORIES = select(Category).order_by(Category.position, Category.name)
_ACTIVE_BY_CATEGORY = select(Product.category_id, func.count()).where(
    Product.status == ProductStatus.ACTIVE).group_by(Product.category_id)


async def category_tree(*, session: AsyncSession) -> list[CategoryNode]:
    """Top-level categories with their children and active product counts (children
    included). The statements are built once: a chat's "browse" runs them."""
    categories = list(await session.scalars(_CATEGORIES))
    counts = dict((await session.execute(_ACTIVE_BY_CATEGORY)).all())
    nodes = []
    for top in (c for c in categories if c.parent_id is None):
        children = [c for c in categories if c.parent_id == top.id]
        total = counts.get(top.id, 0) + sum(counts.get(c.id, 0) for c in children)
        nodes.append(CategoryNode(top, children, total))
    return nodes


async def rename_category(*, session: AsyncSession, category_id: int, name: str,
                          actor: Actor) -> Category:
    """Rename a category (at most 80 characters); its children's paths and its products'
    search text follow. The slug stays, so links made earlier keep working."""
    category = await get_category(session=session, category_id=category_id)
    name = name.strip()[:80]
    if not name or PATH_SEPARATOR in name:
        raise InvalidInput(CatalogError.CATEGORY_NAME_INVALID,
                           f"A category name is required, without '{PATH_SEPARATOR}'.")
    if name == category.name:
        return category
    twin = await _child(session, category.parent_id, name)
    if twin is not None and twin.id != category.id:
        raise Conflict(CatalogError.CATEGORY_TAKEN, f"There is already a category “{name}” here.")
    before, category.name = category.name, name
    parent = (await get_category(session=session, category_id=category.parent_id)
              if category.parent_id is not None else None)
    category.path = f"{parent.name} > {name}" if parent else name
    changed = [category, *await subcategories(session=session, category_id=category.id)]
    for child in changed[1:]:
        child.path = f"{name} > {child.name}"
    paths = {c.id: c.path for c in changed}
    for product in await session.scalars(
            select(Product).where(Product.category_id.in_(paths))):
        product.search_text = search_text(product, paths[product.category_id or 0])
    await audit.record(session=session, actor=actor, action="category.renamed",
                       subject_type="category", subject_id=category.id,
                       data={"from": before, "to": name})
    await session.flush()
    return category


async def delete_category(*, session: AsyncSession, category_id: int, actor: Actor) -> None:
    """Remove an empty category: one holding products or subcategories is refused, so no
    product is left without the shelf it was put on by accident. The row lock makes a
    product being filed into it at the same moment wait (PostgreSQL's key-share lock)."""
    category = await session.get(Category, category_id, with_for_update=True)
    if category is None:
        raise NotFound(CatalogError.CATEGORY_NOT_FOUND, "That category does not exist.")
    if await subcategories(session=session, category_id=category.id):
        raise Conflict(CatalogError.CATEGORY_NOT_EMPTY,
                       f"“{category.path}” has subcategories: remove or rename them first.")
    held = await session.scalar(select(func.count()).select_from(Product)
                                .where(Product.category_id == category.id)) or 0
    if held:
        raise Conflict(CatalogError.CATEGORY_NOT_EMPTY,
                       f"“{category.path}” holds {held} product{'s' if held != 1 else ''} "
                       "(archived ones count): move them first.")
    await session.delete(category)
    await audit.record(session=session, actor=actor, action="category.deleted",
                       subject_type="category", subject_id=category_id,
                       data={"path": category.path})
    await session.flush()


# -- products -----------------------------------------------------------------------------

MAX_ATTRIBUTES, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE = 20, 40, 200


def checked_attributes(attributes: dict[str, Any] | None) -> dict[str, str]:
    """Attributes as shoppers see them ("colour: blue"): short text names and values."""
    found = {str(k).strip(): str(v).strip() for k, v in (attributes or {}).items()}
    if len(found) > MAX_ATTRIBUTES:
        raise InvalidInput(CatalogError.ATTRIBUTES_INVALID,
                           f"A product has at most {MAX_ATTRIBUTES} attributes.")
    for name, value in found.items():
        if not name or len(name) > MAX_ATTRIBUTE_NAME:
            raise InvalidInput(CatalogError.ATTRIBUTES_INVALID,
                               f"Attribute names are 1-{MAX_ATTRIBUTE_NAME} characters.")
        if not value or len(value) > MAX_ATTRIBUTE_VALUE:
            raise InvalidInput(CatalogError.ATTRIBUTES_INVALID,
                               f"“{name}” needs a value of at most {MAX_ATTRIBUTE_VALUE} "
                               "characters.")
    return found


def _check_fields(sku: str, name: str, price_minor: int) -> None:
    if not SKU_PATTERN.match(sku):
        raise InvalidInput(CatalogError.SKU_INVALID,
                           "SKU must be 1-64 letters, digits, '.', '_' or '-'.")
    if not name.strip():
        raise InvalidInput(CatalogError.NAME_REQUIRED, "A product needs a name.")
    if isinstance(price_minor, bool) or not isinstance(price_minor, int) or price_minor < 0:
        raise InvalidInput(CatalogError.PRICE_INVALID, "Price must be zero or more.")


_PRODUCT = select(Product).where(Product.id == bindparam("product_id")).options(
    joinedload(Product.images))


async def get_product(*, session: AsyncSession, product_id: int) -> Product:
    """A product with its images, in one statement built once (a chat's product card)."""
    product = (await session.execute(_PRODUCT, {"product_id": product_id})
               ).unique().scalar_one_or_none()
    if product is None:
        raise NotFound(CatalogError.PRODUCT_NOT_FOUND, "That product does not exist.")
    return product


async def get_by_sku(*, session: AsyncSession, sku: str) -> Product | None:
    return await session.scalar(select(Product).where(Product.sku == sku.strip()))


async def create_product(
    *, session: AsyncSession, actor: Actor, sku: str, name: str, price_minor: int,
    currency: str, category: Category | None = None, description: str = "",
    attributes: dict[str, Any] | None = None, stock: int = 0, low_stock_threshold: int = 5,
) -> Product:
    sku = sku.strip()
    _check_fields(sku, name, price_minor)
    if stock < 0 or low_stock_threshold < 0:
        raise InvalidInput(CatalogError.PRICE_INVALID, "Stock and threshold cannot be negative.")
    if await get_by_sku(session=session, sku=sku) is not None:
        raise Conflict(CatalogError.SKU_TAKEN, f"SKU {sku} is already used.")
    product = Product(sku=sku, name=name.strip()[:200], description=description.strip(),
                      price_minor=price_minor, currency=currency,
                      category_id=category.id if category else None,
                      attributes=checked_attributes(attributes), status=ProductStatus.ACTIVE,
                      images=[])
    product.search_text = search_text(product, category.path if category else "")
    session.add(product)
    await session.flush()
    stock_item = StockItem(product_id=product.id, on_hand=stock, reserved=0,
                           low_stock_threshold=low_stock_threshold)
    session.add(stock_item)
    await session.flush()
    await inventory.watch_threshold(session, stock_item, announce=False)
    await audit.record(session=session, actor=actor, action="product.created",
                       subject_type="product", subject_id=product.id,
                       data={"sku": sku, "price_minor": price_minor, "stock": stock})
    await session.flush()
    return product


EDITABLE = {"sku", "name", "description", "price_minor", "category_id", "attributes"}


async def update_product(
    *, session: AsyncSession, actor: Actor, product_id: int, **changes: Any
) -> Product:
    """Change some fields; the audit event lists exactly what changed."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    product = await get_product(session=session, product_id=product_id)
    proposed = {key: changes.get(key, getattr(product, key)) for key in EDITABLE}
    proposed["sku"] = str(proposed["sku"]).strip()
    _check_fields(proposed["sku"], proposed["name"], proposed["price_minor"])
    if "attributes" in changes:  # older rows are left as they are until edited
        proposed["attributes"] = checked_attributes(proposed["attributes"])
    if proposed["sku"] != product.sku:
        if await get_by_sku(session=session, sku=proposed["sku"]) is not None:
            raise Conflict(CatalogError.SKU_TAKEN, f"SKU {proposed['sku']} is already used.")
    category = (await get_category(session=session, category_id=proposed["category_id"])
                if proposed["category_id"] is not None else None)
    changed = {k: v for k, v in proposed.items() if getattr(product, k) != v}
    if not changed:
        return product
    before = {k: getattr(product, k) for k in changed}
    for key, value in changed.items():
        setattr(product, key, value)
    if "category_id" in changed:
        product.category = category
    product.search_text = search_text(product, category.path if category else "")
    await audit.record(session=session, actor=actor, action="product.updated",
                       subject_type="product", subject_id=product.id,
                       data={"before": before, "after": changed})
    await session.flush()
    return product


async def set_status(
    *, session: AsyncSession, actor: Actor, product_id: int, status: ProductStatus
) -> Product:
    """Archive hides a product from shoppers (kept for order history); restore shows it again."""
    product = await get_product(session=session, product_id=product_id)
    if product.status != status:
        product.status = status
        await audit.record(session=session, actor=actor,
                           action="product.archived" if status is ProductStatus.ARCHIVED
                           else "product.restored",
                           subject_type="product", subject_id=product.id)
    return product


async def add_image(
    *, session: AsyncSession, storage: ImageStorage, actor: Actor, product_id: int,
    image: CheckedImage, alt: str = "",
) -> ProductImage:
    product = await get_product(session=session, product_id=product_id)
    small = await asyncio.to_thread(thumbnail, image)  # pixels: off the event loop
    key = storage.save(image)
    existing = next((i for i in product.images if i.storage_key == key), None)
    if existing is not None:
        return existing
    record = ProductImage(product_id=product.id, storage_key=key,
                          thumb_key=key if small is image else storage.save(small),
                          content_type=image.content_type, width=image.width,
                          height=image.height, position=len(product.images),
                          alt=(alt or product.name)[:200])
    product.images.append(record)
    await audit.record(session=session, actor=actor, action="product.image_added",
                       subject_type="product", subject_id=product.id, data={"key": key})
    await session.flush()
    return record


async def remove_image(
    *, session: AsyncSession, actor: Actor, product_id: int, image_id: int
) -> None:
    """Detach an image; the file stays, since content-addressed files may be shared."""
    product = await get_product(session=session, product_id=product_id)
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        raise NotFound(CatalogError.IMAGE_INVALID, "That image is not on this product.")
    product.images.remove(image)
    for position, remaining in enumerate(product.images):
        remaining.position = position
    await audit.record(session=session, actor=actor, action="product.image_removed",
                       subject_type="product", subject_id=product.id,
                       data={"key": image.storage_key})


class StockState(StrEnum):
    """How the console filters products by stock: some left, at or under the alert (sold
    out included, as the alert counts them), none left."""
    IN_STOCK = "in"
    LOW = "low"
    OUT = "out"


async def staff_list(*, session: AsyncSession, text: str = "", archived: bool = False,
                     category_id: int | None = None, stock: StockState | None = None,
                     page: int = 1, per_page: int = PER_PAGE) -> Paged[tuple[Product, int]]:
    """Products for the console with what is available of each: archived ones on request,
    matched on SKU or name, in a category (its children too) and by stock state."""
    status = ProductStatus.ARCHIVED if archived else ProductStatus.ACTIVE
    available = func.coalesce(StockItem.available, 0)
    query = (select(Product, available).outerjoin(StockItem,
                                                  StockItem.product_id == Product.id)
             .where(Product.status == status))
    words = text.strip()[:100]
    if words:
        query = query.where(or_(Product.sku.icontains(words, autoescape=True),
                                Product.name.icontains(words, autoescape=True)))
    if category_id is not None:
        children = select(Category.id).where(Category.parent_id == category_id)
        query = query.where(or_(Product.category_id == category_id,
                                Product.category_id.in_(children)))
    if stock is StockState.IN_STOCK:
        query = query.where(available > 0)
    elif stock is StockState.LOW:
        query = query.where(StockItem.running_low)
    elif stock is StockState.OUT:
        query = query.where(available <= 0)
    found = await paged(session, query.options(selectinload(Product.images))
                        .order_by(Product.name, Product.id),
                        page=page, per_page=per_page, scalars=False)
    return Paged([(product, int(left)) for product, left in found.items], found.total,
                 found.page, found.per_page)
