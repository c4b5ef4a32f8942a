"""The shop's resources for one process: engine, sessions, image storage, mail.

Built once by a composition root (the server, the CLI, a test) from the settings and
handed to whoever needs it; nothing here connects at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import migrate
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


@dataclass
class Shop:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    images: ImageStorage
    mailer: Mailer
    vault: Vault
    gateways: dict[str, Gateway]
    # Called with the chat keys a committed transaction queued messages for (core.outbox):
    # the serving process wakes its deliverers, and tells other processes through Redis.
    outbox_listeners: list[Callable[[set[str]], None]] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> Shop:
        engine = create_engine(settings.database_url)
        storage = LocalImageStorage(settings.media_dir, f"{settings.base_url}/media")
        mailer = mailer_for(settings.smtp_url, settings.public_base_url.host or "localhost")
        return cls(settings, engine, session_factory(engine), storage, mailer,
                   Vault(settings.secret_key), configured(settings))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: `async with shop.transaction() as session: ...`."""
        async with unit_of_work(self.sessions) as session:
            yield session
        queued = session.info.pop(outbox.QUEUED, None)  # only after the commit
        for listener in self.outbox_listeners if queued else ():
            try:
                listener(queued)
            except Exception:  # noqa: BLE001 - the change stands; a wakeup is only a hint
                log.exception("shop.outbox_listener_failed")

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

