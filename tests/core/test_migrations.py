"""The migrations and the models describe the same schema, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.models import Base


async def test_migrations_build_exactly_the_schema_the_models_describe(shop):
    async with shop.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata))
    assert differences == []


async def test_upgrading_twice_is_harmless(shop):
    await shop.migrate()
    await shop.migrate()
    state = await shop.database_state()
    assert state["ok"] and state["revision"] == state["head"]
