"""The catalog's console pages beyond one product: filters and pages, attributes, pictures
with thumbnails, and the category tree, each change by an admin and refused to support."""

from __future__ import annotations

import io
import re

from PIL import Image

from core.carts import service as carts
from core.catalog import service as catalog
from core.inventory import service as inventory
from core.orders import service as orders
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf, page_token, signed_in_admin
from tests.factories import ADMIN


def photo(width: int = 1600, height: int = 1200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


async def _shelf(client) -> None:
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        for n in range(55):
            await factories.product(session, name=f"Mug {n:02}", sku=f"MUG-{n:02}", stock=9,
                                    threshold=2, category="Kitchen > Mugs")
        await factories.product(session, name="Teapot", sku="POT-1", stock=1, threshold=2,
                                category="Kitchen")
        await factories.product(session, name="Desk lamp", sku="LAMP-1", stock=0,
                                category="Home > Lamps")


async def test_the_product_list_filters_by_category_and_stock_and_comes_in_pages(client):
    await _shelf(client)
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    first = (await client.get("/admin/products")).text
    assert "Page 1 of 2 · 57 in all" in first and "Mug 00" in first and "Teapot" not in first
    following = re.search(r'href="(\?[^"]*page=2[^"]*)" rel="next"', first)
    assert following
    second = (await client.get("/admin/products" + following.group(1).replace("&amp;", "&"))).text
    assert "Teapot" in second and "Page 2 of 2" in second
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        home = await catalog.find_category(session=session, path="Home")
    low = (await client.get("/admin/products", params={"stock": "low"})).text
    assert "Teapot" in low and "Desk lamp" in low and "Mug 00" not in low  # as the badge
    sold_out = (await client.get("/admin/products", params={"stock": "out"})).text
    assert "Desk lamp" in sold_out and "Teapot" not in sold_out
    lamps = (await client.get("/admin/products", params={"category": str(home.id)})).text
    assert "Desk lamp" in lamps and "Mug 0" not in lamps
    narrowed = (await client.get("/admin/products", params={
        "category": str(kitchen.id), "q": "mug 5", "page": "2"})).text
    assert "Mug 54" in narrowed and "Mug 49" not in narrowed and "5 in all" in narrowed
    past = (await client.get("/admin/products", params={"page": "99"})).text
    assert "Page 2 of 2" in past and "Teapot" in past  # past the end: the last page
    silly = await client.get("/admin/products", params={"page": "²", "category": "²"})
    assert silly.status_code == 200 and "Mug 00" in silly.text
    silly = await client.get("/admin/products", params={"page": "banana", "stock": "lots",
                                                        "category": "x"})
    assert silly.status_code == 200 and "Mug 00" in silly.text


async def test_attributes_and_pictures_are_managed_on_the_product_page(client):
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products")
    created = await client.post("/admin/products", data={
        "csrf": token, "sku": "VASE-1", "name": "Tall vase", "price": "30.00",
        "category": "Home > Vases", "attributes": "colour: teal\n\nheight: 30 cm"},
        files={"image": ("vase.jpg", photo(), "image/jpeg")})
    assert created.status_code == 303
    page = await client.get(created.headers["location"])
    assert "<dt>colour</dt><dd>teal</dd>" in page.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        product = await catalog.get_by_sku(session=session, sku="VASE-1")
        await session.refresh(product, ["images"])
        (image,) = product.images
        assert product.attributes == {"colour": "teal", "height": "30 cm"}
        assert image.thumb_key != image.storage_key and image.thumb_key.endswith(".webp")
        product_id, image_id, thumb = product.id, image.id, image.thumb_key
    assert thumb in page.text, "the page shows the thumbnail"
    assert thumb in (await client.get("/admin/products")).text
    for bad, says in [("colour teal", "needs a colon"), ("colour:", "needs a value")]:
        refused = await client.post(f"/admin/products/{product_id}", data={
            "csrf": token, "sku": "VASE-1", "name": "Tall vase", "price": "30.00",
            "attributes": bad})
        assert refused.status_code == 400 and says in refused.text
    removed = await client.post(f"/admin/products/{product_id}/remove-image",
                                data={"csrf": token, "image": str(image_id)})
    assert removed.status_code == 303
    again = await client.post(f"/admin/products/{product_id}/remove-image",
                              data={"csrf": token, "image": str(image_id)})
    assert again.status_code == 404 and "not on this product" in again.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        product = await catalog.get_product(session=session, product_id=product_id)
        assert product.images == [] and product.attributes == {"colour": "teal",
                                                               "height": "30 cm"}


async def test_admins_keep_the_category_tree_and_support_only_read_it(client):
    await _shelf(client)
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products")
    tree = (await client.get("/admin/categories")).text
    assert re.search(r">Kitchen</a> <small>56</small>", tree)
    added = await client.post("/admin/categories", data={"csrf": token,
                                                         "path": "Garden > Pots"})
    assert added.status_code == 303
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        pots = await catalog.find_category(session=session, path="Garden > Pots")
    renamed = await client.post(f"/admin/categories/{kitchen.id}/rename",
                                data={"csrf": token, "name": "Galley"})
    assert renamed.status_code == 303
    assert "Galley &gt; Mugs" in (await client.get("/admin/products")).text
    busy = await client.post(f"/admin/categories/{kitchen.id}/delete", data={"csrf": token})
    assert busy.status_code == 409 and "has subcategories" in busy.text
    gone = await client.post(f"/admin/categories/{pots.id}/delete", data={"csrf": token})
    assert gone.status_code == 303 and ">Pots</a>" not in (await client.get(
        "/admin/categories")).text
    clash = await client.post(f"/admin/categories/{kitchen.id}/rename",
                              data={"csrf": token, "name": "home"})
    assert clash.status_code == 409 and "already a category" in clash.text
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    page = await client.get("/admin/categories")
    assert page.status_code == 200 and "Rename" not in page.text
    refused = await client.post(f"/admin/categories/{kitchen.id}/delete",
                                data={"csrf": csrf(page.text)})
    assert refused.status_code == 403


async def test_the_inventory_page_shows_units_held_for_unpaid_orders(client):
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        lamp = await factories.product(session, name="Desk lamp", sku="LAMP-9", stock=5)
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=lamp.id, quantity=2,
                             actor=ADMIN)
        order = await orders.place_order(session=session, cart=cart, actor=ADMIN,
                                         reservation_minutes=30)
        number = order.number
        assert (await inventory.get(session=session, product_id=lamp.id)).reserved == 2
    await signed_in_admin(client)
    page = (await client.get("/admin/inventory", params={"q": "lamp-9"})).text
    assert f">{number}</a></td><td>Desk lamp</td>\n  <td>2</td>" in page
