"""Numbers past what the database holds, in the console's paths and forms, are a clear 4xx
(they were an OverflowError on SQLite, a 500)."""

from __future__ import annotations

from core.catalog import service as catalog
from tests import factories
from tests.admin_web.console import csrf, page_token, signed_in_admin

HUGE = "99999999999999999999"   # past 2**63
PAST_INT = "2147483648"         # past PostgreSQL's INTEGER


async def test_ids_too_large_for_the_database_are_pages_that_do_not_exist(client):
    await signed_in_admin(client)
    token = await page_token(client, "/admin/products")
    for number in (HUGE, PAST_INT):
        for path in (f"/admin/users/{number}", f"/admin/products/{number}",
                     f"/admin/orders/{number}"):
            response = await client.get(path)
            assert response.status_code == 404, (path, response.status_code)
        for path in (f"/admin/products/{number}", f"/admin/products/{number}/archive",
                     f"/admin/inventory/{number}", f"/admin/users/{number}/disable",
                     f"/admin/handoffs/{number}/take", f"/admin/faq/{number}",
                     f"/admin/categories/{number}/rename"):
            response = await client.post(path, data={"csrf": token, "delta": "1",
                                                      "reason": "x"})
            assert 400 <= response.status_code < 500, (path, response.status_code)


async def test_prices_stock_and_stock_changes_too_large_are_refused_with_a_reason(client):
    await signed_in_admin(client)
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        lamp = await factories.product(session, name="Desk lamp", sku="LAMP-1", stock=2)
    token = await page_token(client, "/admin/products")
    fields = {"csrf": token, "sku": "VASE-9", "name": "Vase", "category": "Home",
              "stock": "7", "threshold": "2", "price": "24.90", "description": ""}
    for change in ({"price": HUGE}, {"price": "1e30"}, {"price": "1e999999999"},
                   {"stock": HUGE}, {"stock": PAST_INT}, {"threshold": HUGE}):
        response = await client.post("/admin/products", data={**fields, **change})
        assert response.status_code == 400, (change, response.status_code)
    page = await client.get("/admin/inventory")
    response = await client.post(f"/admin/inventory/{lamp.id}", data={
        "csrf": csrf(page.text), "delta": HUGE, "reason": "a very big delivery"})
    assert response.status_code == 400 and "whole number" in response.text
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        assert await catalog.get_by_sku(session=session, sku="VASE-9") is None
