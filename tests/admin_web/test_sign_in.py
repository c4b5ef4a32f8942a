"""Signing in to the console: password, then two-factor (every member of staff must enrol),
recovery codes, sessions, CSRF, odd cookies and form values, roles, and the headers every
page sends. Wrong codes: test_second_factor_limits.py; wrong passwords: test_slowing_down.py."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts.models import StaffSession
from tests import factories
from tests.admin_web.conftest import PASSWORD
from tests.admin_web.console import ConsoleUser, csrf


async def test_an_admin_enrols_two_factor_then_signs_in_with_a_code(client):
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    first = await boss.password_step()
    assert first.status_code == 303 and first.headers["location"] == "/admin/enrol"
    page = await client.get("/admin/enrol")
    assert 'src="data:image/svg+xml' in page.text, "a QR code to scan"
    assert (await client.get("/admin/")).status_code == 303, "not in before enrolling"
    done = await boss.enrol()
    assert done.status_code == 200 and len(boss.recovery) == 10
    home = await client.get("/admin/")
    assert home.status_code == 200 and "Today in the shop" in home.text

    client.cookies.clear()
    assert (await client.get("/admin/")).headers["location"] == "/admin/login"
    step = await boss.password_step()
    assert step.headers["location"] == "/admin/login/code"
    wrong = await boss.post("/login/code", code="000000" if boss.code() != "000000" else "1")
    assert wrong.status_code == 400 and "not right" in wrong.text
    good = await boss.post("/login/code", code=boss.code(1))
    assert good.status_code == 303 and good.headers["location"] == "/admin/"
    assert (await client.get("/admin/")).status_code == 200


async def test_a_code_and_a_recovery_code_work_only_once(client):
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    await boss.password_step()
    await boss.enrol()  # used the current code
    client.cookies.clear()
    await boss.password_step()
    replay = await boss.post("/login/code", code=boss.code_at(boss.last_step))
    assert replay.status_code == 400, "the code used for enrolment can't be used again"
    recovery = await boss.post("/login/code", code=boss.recovery[0])
    assert recovery.status_code == 303
    client.cookies.clear()
    await boss.password_step()
    again = await boss.post("/login/code", code=boss.recovery[0])
    assert again.status_code == 400


async def test_customers_cannot_enter_and_support_must_enrol_two_factor(client):
    ann = ConsoleUser(client, "ann@example.com", PASSWORD)
    refused = await ann.password_step()
    assert refused.status_code == 400 and "for shop staff only" in refused.text
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    step = await helper.password_step()  # support read customers' addresses: 2FA too
    assert step.status_code == 303 and step.headers["location"] == "/admin/enrol"
    assert (await client.get("/admin/")).headers["location"] == "/admin/login"
    assert (await client.get("/admin/orders")).headers["location"] == "/admin/login"
    done = await helper.enrol()
    assert done.status_code == 200 and len(helper.recovery) == 10
    assert "help@example.com (support)" in (await client.get("/admin/")).text


async def test_a_support_session_from_before_two_factor_no_longer_opens_the_console(client):
    from core.accounts import staff
    from core.accounts.models import User
    from core.audit.actor import Actor

    shop = client.shop  # type: ignore[attr-defined]
    async with shop.transaction() as session:  # signed in with a password alone, as before
        helper = await session.scalar(select(User).where(User.email == "help@example.com"))
        token = await staff.open_session(session=session, user=helper,
                                         secret_key=shop.settings.secret_key,
                                         actor=Actor.system("test"))
    client.cookies.set("cc_session", client.console.signer.dumps(token))  # type: ignore[attr-defined]
    assert (await client.get("/admin/orders")).headers["location"] == "/admin/login"


async def test_a_form_without_its_csrf_token_is_refused(client):
    no_token = await client.post("/admin/login", data={"email": "boss@example.com",
                                                       "password": PASSWORD})
    assert no_token.status_code == 403 and "expired" in no_token.text
    await client.get("/admin/login")
    forged = await client.post("/admin/login", data={"csrf": "guessed", "email": "x@y.z",
                                                     "password": "x"})
    assert forged.status_code == 403


async def test_a_non_ascii_csrf_value_is_refused_not_an_error(client):
    client.cookies.set("cc_csrf", "abc", path="/admin")
    for path in ("/admin/login", "/admin/login/code", "/admin/enrol", "/admin/logout"):
        forged = await client.post(path, data={"csrf": "ä€", "email": "boss@example.com",
                                               "password": PASSWORD})
        assert forged.status_code == 403 and "expired" in forged.text, path
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    action = await client.post("/admin/faq", data={"csrf": "\u00e9t\u00e9", "question": "q"})
    assert action.status_code == 403


async def test_any_value_in_the_pending_cookie_sends_back_to_the_password(client):
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    session_cookie = client.cookies["cc_session"]
    page = await client.get("/admin/login")
    token = csrf(page.text)
    for value in (session_cookie, "x" * 5000, "a.b.c", token, "é".encode().decode("latin-1")):
        cookies = f"cc_csrf={token}; cc_pending={value}".encode("latin-1")  # bytes as sent
        for path in ("/admin/login/code", "/admin/enrol"):
            shown = await client.get(path, headers={"Cookie": cookies})
            assert shown.status_code == 303 and shown.headers["location"] == "/admin/login"
            sent = await client.post(path, data={"csrf": token, "code": "123456"},
                                     headers={"Cookie": cookies})
            assert sent.status_code == 303 and sent.headers["location"] == "/admin/login"


async def test_signing_out_everywhere_ends_every_session(client):
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    first_cookies = dict(client.cookies)
    client.cookies.clear()
    await helper.sign_in()  # a second browser
    home = await client.get("/admin/")
    out = await client.post("/admin/logout-everywhere", data={"csrf": csrf(home.text)})
    assert out.status_code == 303
    client.cookies.clear()
    client.cookies.update(first_cookies)
    assert (await client.get("/admin/")).headers["location"] == "/admin/login"
    async with client.shop.transaction() as session:  # type: ignore[attr-defined]
        sessions = list(await session.scalars(select(StaffSession)))
        assert len(sessions) == 2 and all(s.revoked_at for s in sessions)


async def test_pages_send_security_headers_and_cookies_are_locked_down(client):
    page = await client.get("/admin/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "<script" not in page.text


async def test_the_home_page_shows_sales_low_stock_and_waiting_shoppers(client):
    from core.accounts import identities
    from core.audit.actor import Actor
    from core.carts import service as carts
    from core.orders import service as orders
    from core.support import service as support

    shop = client.shop  # type: ignore[attr-defined]
    system = Actor.system("test")
    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Desk lamp", price=7900, stock=3,
                                       threshold=2, sku="LAMP-1")
        cart = await factories.guest_cart(session)
        await carts.add_item(session=session, cart=cart, product_id=lamp.id, quantity=2,
                             actor=system)
        order = await orders.place_order(session=session, cart=cart, actor=system,
                                         reservation_minutes=30)
        await orders.mark_paid(session=session, order=order, actor=system)
        identity = await identities.identify(session=session, platform="web",
                                             platform_user_id="shopper-1")
        await support.request_handoff(session=session, identity_id=identity.id,
                                      chat_key="web:shopper-1", reason="where is my parcel",
                                      actor=system)
    helper = ConsoleUser(client, "help@example.com", PASSWORD)
    await helper.sign_in()
    home = (await client.get("/admin/")).text
    assert home.count("€158.00") == 3, "today, 7 days and 30 days"
    assert "<td>Desk lamp</td><td>2</td>" in home
    assert ">LAMP-1</a></td><td>Desk lamp</td><td>1</td><td>2</td>" in home
    assert '<p class="figure">1</p><p><a href="/admin/handoffs">open support requests' in home
