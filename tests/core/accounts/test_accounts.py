from datetime import timedelta

import pytest
from sqlalchemy import update

from core.accounts import identities, tokens
from core.accounts import service as accounts
from core.accounts.errors import AccountError
from core.accounts.models import AccountToken, Role, TokenPurpose
from core.audit import service as audit
from core.clock import now
from core.errors import Conflict, Forbidden, InvalidInput
from tests import factories
from tests.conftest import SECRET
from tests.factories import ADMIN


async def test_a_shopper_registers_and_signs_in_with_a_hashed_password(shop):
    async with shop.transaction() as session:
        user = await accounts.register(session=session, email=" Ada@Example.COM ",
                                       password="correct horse battery", actor=ADMIN)
        assert user.email == "ada@example.com"
        assert user.role is Role.CUSTOMER
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    async with shop.transaction() as session:
        signed_in = await accounts.authenticate(session=session, email="ada@example.com",
                                                password="correct horse battery")
        assert signed_in.id == user.id and signed_in.last_login_at is not None


async def test_wrong_password_and_unknown_email_get_the_same_answer(shop):
    async with shop.transaction() as session:
        await factories.user(session, "bob@example.com")
    messages = set()
    for email, password in [("bob@example.com", "wrong password!"),
                            ("nobody@example.com", "correct horse battery"),
                            ("not an email", "whatever1234")]:
        async with shop.transaction() as session:
            with pytest.raises(InvalidInput) as caught:
                await accounts.authenticate(session=session, email=email, password=password)
            assert caught.value.code is AccountError.BAD_CREDENTIALS
            messages.add(caught.value.message)
    assert messages == {"Wrong email or password."}


async def test_a_disabled_account_cannot_sign_in(shop):
    async with shop.transaction() as session:
        user = await factories.user(session, "carol@example.com")
        await accounts.set_active(session=session, user_id=user.id, active=False, actor=ADMIN)
    async with shop.transaction() as session:
        with pytest.raises(Forbidden, match="disabled"):
            await accounts.authenticate(session=session, email="carol@example.com",
                                        password="correct horse battery")


async def test_one_email_one_account(shop):
    async with shop.transaction() as session:
        await factories.user(session, "dup@example.com")
    async with shop.transaction() as session:
        with pytest.raises(Conflict, match="already exists"):
            await factories.user(session, "DUP@example.com")


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaa", "weak@example.com"])
async def test_weak_passwords_are_refused_with_a_reason(shop, password):
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput) as caught:
            await accounts.register(session=session, email="weak@example.com",
                                    password=password, actor=ADMIN)
        assert caught.value.code is AccountError.PASSWORD_WEAK


async def test_email_verification_link_works_once(shop):
    async with shop.transaction() as session:
        user = await factories.user(session, "eve@example.com")
        token = await accounts.start_email_verification(session=session, secret_key=SECRET,
                                                        user=user)
    async with shop.transaction() as session:
        verified = await accounts.verify_email(session=session, secret_key=SECRET, token=token,
                                               actor=ADMIN)
        assert verified.is_verified
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput) as caught:
            await accounts.verify_email(session=session, secret_key=SECRET, token=token,
                                        actor=ADMIN)
        assert caught.value.code is AccountError.TOKEN_USED


async def test_tampered_foreign_and_wrong_purpose_tokens_are_refused(shop):
    async with shop.transaction() as session:
        user = await factories.user(session)
        token = await accounts.start_email_verification(session=session, secret_key=SECRET,
                                                        user=user)
    async with shop.transaction() as session:
        for bad_token, key, purpose in [
            (token[:-2] + "xx", SECRET, TokenPurpose.VERIFY_EMAIL),
            (token, "another-secret-key-0123456789abcdefghijkl", TokenPurpose.VERIFY_EMAIL),
            (token, SECRET, TokenPurpose.RESET_PASSWORD),
        ]:
            with pytest.raises(InvalidInput) as caught:
                await tokens.consume(session=session, secret_key=key, token=bad_token,
                                     purpose=purpose)
            assert caught.value.code is AccountError.TOKEN_INVALID


async def test_an_expired_reset_link_is_refused_and_changes_nothing(shop):
    async with shop.transaction() as session:
        await factories.user(session, "frank@example.com")
        _, token = await accounts.request_password_reset(session=session, secret_key=SECRET,
                                                         email="frank@example.com")
        await session.execute(update(AccountToken).values(
            expires_at=now() - timedelta(seconds=1)))
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput) as caught:
            await accounts.reset_password(session=session, secret_key=SECRET, token=token,
                                          new_password="a brand new secret", actor=ADMIN)
        assert caught.value.code is AccountError.TOKEN_EXPIRED
    async with shop.transaction() as session:
        await accounts.authenticate(session=session, email="frank@example.com",
                                    password="correct horse battery")


async def test_password_reset_changes_the_password_and_spends_the_link(shop):
    async with shop.transaction() as session:
        await factories.user(session, "gina@example.com")
        assert await accounts.request_password_reset(
            session=session, secret_key=SECRET, email="nobody@example.com") is None
        _, first = await accounts.request_password_reset(session=session, secret_key=SECRET,
                                                         email="gina@example.com")
        _, token = await accounts.request_password_reset(session=session, secret_key=SECRET,
                                                         email="gina@example.com")
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput):  # asking again retires the older link
            await accounts.reset_password(session=session, secret_key=SECRET, token=first,
                                          new_password="a brand new secret", actor=ADMIN)
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput) as caught:  # too weak: the link survives
            await accounts.reset_password(session=session, secret_key=SECRET, token=token,
                                          new_password="short", actor=ADMIN)
        assert caught.value.code is AccountError.PASSWORD_WEAK
    async with shop.transaction() as session:
        await accounts.reset_password(session=session, secret_key=SECRET, token=token,
                                      new_password="a brand new secret", actor=ADMIN)
    async with shop.transaction() as session:
        with pytest.raises(InvalidInput):
            await accounts.authenticate(session=session, email="gina@example.com",
                                        password="correct horse battery")
        user = await accounts.authenticate(session=session, email="gina@example.com",
                                           password="a brand new secret")
        assert user.is_verified
        with pytest.raises(InvalidInput):
            await accounts.reset_password(session=session, secret_key=SECRET, token=token,
                                          new_password="yet another secret", actor=ADMIN)


async def test_role_changes_are_audited(shop):
    async with shop.transaction() as session:
        user = await factories.user(session)
        await accounts.set_role(session=session, user_id=user.id, role=Role.SUPPORT, actor=ADMIN)
        await accounts.set_role(session=session, user_id=user.id, role=Role.SUPPORT, actor=ADMIN)
        events = await audit.history(session=session, subject_type="user", subject_id=user.id)
    changes = [e for e in events if e.action == "account.role_changed"]
    assert len(changes) == 1
    assert changes[0].data == {"from": "customer", "to": "support"}
    assert changes[0].channel == "cli"
    with pytest.raises(InvalidInput, match="admin, support, customer"):
        accounts.parse_role("owner")


async def test_a_platform_user_is_a_guest_until_linked(shop):
    async with shop.transaction() as session:
        guest = await identities.identify(session=session, platform="telegram",
                                          platform_user_id="4242", display_name="Ann")
        again = await identities.identify(session=session, platform="telegram",
                                          platform_user_id="4242")
        assert guest.id == again.id and guest.is_guest
        other_platform = await identities.identify(session=session, platform="slack",
                                                   platform_user_id="4242")
        assert other_platform.id != guest.id


async def test_one_account_links_several_chats_but_a_chat_has_one_account(shop):
    async with shop.transaction() as session:
        ann = await factories.user(session, "ann@example.com")
        bob = await factories.user(session, "bob@example.com")
        telegram = await identities.identify(session=session, platform="telegram",
                                             platform_user_id="1")
        slack = await identities.identify(session=session, platform="slack",
                                          platform_user_id="U1")
        await identities.link(session=session, identity=telegram, user=ann, actor=ADMIN)
        await identities.link(session=session, identity=slack, user=ann, actor=ADMIN)
        await identities.link(session=session, identity=slack, user=ann, actor=ADMIN)
        assert {i.platform for i in await identities.for_user(session=session, user_id=ann.id)} \
            == {"telegram", "slack"}
        with pytest.raises(Conflict, match="already linked"):
            await identities.link(session=session, identity=slack, user=bob, actor=ADMIN)
        await identities.unlink(session=session, identity=slack, actor=ADMIN)
        await identities.link(session=session, identity=slack, user=bob, actor=ADMIN)
        assert slack.user_id == bob.id


async def test_people_are_listed_staff_first_with_their_chats_and_can_be_narrowed(shop):
    async with shop.transaction() as session:
        ann = await factories.user(session, "ann@example.com")
        await factories.user(session, "zed@example.com", role=Role.SUPPORT)
        await factories.user(session, "bob@example.org")
        chat = await identities.identify(session=session, platform="telegram",
                                         platform_user_id="7")
        await identities.link(session=session, identity=chat, user=ann, actor=ADMIN)

        async def rows(**narrowing):
            found = await accounts.people(session=session, **narrowing)
            return [(user.email, chats) for user, chats in found.items]

        assert await rows() == [("zed@example.com", 0), ("ann@example.com", 1),
                                ("bob@example.org", 0)]
        assert await rows(text="EXAMPLE.COM") == [("zed@example.com", 0),
                                                  ("ann@example.com", 1)]
        assert await rows(role=Role.CUSTOMER, per_page=1, page=2) == [("bob@example.org", 0)]


async def test_last_seen_is_written_at_most_every_few_minutes(shop):
    async with shop.transaction() as session:
        chat = await identities.identify(session=session, platform="web",
                                         platform_user_id="seen-0001")
        first = chat.last_seen_at
        again = await identities.identify(session=session, platform="web",
                                          platform_user_id="seen-0001")
        assert again.last_seen_at == first, "no write for a message a moment later"
        chat.last_seen_at = first - identities.SEEN_EVERY - timedelta(seconds=1)
        later = await identities.identify(session=session, platform="web",
                                          platform_user_id="seen-0001")
        assert later.last_seen_at > first


async def test_an_address_taken_or_a_staff_account_is_not_moved_and_nobody_is_told(shop):
    from sqlalchemy import func, select

    from core.notifications.models import NotificationDelivery

    async with shop.transaction() as session:
        ann = await factories.user(session, "ann@example.com")
        await factories.user(session, "bo@example.com")
        staff = await factories.user(session, "sam@example.com", role=Role.SUPPORT)
    async with shop.transaction() as session:
        ann = await accounts.get(session=session, user_id=ann.id)
        with pytest.raises(Conflict, match="Another account already uses that address"):
            await accounts.change_email(session=session, user=ann, new_email="BO@example.com",
                                        actor=ADMIN)
        staff = await accounts.get(session=session, user_id=staff.id)
        with pytest.raises(Forbidden, match="changed by an administrator"):
            await accounts.change_email(session=session, user=staff,
                                        new_email="sam2@example.com", actor=ADMIN)
        assert not await accounts.change_email(session=session, user=ann,
                                               new_email="Ann@Example.com", actor=ADMIN)
        assert (ann.email, staff.email) == ("ann@example.com", "sam@example.com")
        assert await session.scalar(select(func.count()).select_from(NotificationDelivery)
                                    .where(NotificationDelivery.kind
                                           == "account_email_changed")) == 0
