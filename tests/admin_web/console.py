"""A console user for tests: signs in through the real forms (CSRF tokens read from the pages)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import pyotp

from tests.admin_web.conftest import PASSWORD


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


class ConsoleUser:
    def __init__(self, client: httpx.AsyncClient, email: str, password: str) -> None:
        self.client, self.email, self.password = client, email, password
        self.secret: str | None = None
        self.recovery: list[str] = []
        self.last_step: int | None = None  # the time step of the last code the server took

    async def post(self, path: str, **fields: str) -> httpx.Response:
        """Post a form the way the browser would: with the token of the page it came from."""
        page = await self.client.get("/admin/login")
        return await self.client.post(f"/admin{path}", data={"csrf": csrf(page.text), **fields})

    async def password_step(self, password: str | None = None) -> httpx.Response:
        return await self.post("/login", email=self.email, password=password or self.password)

    async def enrol(self) -> httpx.Response:
        page = await self.client.get("/admin/enrol")
        assert page.status_code == 200, page.text
        secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
        assert secret, page.text
        self.secret = secret.group(1)
        done = await self.client.post("/admin/enrol", data={
            "csrf": csrf(page.text), "code": pyotp.TOTP(self.secret).now()})
        self.recovery = re.findall(r"<li><code>([0-9a-f]{8}-[0-9a-f]{8})</code></li>", done.text)
        if self.recovery:
            self.last_step = pyotp.TOTP(self.secret).timecode(datetime.now(UTC))
        return done

    async def sign_in(self) -> httpx.Response:
        """Password, then enrolling (the first time, as every member of staff must) or a
        code not used before (a recovery code once the app's next ones are spent)."""
        step = await self.password_step()
        assert step.status_code == 303, step.text
        if step.headers["location"].endswith("/enrol"):
            done = await self.enrol()
            assert done.status_code == 200 and self.recovery, done.text
            return done
        assert self.secret, "signed in before without enrolling here"
        totp = pyotp.TOTP(self.secret)
        current = totp.timecode(datetime.now(UTC))
        wanted = max(current - 1, (self.last_step or 0) + 1)
        if wanted <= current + 1:
            code, self.last_step = totp.generate_otp(wanted), wanted
        else:
            code = self.recovery.pop()
        done = await self.post("/login/code", code=code)
        assert done.status_code == 303, done.text
        return done

    def code_at(self, step: int | None) -> str:
        """The authenticator's code of one time step (the one it used to enrol, say)."""
        assert self.secret and step is not None
        return pyotp.TOTP(self.secret).generate_otp(step)

    def code(self, steps_ahead: int = 0) -> str:
        """The authenticator's code now (or a step later: the next one it will show)."""
        assert self.secret
        return pyotp.TOTP(self.secret).at(time.time() + 30 * steps_ahead)


async def signed_in_admin(client: httpx.AsyncClient) -> ConsoleUser:
    """The fixture's admin, signed in with a second factor enrolled (as all staff must)."""
    boss = ConsoleUser(client, "boss@example.com", PASSWORD)
    await boss.sign_in()
    return boss


def another_browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A second client of the same console, with cookies of its own."""
    other = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    other.shop = client.shop  # type: ignore[attr-defined]
    return other


async def page_token(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token on the page at `path`, as its forms carry it."""
    return csrf((await client.get(path)).text)
