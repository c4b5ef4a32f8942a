"""One reminder of a cart left behind, to shoppers who agreed, in the chat the cart lives in
(a guest's cart) or by mail (an account's).

A cart "episode" is its `updated_at`: a cart untouched for `older_than` with items in it is
looked at once per episode (`CartReminder` keeps the last one looked at), and reminded of
only when the holder said yes to cart reminders on that channel (`cart_reminders:<channel>`,
an opt-in category: no row, no reminder). The cart row is locked and read again in the
transaction that queues the reminder, so a cart bought (emptied by the order) or changed
in the meantime gets nothing. A reminder that the holder's quiet hours would hold back is
not queued and its episode not marked: the first sweep after the quiet hours decides, with
the cart read again then, so a cart bought during quiet hours is never reminded of. Safe
with several sweepers (SKIP LOCKED on PostgreSQL, one writer on SQLite), and `notify`'s
delivery key makes a replay reach nobody twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.carts import service as carts
from core.carts.models import Cart, CartLine
from core.clock import now
from core.crypto import Vault
from core.i18n import _
from core.money import format_amount
from core.notifications import holders, preferences
from core.notifications.events import Channel, Event, Recipient
from core.notifications.kinds import kind_of
from core.notifications.service import notify
from core.nudges.models import CartReminder

KIND = "cart_reminder"
BATCH = 100
NAMES = 3   # products named in the reminder


def channel_for(user_id: int | None) -> Channel:
    """Where a cart's reminder goes: an account's by mail, a guest's in its chat."""
    return Channel.EMAIL if user_id else Channel.CHAT


async def _recipient(session: AsyncSession, cart: Cart) -> Recipient | None:
    if cart.user_id is None:
        return Recipient(Channel.CHAT, cart.session_key) if cart.session_key else None
    user = await session.get(User, cart.user_id)
    return Recipient(Channel.EMAIL, user.email) if user is not None and user.is_active else None


async def remind_due(*, session: AsyncSession, older_than: timedelta, vault: Vault,
                     chat_url: str, batch: int = BATCH) -> int:
    """Remind of up to `batch` carts whose episode is due; returns how many were sent."""
    moment = now()
    cutoff = moment - older_than
    due = list(await session.scalars(
        select(Cart).outerjoin(CartReminder, CartReminder.cart_id == Cart.id)
        .where(Cart.updated_at <= cutoff, exists().where(CartLine.cart_id == Cart.id),
               or_(CartReminder.cart_id.is_(None), CartReminder.episode_at < Cart.updated_at))
        .order_by(Cart.id).limit(batch).with_for_update(of=Cart, skip_locked=True)))
    sent = 0
    for cart in due:
        await session.refresh(cart)   # read again under the lock: bought or changed since?
        if not cart.lines or cart.updated_at > cutoff:
            continue
        episode = cart.updated_at
        told = False
        holder = holders.of_chat_key(vault, user_id=cart.user_id, chat_key=cart.session_key)
        choices = await preferences.choices_of(session=session, holder=holder)
        kind = kind_of(KIND)
        if (preferences.allowed(kind.category, channel_for(cart.user_id), choices)
                and preferences.not_before(moment, choices, urgent=kind.urgent) is not None):
            continue   # quiet hours: the first sweep after them decides, the cart read again
        recipient = await _recipient(session, cart)
        if recipient is not None:
            view = await carts.view(session=session, cart=cart)
            names = ", ".join(line.name for line in view.lines[:NAMES])
            event = Event(KIND, f"cart:{cart.id}", occurrence=episode.isoformat(),
                          context={"count": view.item_count, "names": names, "link": chat_url,
                                   "total": format_amount(view.subtotal.amount, view.currency)},
                          buttons=[[{"label": _("Open my cart"), "action": "cart"}]])
            told = bool(await notify(session=session, event=event, recipients=[recipient],
                                     holder=holder))
        mark = await session.get(CartReminder, cart.id)
        if mark is None:
            session.add(CartReminder(cart_id=cart.id, episode_at=episode, sent=told))
        else:
            mark.episode_at, mark.sent = episode, told
        sent += told
    await session.flush()
    return sent
