"""Every table of the shop, imported in one place for Alembic and for table creation."""

from core.accounts.models import (
    AccountToken,
    ChatIdentity,
    LinkCode,
    PendingSignIn,
    RecoveryCode,
    SignInThrottle,
    StaffSession,
    User,
)
from core.audit.models import AuditEvent
from core.carts.models import Cart, CartLine
from core.catalog.models import Category, Product, ProductImage
from core.chats.models import ChatSession
from core.checkout.models import SavedAddress
from core.db import Base
from core.inventory.models import Reservation, StockAlert, StockItem
from core.notifications.models import (
    NotificationDelivery,
    NotificationLinkUse,
    NotificationPreference,
    SmsCode,
)
from core.nudges.models import BackInStockSubscription, CartReminder, Restock, StaffAlert
from core.orders.models import Order, OrderLine
from core.outbox.models import OutboxMessage
from core.payments.models import Payment
from core.returns.models import ReturnLine, ReturnPhoto, ReturnRequest
from core.support.models import (
    FaqEntry,
    HandoffRequest,
    SavedReply,
    StaffPresence,
    SupportMessage,
)
from core.webhooks.models import WebhookReceipt

__all__ = [
    "AccountToken", "AuditEvent", "BackInStockSubscription", "Base", "Cart", "CartLine",
    "CartReminder", "Category", "ChatIdentity",
    "ChatSession", "FaqEntry", "HandoffRequest", "LinkCode", "NotificationDelivery",
    "NotificationLinkUse", "NotificationPreference",
    "Order", "OrderLine",
    "OutboxMessage", "Payment", "PendingSignIn", "Product", "ProductImage", "RecoveryCode",
    "Reservation", "Restock", "ReturnLine", "ReturnPhoto", "ReturnRequest", "SavedAddress",
    "SavedReply", "SignInThrottle", "SmsCode", "StaffAlert", "StaffPresence", "StaffSession",
    "StockAlert",
    "StockItem", "SupportMessage", "User", "WebhookReceipt",
]
