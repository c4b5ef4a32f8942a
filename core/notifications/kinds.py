"""Every kind of notice the shop sends, in one place: the category a shopper can turn off
(or must turn on), and whether it is urgent enough to go during their quiet hours.

A template `templates/<kind>.jinja` without an entry here is a mistake the tests catch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    ORDERS = "orders"                  # order updates: on until turned off
    ACCOUNT = "account"                # account and security: always on
    MARKETING = "marketing"            # off until the shopper opts in
    BACK_IN_STOCK = "back_in_stock"    # asked for per product; on until turned off
    CART_REMINDERS = "cart_reminders"  # off until the shopper agrees


ALWAYS_ON = frozenset({Category.ACCOUNT})
OPT_IN = frozenset({Category.MARKETING, Category.CART_REMINDERS})
# Transactional: the answer to something the shopper did or must know about their money or
# account; the rest carries List-Unsubscribe (RFC 8058).
TRANSACTIONAL = frozenset({Category.ACCOUNT})


@dataclass(frozen=True, slots=True)
class Kind:
    category: Category
    urgent: bool = False   # urgent notices are not held back by quiet hours


KINDS: dict[str, Kind] = {
    "notify_test": Kind(Category.ACCOUNT, urgent=True),
    "order_confirmed": Kind(Category.ORDERS, urgent=True),
    "order_payment_failed": Kind(Category.ORDERS, urgent=True),
    "order_payment_expired": Kind(Category.ORDERS, urgent=True),
    "order_payment_returned": Kind(Category.ORDERS, urgent=True),
    "order_late_payment_returned": Kind(Category.ORDERS, urgent=True),
    "order_cancelled": Kind(Category.ORDERS, urgent=True),
    "order_refunded": Kind(Category.ORDERS, urgent=True),
    "order_preparing": Kind(Category.ORDERS),
    "order_shipped": Kind(Category.ORDERS),
    "order_delivered": Kind(Category.ORDERS),
    # returns, as staff move them along
    "return_approved": Kind(Category.ORDERS),
    "return_refused": Kind(Category.ORDERS),
    "return_received": Kind(Category.ORDERS),
    "return_refunded": Kind(Category.ORDERS, urgent=True),
    "return_refunded_earlier": Kind(Category.ORDERS, urgent=True),
    # account and security: always sent, never held back
    "account_chat_linked": Kind(Category.ACCOUNT, urgent=True),
    "account_chat_unlinked": Kind(Category.ACCOUNT, urgent=True),
    "account_email_changed": Kind(Category.ACCOUNT, urgent=True),
    "account_password_changed": Kind(Category.ACCOUNT, urgent=True),
    "account_role_changed": Kind(Category.ACCOUNT, urgent=True),
    # nudges (core/nudges): asked for, or agreed to
    "back_in_stock": Kind(Category.BACK_IN_STOCK),
    "cart_reminder": Kind(Category.CART_REMINDERS),
}


def kind_of(name: str) -> Kind:
    """The declared kind; an undeclared one is a programming error, said loudly."""
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"notice kind {name!r} is not declared in core.notifications.kinds"
                          ) from None
