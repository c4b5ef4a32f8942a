"""The console's home figures: takings net of refunds, best sellers net of refunded units."""

from core.orders import reports
from core.orders import service as orders
from core.payments import service as payments
from tests.core.payments.test_line_refunds import SYSTEM, _order


async def test_refunded_units_and_money_do_not_count_as_sold(shop):
    order_id, gateways, lines, mug, pot, mug_id, pot_id = await _order(shop)
    async with shop.transaction() as session:
        before = await reports.dashboard(session=session, currency="EUR")
        assert before.top_products == [("Mug", 2), ("Teapot", 1)]
        assert before.periods[0].revenue_minor == 8988
        order = await orders.get(session=session, order_id=order_id)
        await payments.refund_lines(session=session, order=order, gateways=gateways,
                                    actor=SYSTEM, reason="", quantities={lines[pot]: 1})
        after = await reports.dashboard(session=session, currency="EUR")
        assert after.top_products == [("Mug", 2)]  # the teapot came back
        assert after.periods[0].revenue_minor == 8988 - 4500 - 1498 * 4500 // 7490
        assert [(name, left) for _, name, left, _ in before.low_stock] == [("Teapot", 0)]
        assert [(name, left) for _, name, left, _ in after.low_stock] == [("Teapot", 1)]
