"""Several OS processes, each with its own engine, race for the last units."""

import asyncio
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from core.inventory import service as inventory
from core.inventory.models import Reservation
from core.orders.models import Order
from tests import factories

RACER = textwrap.dedent("""
    import asyncio, sys
    from datetime import timedelta
    from core.clock import now
    from core.db import create_engine, session_factory, unit_of_work
    from core.errors import Conflict
    from core.inventory import service as inventory

    async def main(url, product_id, order_ids):
        engine = create_engine(url)
        sessions = session_factory(engine)
        won = 0
        async def one(order_id):
            nonlocal won
            try:
                async with unit_of_work(sessions) as session:
                    await inventory.reserve(session=session, order_id=order_id,
                                            product_id=product_id, quantity=1,
                                            expires_at=now() + timedelta(minutes=5))
                won += 1
            except Conflict:
                pass
        await asyncio.gather(*(one(order_id) for order_id in order_ids))
        await engine.dispose()
        print(won)

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")]))
""")


async def test_shoppers_in_several_processes_never_oversell(shop, settings):
    units, processes, per_process = 7, 4, 6
    async with shop.transaction() as session:
        lamp = await factories.product(session, stock=units)
        orders = []
        for n in range(processes * per_process):
            order = Order(number=f"CC-P{n:05}", channel="web", currency="EUR",
                          subtotal_minor=0, total_minor=0)
            session.add(order)
            orders.append(order)
        await session.flush()
        order_ids = [order.id for order in orders]
    chunks = [order_ids[i::processes] for i in range(processes)]
    racers = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", RACER, settings.database_url, str(lamp.id),
        ",".join(map(str, chunk)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for chunk in chunks]
    outputs = [await racer.communicate() for racer in racers]
    for racer, (_, err) in zip(racers, outputs, strict=True):
        assert racer.returncode == 0, err.decode()[-2000:]
    wins = sum(int(out) for out, _ in outputs)
    assert wins == units
    async with shop.transaction() as session:
        stock = await inventory.get(session=session, product_id=lamp.id)
        assert (stock.on_hand, stock.reserved) == (units, units)
        assert await session.scalar(select(func.count(Reservation.id))) == units
