"""Handoff requests: one open per chat, one taker each, closed once, listed oldest first."""

import pytest

from core.accounts import identities
from core.errors import Conflict, NotFound
from core.support import service as support
from core.support.models import HandoffStatus
from tests import factories
from tests.factories import ADMIN


async def _ask(session, who: str, reason: str):
    chat = await identities.identify(session=session, platform="telegram",
                                     platform_user_id=who, display_name=who.title())
    request, _ = await support.request_handoff(session=session, identity_id=chat.id,
                                               chat_key=f"telegram:{who}", reason=reason,
                                               actor=ADMIN)
    return request


async def test_one_person_takes_a_request_and_closing_frees_the_chat_to_ask_again(shop):
    async with shop.transaction() as session:
        sam = await factories.user(session, "sam@example.com")
        kim = await factories.user(session, "kim@example.com")
        first = await _ask(session, "ann", "parcel late")
        await _ask(session, "bob", "wrong size")
        assert [w.name for w in await support.handoffs(session=session)] == ["Ann", "Bob"]
        await support.take_handoff(session=session, request_id=first.id, staff_id=sam.id,
                                   actor=ADMIN)
        await support.take_handoff(session=session, request_id=first.id, staff_id=sam.id,
                                   actor=ADMIN)  # taking it again is harmless
        with pytest.raises(Conflict, match="sam@example.com has already taken it"):
            await support.take_handoff(session=session, request_id=first.id,
                                       staff_id=kim.id, actor=ADMIN)
        (ann, _) = await support.handoffs(session=session)
        assert ann.taken_by == "sam@example.com" and ann.request.status is HandoffStatus.TAKEN
        await support.close_handoff(session=session, request_id=first.id, actor=ADMIN)
        await support.close_handoff(session=session, request_id=first.id, actor=ADMIN)
        with pytest.raises(Conflict, match="already closed"):
            await support.take_handoff(session=session, request_id=first.id,
                                       staff_id=kim.id, actor=ADMIN)
        with pytest.raises(NotFound):
            await support.take_handoff(session=session, request_id=9999, staff_id=sam.id,
                                       actor=ADMIN)
        again = await _ask(session, "ann", "still late")
        assert again.id != first.id
        closed = await support.handoffs(session=session, closed=True)
        assert [w.request.id for w in closed] == [first.id]
