"""Account use cases: register, sign in, verify, reset, roles."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import notices, passwords, tokens
from core.accounts.errors import AccountError
from core.accounts.models import ChatIdentity, Role, TokenPurpose, User
from core.audit import service as audit
from core.audit.actor import Actor
from core.clock import now
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.paging import PER_PAGE, Paged, paged


def normalize_email(email: str) -> str:
    """A canonical, validated address (no DNS lookup: that belongs to sending mail)."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(AccountError.EMAIL_INVALID,
                           f"That email address does not look right: {exc}") from None
    return result.normalized.lower()


def sign_in_address(email: str) -> str:
    """The address a sign-in is for, the way `authenticate` looks it up (one normalisation
    for the account and for counting failures); text that is no address at all, trimmed
    and lowered, since it still counts against whoever sends it."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().lower()[:254]


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(AccountError.ROLE_INVALID, f"Role must be one of: {allowed}.") from None


async def get_by_email(*, session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def get(*, session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(AccountError.NOT_FOUND, "No such account.")
    return user


async def register(
    *, session: AsyncSession, email: str, password: str, actor: Actor,
    role: Role = Role.CUSTOMER, display_name: str = "",
) -> User:
    """Create an account; the email must be free and the password strong enough."""
    address = normalize_email(email)
    passwords.check_strength(password, email=address)
    taken = await session.scalar(select(func.count()).where(User.email == address))
    if taken:
        raise Conflict(AccountError.EMAIL_TAKEN, "An account with that email already exists.")
    user = User(email=address, password_hash=passwords.hash_password(password), role=role,
                display_name=display_name.strip()[:120])
    session.add(user)
    await session.flush()
    await audit.record(session=session, actor=actor, action="account.registered",
                       subject_type="user", subject_id=user.id, data={"role": role.value})
    return user


async def authenticate(*, session: AsyncSession, email: str, password: str) -> User:
    """The user for these credentials; one vague message for every failure but 'disabled'."""
    try:
        user = await get_by_email(session=session, email=email)
    except InvalidInput:
        user = None
    if not passwords.verify_password(user.password_hash if user else None, password):
        raise InvalidInput(AccountError.BAD_CREDENTIALS, "Wrong email or password.")
    assert user is not None
    if not user.is_active:
        raise Forbidden(AccountError.DISABLED, "This account is disabled.")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now()
    return user


async def start_email_verification(
    *, session: AsyncSession, secret_key: str, user: User
) -> str:
    return await tokens.issue(session=session, secret_key=secret_key, user=user,
                              purpose=TokenPurpose.VERIFY_EMAIL)


async def verify_email(
    *, session: AsyncSession, secret_key: str, token: str, actor: Actor
) -> User:
    user = await tokens.consume(session=session, secret_key=secret_key, token=token,
                                purpose=TokenPurpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = now()
        await audit.record(session=session, actor=actor, action="account.email_verified",
                           subject_type="user", subject_id=user.id)
    return user


async def request_password_reset(
    *, session: AsyncSession, secret_key: str, email: str
) -> tuple[User, str] | None:
    """A reset token for an active account, or None (the caller says the same either way)."""
    try:
        user = await get_by_email(session=session, email=email)
    except InvalidInput:
        return None
    if user is None or not user.is_active:
        return None
    token = await tokens.issue(session=session, secret_key=secret_key, user=user,
                               purpose=TokenPurpose.RESET_PASSWORD)
    return user, token


async def reset_password(
    *, session: AsyncSession, secret_key: str, token: str, new_password: str, actor: Actor
) -> User:
    # Check strength first: a weak choice must not spend the link.
    passwords.check_strength(new_password)
    user = await tokens.consume(session=session, secret_key=secret_key, token=token,
                                purpose=TokenPurpose.RESET_PASSWORD)
    passwords.check_strength(new_password, email=user.email)
    user.password_hash = passwords.hash_password(new_password)
    # Following a link from the inbox proves the address too.
    user.email_verified_at = user.email_verified_at or now()
    change = await audit.record(session=session, actor=actor, action="account.password_reset",
                                subject_type="user", subject_id=user.id)
    await notices.password_changed(session, user, change)
    return user


def _not_yourself(user_id: int, actor: Actor) -> None:
    """An admin cannot lock themselves out (demote or disable their own account)."""
    if actor.user_id == user_id:
        raise Forbidden(AccountError.ROLE_INVALID,
                        "You can't remove your own admin access; ask another admin.")


async def set_role(*, session: AsyncSession, user_id: int, role: Role, actor: Actor) -> User:
    if role is not Role.ADMIN:
        _not_yourself(user_id, actor)
    user = await get(session=session, user_id=user_id)
    if user.role != role:
        before = user.role
        user.role = role
        change = await audit.record(session=session, actor=actor,
                                    action="account.role_changed", subject_type="user",
                                    subject_id=user.id,
                                    data={"from": before.value, "to": role.value})
        await notices.role_changed(session, user, change)
    return user


async def change_email(*, session: AsyncSession, user: User, new_email: str,
                       actor: Actor) -> bool:
    """Move an account to an address its owner has just proved (a code mailed there,
    core.accounts.link_codes.confirm_address); both addresses hear of it. Returns whether
    anything changed."""
    address = normalize_email(new_email)
    if address == user.email:
        return False
    if user.role is not Role.CUSTOMER:
        raise Forbidden(AccountError.ROLE_INVALID,
                        "A staff account's address is changed by an administrator.")
    if await get_by_email(session=session, email=address) is not None:
        raise Conflict(AccountError.EMAIL_TAKEN,
                       "Another account already uses that address. Link this chat to it "
                       "instead, or choose another address.")
    old, user.email, user.email_verified_at = user.email, address, now()
    change = await audit.record(session=session, actor=actor, action="account.email_changed",
                                subject_type="user", subject_id=user.id)
    await notices.email_changed(session, user, old, change)
    return True


async def set_active(*, session: AsyncSession, user_id: int, active: bool, actor: Actor) -> User:
    if not active:
        _not_yourself(user_id, actor)
    user = await get(session=session, user_id=user_id)
    if user.is_active != active:
        user.is_active = active
        await audit.record(session=session, actor=actor,
                           action="account.enabled" if active else "account.disabled",
                           subject_type="user", subject_id=user.id)
    return user


async def people(*, session: AsyncSession, text: str = "", role: Role | None = None,
                 page: int = 1, per_page: int = PER_PAGE) -> Paged[tuple[User, int]]:
    """Accounts with how many chats are linked to each, staff first, by email (part of it)
    and role."""
    linked = (select(ChatIdentity.user_id, func.count().label("chats"))
              .group_by(ChatIdentity.user_id).subquery())
    query = (select(User, func.coalesce(linked.c.chats, 0))
             .outerjoin(linked, linked.c.user_id == User.id))
    words = text.strip()[:100].lower()
    if words:
        query = query.where(User.email.contains(words, autoescape=True))
    if role is not None:
        query = query.where(User.role == role)
    found = await paged(session, query.order_by(User.role == Role.CUSTOMER, User.email),
                        page=page, per_page=per_page, scalars=False)
    return Paged([(user, int(chats)) for user, chats in found.items], found.total,
                 found.page, found.per_page)
