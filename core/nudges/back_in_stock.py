""""Tell me when it's back": who asked, and telling them once when the product returns.

A restock (available stock going from none to some, on whichever path: an admin's
edit, an import, a return or cancelled order back on the shelf, an unpaid order's hold
released) only records a `Restock` row in the stock change's own transaction, and only when
someone is waiting. The sweeper then tells the waiting subscribers `BATCH` per
transaction (`tell_waiting`): a list of 10,000 is neither one huge transaction nor one
burst, and the outbox relay paces what reaches each platform (bot/channels/pacing.py).

Each subscriber gets ONE `notify` with subject `product:<id>` and occurrence the restock,
so a replayed batch reaches nobody twice; the subscription is then fulfilled, and a later
restock tells only those who asked again. The holder's choices (BACK_IN_STOCK on the
channel) are read by `notify`, as for every notice.

A batch that raises (a product name its template cannot render, a bad row) is undone, the
restock counts the attempt and waits RETRY_AFTER, so the restocks after it are told
meanwhile; after GIVE_UP failed attempts it is given up (done, logged once) and its
subscribers still waiting wait for the next restock.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.audit import service as audit
from core.audit.actor import Actor
from core.catalog.models import Product
from core.clock import now
from core.db import PURGE_CHUNK, bounded_delete
from core.inventory.models import StockItem
from core.money import format_amount
from core.notifications.events import Channel, Event, Recipient
from core.notifications.service import notify
from core.nudges.models import BackInStockSubscription, Restock

KIND = "back_in_stock"
KEEP = timedelta(days=90)   # told subscriptions and done restocks, then they go
BATCH = 25    # subscribers per transaction: on SQLite it holds the one write lock (~10 ms each)
GIVE_UP = 5   # failed batches before a restock is given up
RETRY_AFTER = timedelta(minutes=1)   # a failed restock waits this long (a sweep or two)

log = logging.getLogger("chatcart.nudges")


async def subscribe(*, session: AsyncSession, product_id: int, holder: str,
                    chat_key: str | None, user_id: int | None, actor: Actor) -> bool:
    """Ask to be told when `product_id` is back; False when this holder is already waiting
    (pressing twice is one subscription). A fulfilled one is asked anew."""
    found = await session.scalar(select(BackInStockSubscription).where(
        BackInStockSubscription.product_id == product_id,
        BackInStockSubscription.holder == holder).with_for_update())
    if found is not None and found.fulfilled_at is None:
        return False
    if found is not None:
        found.fulfilled_at, found.restock_id, found.created_at = None, None, now()
        found.chat_key, found.user_id = chat_key, user_id
        await session.flush()
    else:
        found = BackInStockSubscription(product_id=product_id, holder=holder[:80],
                                        chat_key=chat_key, user_id=user_id)
        try:
            async with session.begin_nested():  # a racing double press loses here
                session.add(found)
                await session.flush()
        except IntegrityError:
            return False
    await audit.record(session=session, actor=actor, action="notifications.back_in_stock",
                       subject_type="product", subject_id=product_id,
                       data={"subscription": found.id})
    return True


async def restocked(session: AsyncSession, item: StockItem) -> Restock | None:
    """Called by the inventory when `item` went from none available to some: an episode to
    tell, when anyone is waiting."""
    waiting = await session.scalar(select(exists().where(
        BackInStockSubscription.product_id == item.product_id,
        BackInStockSubscription.fulfilled_at.is_(None))))
    if not waiting:
        return None
    restock = Restock(product_id=item.product_id, available=item.available)
    session.add(restock)
    await session.flush()
    return restock


def _recipients(row: BackInStockSubscription, users: dict[int, User]) -> list[Recipient]:
    found = []
    if row.chat_key:
        found.append(Recipient(Channel.CHAT, row.chat_key))
    user = users.get(row.user_id) if row.user_id is not None else None
    if user is not None and user.is_active:
        found.append(Recipient(Channel.EMAIL, user.email))
    return found


async def tell_waiting(*, session: AsyncSession, chat_url: str, batch: int = BATCH) -> int:
    """Tell up to `batch` subscribers of the oldest restock not yet done (and not waiting
    after a failure); returns how many were taken (0: nothing left to do; a failed batch
    counts 1, so the caller goes on to the next restock). Safe with several processes: the
    restock row is locked for the batch (SKIP LOCKED on PostgreSQL; SQLite has one
    writer)."""
    moment = now()
    restock = await session.scalar(
        select(Restock).where(Restock.done_at.is_(None),
                              or_(Restock.retry_at.is_(None), Restock.retry_at <= moment))
        .order_by(Restock.id).limit(1).with_for_update(skip_locked=True))
    if restock is None:
        return 0
    restock_id, product_id = restock.id, restock.product_id
    try:
        async with session.begin_nested():   # a failing batch is undone, not the attempt
            return await _tell(session, restock, chat_url, batch)
    except Exception as error:  # noqa: BLE001 - counted and logged; never holds the queue
        await session.refresh(restock)
        restock.attempts += 1
        if restock.attempts >= GIVE_UP:
            restock.done_at = now()
            log.error("back_in_stock.gave_up restock=%s product=%s attempts=%s error=%s",
                      restock_id, product_id, restock.attempts, type(error).__name__)
        else:
            restock.retry_at = now() + RETRY_AFTER
            log.warning("back_in_stock.failed restock=%s product=%s attempts=%s error=%s",
                        restock_id, product_id, restock.attempts, type(error).__name__)
        return 1


async def _tell(session: AsyncSession, restock: Restock, chat_url: str, batch: int) -> int:
    product = await session.get(Product, restock.product_id)
    stock = await session.get(StockItem, restock.product_id)
    if product is None or not product.is_active or stock is None or stock.available <= 0:
        restock.done_at = now()   # sold out again already: they wait for the next one
        return 1
    rows = list(await session.scalars(
        select(BackInStockSubscription).where(
            BackInStockSubscription.product_id == restock.product_id,
            BackInStockSubscription.fulfilled_at.is_(None))
        .order_by(BackInStockSubscription.id).limit(batch).with_for_update(skip_locked=True)))
    if not rows:
        restock.done_at = now()
        return 1
    event = Event(KIND, f"product:{product.id}", occurrence=f"restock-{restock.id}",
                  context={"name": product.name, "link": chat_url,
                           "price": format_amount(product.price_minor, product.currency)},
                  buttons=[[{"label": product.name[:40], "action": f"prod:{product.id}"}]])
    user_ids = {row.user_id for row in rows if row.user_id is not None}
    users = {user.id: user for user in await session.scalars(
        select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    moment = now()
    for row in rows:
        await notify(session=session, event=event, recipients=_recipients(row, users),
                     holder=row.holder)
        row.fulfilled_at, row.restock_id = moment, restock.id
    return len(rows)


async def purge_old(*, session: AsyncSession, limit: int = PURGE_CHUNK) -> int:
    """Subscriptions told and restocks done more than KEEP ago go (a replay that late
    finds the delivery rows of core.notifications, kept apart), at most `limit` of each
    a call."""
    cutoff = now() - KEEP
    told = await session.execute(bounded_delete(
        BackInStockSubscription, BackInStockSubscription.fulfilled_at < cutoff, limit=limit))
    done = await session.execute(bounded_delete(Restock, Restock.done_at < cutoff,
                                                limit=limit))
    return int(told.rowcount or 0) + int(done.rowcount or 0)  # type: ignore[attr-defined]
