"""Products: the list, one product's page, and what admins do with them: create, edit (with
an image), archive or restore, and import many at once from a CSV or JSON file."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from admin_web import forms
from admin_web.console import actor, console, money, status_of
from core.accounts.models import Role, User
from core.catalog import importer
from core.catalog import service as catalog
from core.catalog.errors import CatalogError
from core.catalog.images import MAX_BYTES as MAX_IMAGE
from core.catalog.images import check_image
from core.catalog.models import ProductStatus
from core.catalog.service import StockState
from core.errors import DomainError
from core.money import currency_exponent

MAX_IMPORT = 5 * 1024 * 1024

router = APIRouter()


async def products_page(request: Request, user: User, status: int = 200,
                        error: str | None = None, fields: dict[str, str] | None = None,
                        q: str = "", archived: bool = False, category: str = "",
                        stock: str = "", page: str = "1") -> Response:
    site = console(request)
    running = site.shop()
    chosen = forms.ident(category)
    state = StockState(stock) if stock in StockState._value2member_map_ else None
    async with running.transaction() as session:
        found = await catalog.staff_list(session=session, text=q, archived=archived,
                                         category_id=chosen, stock=state,
                                         page=forms.page(page))
        tree = await catalog.category_tree(session=session)
        session.expunge_all()
    return site.page(request, "products.html", status, user=user, found=found, q=q[:100],
                     archived=archived, error=error, fields=fields or {}, product=None,
                     tree=tree, category=chosen, stock=state.value if state else "",
                     can_edit=user.role is Role.ADMIN, money=money,
                     currency=running.settings.shop_currency, image_url=running.images.url)


@router.get("/products", response_model=None)
async def products(request: Request, q: str = "", archived: str = "", category: str = "",
                   stock: str = "", page: str = "1") -> Response:
    user = await console(request).staff_only(request)
    if not isinstance(user, User):
        return user
    return await products_page(request, user, q=q, archived=bool(archived), category=category,
                               stock=stock, page=page)


async def product_form(data: FormData) -> tuple[dict[str, str], bytes | None]:
    """The posted product fields and the picture's bytes (when one was chosen)."""
    fields = {k: v for k, v in data.items() if isinstance(v, str)}
    upload = data.get("image")
    image = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        image = await upload.read(MAX_IMAGE + 1)
    return fields, image


async def save_product(request: Request, user: User, fields: dict[str, str],
                       image: bytes | None, product_id: int | None) -> int:
    running = console(request).shop()
    currency = running.settings.shop_currency
    async with running.transaction() as session:
        path = fields.get("category", "").strip()
        category = (await catalog.ensure_category(session=session, path=path,
                                                  actor=actor(user)) if path else None)
        price = forms.amount(fields.get("price", ""), currency, CatalogError.PRICE_INVALID)
        if product_id is None:
            product = await catalog.create_product(
                session=session, actor=actor(user), sku=fields.get("sku", ""),
                name=fields.get("name", ""), price_minor=price, currency=currency,
                category=category, description=fields.get("description", ""),
                attributes=forms.attributes(fields.get("attributes", "")),
                stock=forms.whole(fields.get("stock", "0"), "Stock"),
                low_stock_threshold=forms.whole(fields.get("threshold", "5"), "Alert at"))
        else:
            product = await catalog.update_product(
                session=session, actor=actor(user), product_id=product_id,
                sku=fields.get("sku", ""), name=fields.get("name", "").strip(),
                description=fields.get("description", "").strip(), price_minor=price,
                category_id=category.id if category else None,
                attributes=forms.attributes(fields.get("attributes", "")))
        if image is not None:
            await catalog.add_image(session=session, storage=running.images,
                                    actor=actor(user), product_id=product.id,
                                    image=check_image(image))
        return product.id


@router.post("/products", response_model=None)
async def create_product(request: Request) -> Response:
    site = console(request)
    checked = await site.uploading(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    fields, image = await product_form(data)
    try:
        product_id = await save_product(request, user, fields, image, None)
    except DomainError as problem:
        return await products_page(request, user, status_of(problem), problem.message, fields)
    return site.go(request, f"/products/{product_id}")


# Before /products/{product_id}, which would otherwise take "import" for a product's id.
@router.get("/products/import", response_model=None)
async def import_page(request: Request) -> Response:
    site = console(request)
    user = await site.staff_only(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    return site.page(request, "import.html", user=user, problems=[], report=None)


@router.post("/products/import", response_model=None)
async def import_products(request: Request) -> Response:
    site = console(request)
    checked = await site.uploading(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    upload = data.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return site.page(request, "import.html", 400, user=user, problems=[], report=None,
                         error="Choose a CSV or JSON file to import.")
    content = await upload.read(MAX_IMPORT + 1)
    if len(content) > MAX_IMPORT:
        return site.page(request, "import.html", 413, user=user, problems=[], report=None,
                         error="That file is too large (at most 5 MB).")
    running = site.shop()
    currency = running.settings.shop_currency
    try:
        # No folder: an image path names a file on this server, never one of the upload's,
        # so it is refused (the page says so); pictures are uploaded on a product's page.
        rows = importer.read_rows(content, filename=upload.filename, currency=currency,
                                  base=None)
        async with running.transaction() as session:
            report = await importer.import_rows(
                session=session, rows=rows, storage=running.images, currency=currency,
                actor=actor(user))
    except importer.ImportFailed as failed:
        return site.page(request, "import.html", 400, user=user, report=None,
                         problems=failed.problems)
    return site.page(request, "import.html", user=user, problems=[], report=report)


async def product_page(request: Request, user: User, product_id: int, status: int = 200,
                       error: str | None = None) -> Response:
    site = console(request)
    running = site.shop()
    async with running.transaction() as session:
        try:
            product = await catalog.get_product(session=session, product_id=product_id)
        except DomainError:
            return site.page(request, "base.html", 404, user=user, error="No such product.")
        await session.refresh(product, ["images"])
        session.expunge_all()
    fields = {"sku": product.sku, "name": product.name, "description": product.description,
              "category": product.category.path if product.category else "",
              "attributes": "\n".join(f"{k}: {v}" for k, v in product.attributes.items()),
              "price": str(Decimal(product.price_minor).scaleb(
                  -currency_exponent(product.currency)))}
    return site.page(request, "product.html", status, user=user, product=product, error=error,
                     fields=fields, can_edit=user.role is Role.ADMIN,
                     currency=running.settings.shop_currency, image_url=running.images.url)


@router.get("/products/{product_id}", response_model=None)
async def product_detail(request: Request, product_id: int) -> Response:
    user = await console(request).staff_only(request)
    if not isinstance(user, User):
        return user
    return await product_page(request, user, product_id)


@router.post("/products/{product_id}", response_model=None)
async def edit_product(request: Request, product_id: int) -> Response:
    site = console(request)
    checked = await site.uploading(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    try:
        await save_product(request, user, *await product_form(data), product_id)
    except DomainError as problem:
        return await product_page(request, user, product_id, status_of(problem), problem.message)
    return site.go(request, f"/products/{product_id}")


@router.post("/products/{product_id}/{change}", response_model=None)
async def change_product(request: Request, product_id: int, change: str) -> Response:
    """Archive or restore a product, or take one of its pictures off it."""
    site = console(request)
    checked = await site.acting(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    user, data = checked
    if change not in ("archive", "restore", "remove-image"):
        return site.page(request, "base.html", 404, user=user, error="No such change.")
    try:
        async with site.shop().transaction() as session:
            if change == "remove-image":
                await catalog.remove_image(session=session, actor=actor(user),
                                           product_id=product_id,
                                           image_id=forms.ident(data.get("image", "")) or 0)
            else:
                await catalog.set_status(
                    session=session, actor=actor(user), product_id=product_id,
                    status=ProductStatus.ARCHIVED if change == "archive"
                    else ProductStatus.ACTIVE)
    except DomainError as problem:
        return await product_page(request, user, product_id, status_of(problem), problem.message)
    return site.go(request, f"/products/{product_id}")
