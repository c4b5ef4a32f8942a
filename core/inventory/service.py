"""Stock changes. Each is one conditional UPDATE, so two racing buyers cannot both win.

The database checks availability and changes it in the same statement (and CHECK
constraints back it up), on SQLite and PostgreSQL alike, across any number of processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.actor import Actor
from core.catalog.models import Product, ProductStatus
from core.clock import now
from core.errors import Conflict, InvalidInput
from core.inventory.errors import InventoryError, shortage_message
from core.inventory.models import Reservation, ReservationStatus, StockAlert, StockItem
from core.nudges import back_in_stock, staff_alerts
from core.orders.models import Order


async def get(*, session: AsyncSession, product_id: int) -> StockItem:
    item = await session.get(StockItem, product_id)
    if item is None:  # every product gets a row when created; be forgiving of old data
        item = StockItem(product_id=product_id, on_hand=0, reserved=0)
        session.add(item)
        await session.flush()
    return item


async def _change(
    session: AsyncSession, product_id: int, *, on_hand: int = 0, reserved: int = 0,
    require_available: int | None = None,
) -> StockItem | None:
    """Apply deltas atomically; None when the guard refused (nothing changed)."""
    statement = update(StockItem).where(StockItem.product_id == product_id)
    if require_available is not None:
        statement = statement.where(StockItem.on_hand - StockItem.reserved >= require_available)
    if on_hand:
        statement = statement.where(StockItem.on_hand + on_hand >= StockItem.reserved + reserved)
    statement = statement.values(
        on_hand=StockItem.on_hand + on_hand, reserved=StockItem.reserved + reserved,
        updated_at=now(),
    ).returning(StockItem).execution_options(synchronize_session="fetch")
    item = (await session.execute(statement)).scalar_one_or_none()
    if item is not None and item.available > 0 >= item.available - (on_hand - reserved):
        await back_in_stock.restocked(session, item)  # none to some: those waiting hear
    return item


async def watch_threshold(session: AsyncSession, item: StockItem, *,
                          announce: bool = True) -> None:
    """Open an alert when available stock is at or below the threshold; close it above.
    Staff are told of a crossing (batched: core.nudges.staff_alerts) unless `announce` is
    off: a product just created low was set so by whoever created it."""
    open_alert = await session.scalar(
        select(StockAlert).where(StockAlert.product_id == item.product_id,
                                 StockAlert.resolved_at.is_(None)))
    low = item.available <= item.low_stock_threshold
    if low and open_alert is None:
        session.add(StockAlert(product_id=item.product_id, available=item.available,
                               threshold=item.low_stock_threshold))
        if announce:
            await staff_alerts.low_stock(session=session, product_id=item.product_id)
        await audit.record(session=session, actor=Actor.system(), action="stock.low",
                           subject_type="product", subject_id=item.product_id,
                           data={"available": item.available,
                                 "threshold": item.low_stock_threshold})
    elif low and open_alert is not None:
        open_alert.available = item.available
    elif not low and open_alert is not None:
        open_alert.resolved_at = now()


async def adjust(
    *, session: AsyncSession, product_id: int, delta: int, reason: str, actor: Actor
) -> StockItem:
    """Receive (+) or write off (-) units; cannot go below what is promised to orders."""
    if not reason.strip():
        raise InvalidInput(InventoryError.ADJUSTMENT_INVALID, "Please give a reason.")
    current = await get(session=session, product_id=product_id)
    if delta == 0:
        return current
    item = await _change(session, product_id, on_hand=delta)
    if item is None:
        current = await get(session=session, product_id=product_id)
        await session.refresh(current)
        raise InvalidInput(
            InventoryError.ADJUSTMENT_INVALID,
            f"Stock cannot go below the {current.reserved} units reserved for orders "
            f"(on hand: {current.on_hand}).")
    await audit.record(session=session, actor=actor, action="stock.adjusted",
                       subject_type="product", subject_id=product_id,
                       data={"delta": delta, "reason": reason.strip()[:200],
                             "on_hand": item.on_hand})
    await watch_threshold(session, item)
    return item


async def set_on_hand(
    *, session: AsyncSession, product_id: int, on_hand: int, reason: str, actor: Actor
) -> StockItem:
    if on_hand < 0:
        raise InvalidInput(InventoryError.ADJUSTMENT_INVALID, "Stock cannot be negative.")
    current = await get(session=session, product_id=product_id)
    await session.refresh(current)
    return await adjust(session=session, product_id=product_id,
                        delta=on_hand - current.on_hand, reason=reason, actor=actor)


async def set_threshold(
    *, session: AsyncSession, product_id: int, threshold: int, actor: Actor
) -> StockItem:
    if threshold < 0:
        raise InvalidInput(InventoryError.THRESHOLD_INVALID,
                           "The low-stock threshold cannot be negative.")
    item = await get(session=session, product_id=product_id)
    if item.low_stock_threshold != threshold:
        item.low_stock_threshold = threshold
        await session.flush()
        await audit.record(session=session, actor=actor, action="stock.threshold_changed",
                           subject_type="product", subject_id=product_id,
                           data={"threshold": threshold})
        await watch_threshold(session, item)
    return item


async def reserve(
    *, session: AsyncSession, order_id: int, product_id: int, quantity: int,
    expires_at: datetime, product_name: str = "that item",
) -> Reservation:
    """Hold units for an order awaiting payment, or raise OUT_OF_STOCK."""
    if quantity <= 0:
        raise InvalidInput(InventoryError.ADJUSTMENT_INVALID, "Quantity must be at least 1.")
    item = await _change(session, product_id, reserved=quantity, require_available=quantity)
    if item is None:
        current = await get(session=session, product_id=product_id)
        await session.refresh(current)
        left = max(current.available, 0)
        raise Conflict(InventoryError.OUT_OF_STOCK, shortage_message(product_name, left),
                       product_id=product_id, available=left)
    reservation = Reservation(order_id=order_id, product_id=product_id, quantity=quantity,
                              expires_at=expires_at)
    session.add(reservation)
    await watch_threshold(session, item)
    return reservation


async def _close(session: AsyncSession, reservation_id: int, to: ReservationStatus) -> bool:
    """Move an active reservation to `to`; False when it was already closed (a retry)."""
    closed = await session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id,
               Reservation.status == ReservationStatus.ACTIVE)
        .values(status=to, closed_at=now())
        .execution_options(synchronize_session="fetch"))
    return closed.rowcount == 1  # type: ignore[attr-defined]


async def _for_order(session: AsyncSession, order_id: int,
                     status: ReservationStatus) -> list[Reservation]:
    rows = await session.scalars(
        select(Reservation).where(Reservation.order_id == order_id, Reservation.status == status)
        .order_by(Reservation.product_id))  # a fixed order keeps row locks deadlock-free
    return list(rows)


async def release_order(
    *, session: AsyncSession, order_id: int,
    as_status: ReservationStatus = ReservationStatus.RELEASED,
) -> int:
    """Give an unpaid order's units back; returns how many units returned."""
    returned = 0
    for reservation in await _for_order(session, order_id, ReservationStatus.ACTIVE):
        if await _close(session, reservation.id, as_status):
            item = await _change(session, reservation.product_id, reserved=-reservation.quantity)
            assert item is not None
            returned += reservation.quantity
            await watch_threshold(session, item)
    return returned


async def commit_order(*, session: AsyncSession, order_id: int) -> int:
    """Payment arrived: reserved units leave the shelf for good."""
    taken = 0
    for reservation in await _for_order(session, order_id, ReservationStatus.ACTIVE):
        if await _close(session, reservation.id, ReservationStatus.COMMITTED):
            item = await _change(session, reservation.product_id,
                                 on_hand=-reservation.quantity, reserved=-reservation.quantity)
            assert item is not None  # reserved <= on_hand is a CHECK, so this always fits
            taken += reservation.quantity
    return taken


async def restock_order(*, session: AsyncSession, order_id: int) -> int:
    """A paid order cancelled before shipping: its committed units go back on the shelf."""
    restocked = 0
    for reservation in await _for_order(session, order_id, ReservationStatus.COMMITTED):
        reverted = await session.execute(
            update(Reservation)
            .where(Reservation.id == reservation.id,
                   Reservation.status == ReservationStatus.COMMITTED)
            .values(status=ReservationStatus.RELEASED, closed_at=now())
            .execution_options(synchronize_session="fetch"))
        if reverted.rowcount == 1:  # type: ignore[attr-defined]
            item = await _change(session, reservation.product_id, on_hand=reservation.quantity)
            assert item is not None
            restocked += reservation.quantity
            await watch_threshold(session, item)
    return restocked


async def restock_units(*, session: AsyncSession, order_id: int, product_id: int,
                        quantity: int) -> int:
    """Some of a paid order's units back on the shelf (a line refunded before shipping, or
    returned in saleable shape); the order's commitment shrinks by as many, so cancelling
    or refunding the rest later never restocks them twice. Returns how many went back.
    The reservation then shows what is still committed, not what was first: the refund's
    audit event keeps what went back."""
    reservation = await session.scalar(
        select(Reservation).where(Reservation.order_id == order_id,
                                  Reservation.product_id == product_id,
                                  Reservation.status == ReservationStatus.COMMITTED)
        .with_for_update())
    if reservation is None or quantity <= 0:
        return 0
    back = min(quantity, reservation.quantity)
    if back == reservation.quantity:
        reservation.status, reservation.closed_at = ReservationStatus.RELEASED, now()
    else:
        reservation.quantity -= back
    await session.flush()
    item = await _change(session, product_id, on_hand=back)
    assert item is not None
    await watch_threshold(session, item)
    return back


async def orders_with_expired_reservations(
    *, session: AsyncSession, at: datetime | None = None, limit: int = 100
) -> list[int]:
    rows = await session.scalars(
        select(Reservation.order_id).distinct()
        .where(Reservation.status == ReservationStatus.ACTIVE,
               Reservation.expires_at <= (at or now()))
        .order_by(Reservation.order_id).limit(limit))
    return list(rows)


async def open_alerts(*, session: AsyncSession) -> list[StockAlert]:
    rows = await session.scalars(
        select(StockAlert).where(StockAlert.resolved_at.is_(None))
        .order_by(StockAlert.available, StockAlert.raised_at))
    return list(rows)


async def overview(*, session: AsyncSession, low_only: bool = False, text: str = "",
                   limit: int = 300) -> list[tuple[Product, StockItem]]:
    """Active products with their stock, the lowest availability first; by SKU or name."""
    query = (select(Product, StockItem).join(StockItem, StockItem.product_id == Product.id)
             .where(Product.status == ProductStatus.ACTIVE))
    if low_only:
        query = query.where(StockItem.running_low)
    words = text.strip()[:100]
    if words:
        query = query.where(or_(Product.sku.icontains(words, autoescape=True),
                                Product.name.icontains(words, autoescape=True)))
    rows = await session.execute(query.order_by(StockItem.available, Product.name).limit(limit))
    return [(product, item) for product, item in rows.all()]


async def low_count(*, session: AsyncSession) -> int:
    """How many active products are at or below their alert threshold."""
    count = await session.scalar(
        select(func.count()).select_from(StockItem).join(Product,
                                                         Product.id == StockItem.product_id)
        .where(Product.status == ProductStatus.ACTIVE, StockItem.running_low))
    return int(count or 0)


async def in_flight(*, session: AsyncSession, limit: int = 200
                    ) -> list[tuple[Reservation, str, str]]:
    """Units held for orders awaiting payment, soonest to expire first, with the order number
    and product name: stock that is neither on sale nor sold yet."""
    rows = await session.execute(
        select(Reservation, Order.number, Product.name)
        .join(Order, Order.id == Reservation.order_id)
        .join(Product, Product.id == Reservation.product_id)
        .where(Reservation.status == ReservationStatus.ACTIVE)
        .order_by(Reservation.expires_at, Reservation.id).limit(limit))
    return [(reservation, number, name) for reservation, number, name in rows.all()]
