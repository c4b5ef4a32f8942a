"""Products in the console: create with an image, edit, archive, and the refusals."""

from __future__ import annotations

import io

from PIL import Image

from core.catalog import service as catalog
from core.catalog.models import ProductStatus
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf, page_token, signed_in_admin


def png(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, "PNG")
    return buffer.getvalue()


FIELDS = {"sku": "VASE-TEAL", "name": "Teal vase", "category": "Home > Vases",
          "price": "24.90", "stock": "7", "threshold": "2", "description": "Hand thrown."}


async def test_an_admin_creates_a_product_with_an_image_then_edits_and_archives_it(client):
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products")
    created = await client.post("/admin/products", data={"csrf": token, **FIELDS},
                                files={"image": ("vase.png", png(), "image/png")})
    assert created.status_code == 303
    detail = await client.get(created.headers["location"])
    assert "Teal vase" in detail.text and '<img src="http://127.0.0.1:8000/media/' in detail.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        product = await catalog.get_by_sku(session=session, sku="VASE-TEAL")
        assert product.price_minor == 2490 and product.category.path == "Home > Vases"
        product_id = product.id
    edited = await client.post(f"/admin/products/{product_id}", data={
        "csrf": token, **FIELDS, "price": "19.90", "name": "Teal vase, small"})
    assert edited.status_code == 303
    archived = await client.post(f"/admin/products/{product_id}/archive", data={"csrf": token})
    assert archived.status_code == 303
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        product = await catalog.get_product(session=session, product_id=product_id)
        assert product.price_minor == 1990 and product.name == "Teal vase, small"
        assert product.status is ProductStatus.ARCHIVED
    assert "Teal vase" not in (await client.get("/admin/products")).text
    assert "Teal vase" in (await client.get("/admin/products", params={"archived": "1"})).text


async def test_bad_input_is_refused_with_the_reason_and_nothing_is_made(client):
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products")
    cases = [({"price": "twelve"}, "is not an amount"), ({"stock": "-3"}, "cannot be negative"),
             ({"sku": ""}, "SKU")]
    for change, message in cases:
        refused = await client.post("/admin/products", data={"csrf": token, **FIELDS, **change})
        assert refused.status_code == 400 and message in refused.text, change
    not_an_image = await client.post("/admin/products", data={"csrf": token, **FIELDS},
                                     files={"image": ("vase.png", b"not a picture", "image/png")})
    assert not_an_image.status_code == 400
    assert 'value="Teal vase"' in not_an_image.text, "what was typed is kept"
    whole = io.BytesIO()
    Image.new("RGB", (1200, 900), "teal").save(whole, "JPEG")
    cut_off = whole.getvalue()[: len(whole.getvalue()) // 2]  # reads well until decoded
    broken = await client.post("/admin/products", data={"csrf": token, **FIELDS},
                               files={"image": ("vase.jpg", cut_off, "image/jpeg")})
    assert broken.status_code == 400 and "not a readable image" in broken.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert await catalog.get_by_sku(session=session, sku="VASE-TEAL") is None
    made = await client.post("/admin/products", data={"csrf": token, **FIELDS})
    assert made.status_code == 303
    again = await client.post("/admin/products", data={"csrf": token, **FIELDS})
    assert again.status_code == 409 and "already used" in again.text


async def test_support_cannot_create_products(client):
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get("/admin/products")
    assert "Create product" not in page.text
    refused = await client.post("/admin/products", data={"csrf": csrf(page.text), **FIELDS})
    assert refused.status_code == 403


async def test_a_csv_imports_all_rows_or_none_with_every_bad_line_named(client):
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products")
    page = await client.get("/admin/products/import")
    assert page.status_code == 200 and "sku,name,category,price,stock" in page.text
    bad = ("sku,name,category,price,stock\n"
           "CUP-1,Cup,Kitchen > Cups,4.50,10\n"
           "CUP-2,Cup two,Kitchen > Cups,4.5.0,10\n"
           "CUP-3,,Kitchen > Cups,4.50,-1\n")
    refused = await client.post("/admin/products/import", data={"csrf": token},
                                files={"file": ("cups.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 400 and "Nothing was imported" in refused.text
    assert "<td>3</td>" in refused.text and "<td>4</td>" in refused.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert await catalog.get_by_sku(session=session, sku="CUP-1") is None
    good = bad.split("CUP-2")[0]
    done = await client.post("/admin/products/import", data={"csrf": token},
                             files={"file": ("cups.csv", good.encode(), "text/csv")})
    assert done.status_code == 200 and "Imported 1 products: 1 created" in done.text
    nothing = await client.post("/admin/products/import", data={"csrf": token})
    assert nothing.status_code == 400 and "Choose a CSV" in nothing.text
