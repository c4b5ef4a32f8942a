"""`chatcart demo`: a database with a full demo shop and a staff login, ready to serve."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from core.accounts import service as accounts
from core.accounts.models import Role
from core.audit.actor import Actor
from core.catalog import importer
from core.catalog.models import Category, Product
from core.clock import now
from core.demo.faq import DEMO_FAQ
from core.demo.images import write_demo_catalog
from core.shop import Shop
from core.support import service as support
from core.support.models import FaqEntry

DEMO_ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class DemoShop:
    products: int
    categories: int
    subcategories: int
    imported: bool
    admin_email: str
    admin_password: str | None


def _remembered_password(path: Path) -> str | None:
    return path.read_text().strip() if path.exists() else None


def _remember_password(path: Path, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)


async def fill(shop: Shop) -> DemoShop:
    """Migrate, import the demo catalog once, and make sure the demo admin exists."""
    await shop.migrate()
    actor = Actor.cli("demo")
    imported = False
    async with shop.transaction() as session:
        empty = not await session.scalar(select(func.count(Product.id)))
        if empty:
            with tempfile.TemporaryDirectory() as folder:
                csv_path = write_demo_catalog(Path(folder))
                rows = importer.read_rows(csv_path.read_bytes(), filename=csv_path.name,
                                          currency=shop.settings.shop_currency,
                                          base=csv_path.parent)
                await importer.import_rows(session=session, rows=rows, storage=shop.images,
                                           currency=shop.settings.shop_currency, actor=actor)
            imported = True
        if not await session.scalar(select(func.count(FaqEntry.id))):
            for question, answer, keywords in DEMO_FAQ:
                await support.add_faq(session=session, question=question, answer=answer,
                                      keywords=keywords, actor=actor)
    password_file = shop.settings.data_dir / "demo-admin-password"
    async with shop.transaction() as session:
        password = _remembered_password(password_file)
        admin = await accounts.get_by_email(session=session, email=DEMO_ADMIN_EMAIL)
        if admin is None:
            password = secrets.token_urlsafe(12)
            admin = await accounts.register(session=session, email=DEMO_ADMIN_EMAIL,
                                            password=password, actor=actor, role=Role.ADMIN,
                                            display_name="Demo admin")
            admin.email_verified_at = now()
            _remember_password(password_file, password)
        products = await session.scalar(select(func.count(Product.id))) or 0
        categories = await session.scalar(
            select(func.count(Category.id)).where(Category.parent_id.is_(None))) or 0
        subcategories = await session.scalar(
            select(func.count(Category.id)).where(Category.parent_id.is_not(None))) or 0
    return DemoShop(products, categories, subcategories, imported, DEMO_ADMIN_EMAIL, password)
