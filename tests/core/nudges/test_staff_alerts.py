"""Staff alerts wait out their window, then go as one summary per destination, once."""

from datetime import timedelta

from sqlalchemy import select, update

from core.accounts.models import Role
from core.audit.actor import Actor
from core.clock import now
from core.inventory import service as inventory
from core.nudges import staff_alerts
from core.nudges.models import StaffAlert
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from tests import factories

WINDOW = timedelta(seconds=60)


async def _send(shop) -> int:
    async with shop.transaction() as session:
        return await staff_alerts.send_due(session=session, window=WINDOW,
                                           alert_key="slack:C0ALERTS01",
                                           console_url="https://shop.example/admin")


async def _texts(shop) -> list[tuple[str, str]]:
    async with shop.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [(row.chat_key, outbox.opened(row.payload, shop.vault)["text"]) for row in rows]


async def test_twelve_low_products_are_one_summary_naming_the_first_ten(shop):
    async with shop.transaction() as session:
        admin = await factories.user(session, "boss@example.com", role=Role.ADMIN)
        await factories.user(session, "desk@example.com", role=Role.SUPPORT)
        lamps = [(await factories.product(session, name=f"Lamp {n:02}", stock=9,
                                          threshold=2)).id for n in range(12)]
    assert await _send(shop) == 0, "created well stocked: nothing to tell"
    async with shop.transaction() as session:   # sold down to 1, under the threshold of 2
        for lamp in lamps:
            await inventory.adjust(session=session, product_id=lamp, delta=-8,
                                   reason="count", actor=Actor.system("test"))
    assert await _send(shop) == 0, "the window has not passed"
    async with shop.transaction() as session:
        await session.execute(update(StaffAlert).values(created_at=now() - WINDOW))
    assert await _send(shop) == 12
    assert await _send(shop) == 0
    sent = await _texts(shop)
    assert [key for key, _ in sent] == ["slack:C0ALERTS01", f"email:alerts-{admin.id}"]
    text = sent[0][1]
    assert text.startswith("12 product(s) are running low on stock: Lamp 00, Lamp 01")
    assert "Lamp 09 and 2 more." in text and "Lamp 10" not in text
    assert "https://shop.example/admin/stock" in text and sent[1][1] == text


async def test_sent_alerts_go_after_a_week_and_unsent_ones_stay(shop):
    async with shop.transaction() as session:
        session.add_all([StaffAlert(kind=staff_alerts.LOW_STOCK, subject_id=1, label="old",
                                    sent_at=now() - timedelta(days=8)),
                         StaffAlert(kind=staff_alerts.LOW_STOCK, subject_id=2, label="new",
                                    created_at=now() - timedelta(days=8))])
    async with shop.transaction() as session:
        assert await staff_alerts.purge_sent(session=session) == 1
        assert list(await session.scalars(select(StaffAlert.label))) == ["new"]
