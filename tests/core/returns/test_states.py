"""The return state table, whole: every move allowed or refused as listed."""

from __future__ import annotations

import pytest

from core.errors import Conflict
from core.returns.states import OPEN, TRANSITIONS, ReturnStatus, check

S = ReturnStatus
ALLOWED = {(S.REQUESTED, S.APPROVED), (S.REQUESTED, S.REFUSED), (S.APPROVED, S.RECEIVED),
           (S.RECEIVED, S.REFUNDED)}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_listed_moves_are_allowed(current, target):
    if (current, target) in ALLOWED:
        check(current, target, "RT-2222AA")
    else:
        with pytest.raises(Conflict, match=f"is {current.value} and cannot become"):
            check(current, target, "RT-2222AA")


def test_refused_and_refunded_are_final_and_only_they_free_the_units():
    assert not TRANSITIONS[S.REFUSED] and not TRANSITIONS[S.REFUNDED]
    assert OPEN == {S.REQUESTED, S.APPROVED, S.RECEIVED}
