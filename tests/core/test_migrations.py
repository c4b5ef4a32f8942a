"""The migrations and the models describe the same schema, on every backend, and the
migrations go down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from core import migrate
from core.models import Base
from core.nudges.models import Restock
from tests import factories


async def _differences(shop) -> list:
    async with shop.engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata))


async def _tables(shop) -> set[str]:
    async with shop.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_build_exactly_the_schema_the_models_describe(shop):
    assert await _differences(shop) == []


async def test_the_notification_migrations_go_down_and_up_again(shop):
    async with shop.transaction() as session:
        product = await factories.product(session, name="Lamp", stock=0)
        session.add(Restock(product_id=product.id, available=1, attempts=2))
    await migrate.downgrade(shop.engine, "20261203_0016")   # a table rebuilt on SQLite
    async with shop.engine.connect() as connection:
        kept = (await connection.execute(text("SELECT product_id FROM restocks"))).all()
    assert kept == [(product.id,)]
    await migrate.downgrade(shop.engine, "20261203_0011")
    assert await migrate.current_revision(shop.engine) == "20261203_0011"
    assert not {"notification_deliveries", "notification_preferences", "push_subscriptions",
                "restocks", "staff_alerts"} & await _tables(shop)
    await migrate.upgrade(shop.engine)
    assert await migrate.current_revision(shop.engine) == migrate.head_revision()
    assert await _differences(shop) == []
    async with shop.sessions() as session:
        assert list(await session.scalars(select(Restock))) == []


async def test_upgrading_twice_is_harmless(shop):
    await shop.migrate()
    await shop.migrate()
    state = await shop.database_state()
    assert state["ok"] and state["revision"] == state["head"]
