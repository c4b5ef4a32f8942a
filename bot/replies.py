"""Neutral replies for shop things: menus, product lists and cards, the cart."""

from __future__ import annotations

from bot import actions
from bot.messages import Button, ProductCard, Reply
from core.carts.totals import CartView
from core.catalog.models import Product
from core.catalog.search import Page
from core.i18n import _
from core.money import format_amount

MENU_ROW = (Button("Menu", "menu"), Button("Cart", "cart"))


def money(amount_minor: int, currency: str) -> str:
    return format_amount(amount_minor, currency)


def menu(text: str = "What would you like to do?") -> Reply:
    return Reply(text, buttons=(
        (Button("Browse the shop", "cats"), Button("My cart", "cart")),
        (Button("My orders", "orders"), Button("Questions", "faq")),
        (Button("Talk to a person", "human"), Button("My account", "account")),
    ))


def stock_text(available: int) -> str:
    if available <= 0:
        return "Sold out"
    return f"Only {available} left" if available <= 5 else "In stock"


def product_list(page: Page, title: str, page_action: str) -> Reply:
    """A numbered list (so "the second one" resolves) with a button per product."""
    if not page.items:
        return Reply(f"{title}\nNothing here right now.", buttons=(MENU_ROW,))
    first = (page.page - 1) * page.per_page
    lines = [f"{title} ({page.total} in all, page {page.page} of {page.pages})"]
    rows: list[tuple[Button, ...]] = []
    for n, item in enumerate(page.items, start=1):
        price = money(item.price_minor, item.currency)
        sold_out = "" if item.in_stock else " (sold out)"
        lines.append(f"{first + n}. {item.name} — {price}{sold_out}")
        rows.append((Button(f"{item.name[:40]} · {price}", actions.encode("prod",
                                                                          item.product_id)),))
    navigation = []
    if page.has_previous:
        navigation.append(Button("◀ Previous", page_action.format(page=page.page - 1)))
    if page.has_next:
        navigation.append(Button("Next ▶", page_action.format(page=page.page + 1)))
    if navigation:
        rows.append(tuple(navigation))
    rows.append(MENU_ROW)
    return Reply("\n".join(lines), buttons=tuple(rows), edit=True)


def product_card(product: Product, available: int, image_url: str | None) -> Reply:
    price = money(product.price_minor, product.currency)
    details = ", ".join(f"{k}: {v}" for k, v in (product.attributes or {}).items())
    text = "\n".join(part for part in (
        f"{product.name} — {price}", product.description, details, stock_text(available)) if part)
    buttons: list[tuple[Button, ...]] = []
    if available > 0:
        buttons.append((Button("Add to cart", actions.encode("add", product.id, 1)),))
    else:
        buttons.append((Button(_("Tell me when it's back"), actions.encode("bis", product.id)),))
    buttons.append(MENU_ROW)
    card = ProductCard(product.id, product.name, price, stock_text(available),
                       product.description, image_url)
    return Reply(text, buttons=tuple(buttons), image=image_url, card=card)


def cart(view: CartView, note: str = "") -> Reply:
    """The cart with its total; `note` says what just happened ("Added 2 × Blue mug.")."""
    prefix = f"{note} " if note else ""
    if view.is_empty:
        return Reply(f"{prefix}Your cart is empty.",
                     buttons=((Button("Browse the shop", "cats"), Button("Menu", "menu")),),
                     edit=True)
    lines = [f"{prefix}Your cart:"]
    rows: list[tuple[Button, ...]] = []
    for line in view.lines:
        total = money(line.line_total.amount, view.currency)
        unit = money(line.unit_price.amount, view.currency)
        lines.append(f"• {line.quantity} × {line.name} ({unit}) = {total}")
        if line.problem:
            lines.append(f"  ⚠ {line.problem}")
        rows.append((
            Button(f"− {line.name[:24]}", actions.encode("qty", line.product_id,
                                                          line.quantity - 1)),
            Button("+", actions.encode("qty", line.product_id, line.quantity + 1)),
            Button("Remove", actions.encode("rm", line.product_id)),
        ))
    items = "item" if view.item_count == 1 else "items"
    lines.append(f"Total: {money(view.subtotal.amount, view.currency)} "
                 f"({view.item_count} {items})")
    rows.append((Button("Checkout", "checkout"), Button("Keep shopping", "cats")))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=True)
