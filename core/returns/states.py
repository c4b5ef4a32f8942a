"""The return state machine: every allowed move is listed here and nowhere else."""

from __future__ import annotations

from enum import StrEnum

from core.errors import Conflict
from core.i18n import _
from core.returns.errors import ReturnError


class ReturnStatus(StrEnum):
    REQUESTED = "requested"    # the shopper asked; staff have not decided yet
    APPROVED = "approved"      # staff said yes and told the shopper how to send it
    REFUSED = "refused"        # staff said no, with a reason (final)
    RECEIVED = "received"      # the parcel is back (restocked or not)
    REFUNDED = "refunded"      # the money went back through the order's refund (final)


S = ReturnStatus
TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REFUSED}),
    S.APPROVED: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.REFUNDED}),
    S.REFUSED: frozenset(),
    S.REFUNDED: frozenset(),
}
# Units in a return in these states are spoken for: no second return may take them.
OPEN = frozenset({S.REQUESTED, S.APPROVED, S.RECEIVED})
# Photos may still be added while nothing has come back yet.
TAKES_PHOTOS = frozenset({S.REQUESTED, S.APPROVED})


def label(status: ReturnStatus, locale: str | None = None) -> str:
    """How a shopper (or staff) reads a state."""
    return {
        S.REQUESTED: _("requested, waiting for our team", locale),
        S.APPROVED: _("approved: please send the items back", locale),
        S.REFUSED: _("refused", locale),
        S.RECEIVED: _("received, refund on its way", locale),
        S.REFUNDED: _("refunded", locale),
    }[status]


def check(current: ReturnStatus, target: ReturnStatus, number: str) -> None:
    """Raise a clear Conflict when `current -> target` is not an allowed move."""
    if target in TRANSITIONS[current]:
        return
    raise Conflict(ReturnError.ILLEGAL_TRANSITION,
                   _("Return {number} is {state} and cannot become {target}.", number=number,
                     state=current.value, target=target.value),
                   current=current.value, target=target.value)
