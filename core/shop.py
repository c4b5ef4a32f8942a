"""The shop's resources for one process: engine, sessions, image storage, mail.

Built once by a composition root (the server, the CLI, a test) from the settings and
handed to whoever needs it; nothing here connects at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import migrate
from core.audit import news
from core.audit.news import News, Newsroom
from core.catalog.images import ImageStorage, LocalImageStorage
from core.catalog.models import Product
from core.config import Settings
from core.crypto import Vault
from core.db import create_engine, session_factory, unit_of_work
from core.notifications.mail import Mailer, mailer_for
from core.outbox import service as outbox
from core.payments.gateway import Gateway
from core.payments.registry import configured

log = logging.getLogger("chatcart.shop")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Committed:
    """What a transaction that has just committed tells the rest of the process (and,
    through Redis, the other processes): chats given messages, and news for staff."""
    chat_keys: frozenset[str]
    news: tuple[News, ...]


@dataclass
class Shop:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    images: ImageStorage
    mailer: Mailer
    vault: Vault
    gateways: dict[str, Gateway]
    # Called after a commit that queued chat messages (core.outbox) or news for staff
    # (core.audit.news): the serving process wakes its deliverers, and tells the others.
    commit_listeners: list[Callable[[Committed], None]] = field(default_factory=list)
    newsroom: Newsroom = field(default_factory=Newsroom)  # consoles in this process
    # Set as the process begins to shut down (bot/cli.py): long waits end at once.
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def from_settings(cls, settings: Settings) -> Shop:
        engine = create_engine(settings.database_url)
        storage = LocalImageStorage(settings.media_dir, f"{settings.base_url}/media")
        mailer = mailer_for(settings.smtp_url, settings.public_base_url.host or "localhost")
        vault = Vault(settings.secret_key)
        sessions = session_factory(engine)
        sessions.configure(info={outbox.VAULT: vault})  # what core.outbox seals with
        return cls(settings, engine, sessions, storage, mailer, vault, configured(settings))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: `async with shop.transaction() as session: ...`."""
        async with unit_of_work(self.sessions) as session:
            yield session
        done = Committed(frozenset(session.info.pop(outbox.QUEUED, ())),  # after the commit
                         tuple(news.committed(session)))
        if not (done.chat_keys or done.news):
            return
        self.newsroom.tell(done.news)
        for listener in self.commit_listeners:
            try:
                listener(done)
            except Exception:  # noqa: BLE001 - the change stands; a wakeup is only a hint
                log.exception("shop.commit_listener_failed")

    async def waiting(self, ready: Awaitable[T], seconds: float) -> T | None:
        """What `ready` gives, or None after `seconds` or once the process is closing: how
        a web chat poll or a console stream waits without holding a shutdown up."""
        wanted = asyncio.ensure_future(ready)
        closing = asyncio.ensure_future(self.closing.wait())
        try:
            await asyncio.wait((wanted, closing), timeout=max(seconds, 0.0),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (wanted, closing):
                task.cancel()
        return wanted.result() if wanted.done() and not wanted.cancelled() else None

    async def migrate(self) -> None:
        await migrate.upgrade(self.engine)

    async def database_state(self) -> dict[str, object]:
        """What /healthz reports: reachable, schema revision, whether it is current."""
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
            revision = await migrate.current_revision(self.engine)
            products = None
            if revision is not None:
                async with self.sessions() as session:
                    products = await session.scalar(select(func.count(Product.id)))
        except Exception as exc:  # noqa: BLE001 - health reports any failure as a state
            return {"ok": False, "backend": self.engine.url.get_backend_name(),
                    "error": type(exc).__name__}
        head = migrate.head_revision()
        return {"ok": revision == head, "backend": self.engine.url.get_backend_name(),
                "revision": revision, "head": head, "products": products}

    async def close(self) -> None:
        await self.engine.dispose()

