"""The moves of a conversation with a person, listed here and nowhere else.

No request (or a CLOSED one) = with the bot; OPEN = waiting for a person; TAKEN = a
person holds it (one owner: `taken_by_id`). TAKEN -> TAKEN is a transfer to a colleague.
CLOSED is final: asking again opens a new request.
"""

from __future__ import annotations

from core.support.models import HandoffStatus

S = HandoffStatus
TRANSITIONS: dict[HandoffStatus, frozenset[HandoffStatus]] = {
    S.OPEN: frozenset({S.TAKEN, S.CLOSED}),
    S.TAKEN: frozenset({S.TAKEN, S.OPEN, S.CLOSED}),   # TAKEN -> OPEN: handed back to the queue
    S.CLOSED: frozenset(),
}
ACTIVE = frozenset({S.OPEN, S.TAKEN})


def allowed(current: HandoffStatus, target: HandoffStatus) -> bool:
    return target in TRANSITIONS[current]
