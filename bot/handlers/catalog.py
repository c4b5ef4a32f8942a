"""Browsing categories, product lists, product cards, and search in the shopper's words."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import actions, replies
from bot.dialogs import references
from bot.messages import Button, Reply
from bot.router import Router
from bot.turn import Turn
from core.catalog import service as catalog
from core.catalog.errors import CatalogError
from core.catalog.models import Category, Product
from core.catalog.search import Page, SearchFilters, search
from core.errors import NotFound
from core.inventory import service as inventory
from core.money import parse_amount

router = Router()
PER_PAGE = 6
FILLER = set("""a an any anything are can could do does find for get have i im i'm in is it
    like looking me my need of on or please show some something the there to under below over
    above than less more cheaper between and from up euro euros eur usd dollar dollars
    pounds gbp price priced cost costs want wanted would you your got sell search buy see
    with what which""".split())


def _named_category(turn: Turn) -> int | None:
    """The category the shopper named, as the NLU resolved it against the catalog."""
    found = turn.understood.values("category") if turn.understood else []
    return int(found[0]["id"]) if found and "id" in found[0] else None


def _remember(turn: Turn, page: Page) -> None:
    turn.state.shown = [item.product_id for item in page.items]


@router.action("cats")
@router.intent("browse_catalog")
async def categories(turn: Turn) -> list[Reply]:
    if (category_id := _named_category(turn)) is not None:
        try:
            return await _category_page(turn, category_id, 1)
        except NotFound:
            pass  # renamed or removed since the NLU learned it: show them all
    tree = await catalog.category_tree(session=turn.session)
    rows = tuple((Button(f"{node.category.name} ({node.product_count})",
                         actions.encode("cat", node.category.id, 1)),)
                 for node in tree if node.product_count)
    if not rows:
        return [replies.menu("The shop has no products yet.")]
    return [Reply("Here is what we have. Pick a category:", buttons=rows + (replies.MENU_ROW,),
                  edit=True)]


async def _category_page(turn: Turn, category_id: int, page_no: int) -> list[Reply]:
    category, children = await catalog.shelf(session=turn.session, category_id=category_id)
    page = await search(session=turn.session, filters=SearchFilters(category_id=category_id),
                        page=min(page_no, 10_000), per_page=PER_PAGE)
    if page_no > page.pages:
        page = await search(session=turn.session, filters=SearchFilters(category_id=category_id),
                            page=page.pages, per_page=PER_PAGE)
    _remember(turn, page)
    reply = replies.product_list(page, category.path, f"cat:{category_id}:{{page}}")
    if page_no == 1 and children:
        sub = tuple(Button(child.name, actions.encode("cat", child.id, 1)) for child in children)
        reply = Reply(reply.text, buttons=(sub[:4],) + reply.buttons, edit=True)
    return [reply]


@router.action("cat")
async def category(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    category_id, page_no = turn.action.args
    try:
        return await _category_page(turn, category_id, max(page_no, 1))
    except NotFound:
        return [replies.menu("That category no longer exists.")]


async def show_product(turn: Turn, product: Product) -> list[Reply]:
    if not product.is_active:
        return [replies.menu(f"Sorry, {product.name} is no longer sold.")]
    stock = await inventory.get(session=turn.session, product_id=product.id)
    image = turn.shop.images.url(product.images[0].storage_key) if product.images else None
    turn.state.focus = product.id
    return [replies.product_card(product, stock.available, image)]


@router.action("prod")
async def product(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    try:
        found = await catalog.get_product(session=turn.session, product_id=turn.action.args[0])
    except NotFound:
        return [replies.menu("That product is no longer available.")]
    return await show_product(turn, found)


@router.intent("product_details")
async def product_details(turn: Turn) -> list[Reply]:
    reference = references.resolve(turn)
    if reference.resolved is not None:
        found = await catalog.get_product(session=turn.session, product_id=reference.resolved)
        return await show_product(turn, found)
    if reference.product_ids:
        return [await which_one(turn, reference.product_ids, "prod")]
    return await search_products(turn)


async def which_one(turn: Turn, product_ids: list[int], pending: str,
                    quantity: int | None = None) -> Reply:
    """Two or more products fit: ask, and remember what to do with the answer."""
    turn.state.slots = {"pending": pending, "quantity": quantity}
    found = {product.id: product for product in await turn.session.scalars(
        select(Product).where(Product.id.in_(product_ids)))}
    rows = []
    for product_id in product_ids:
        if product_id not in found:
            raise NotFound(CatalogError.PRODUCT_NOT_FOUND, "That product does not exist.")
        product = found[product_id]
        price = replies.money(product.price_minor, product.currency)
        rows.append((Button(f"{product.name} · {price}", actions.encode("pick", product.id)),))
    return Reply("Which one do you mean?", buttons=tuple(rows) + (replies.MENU_ROW,))


def _price(turn: Turn, entity: str) -> int | None:
    assert turn.understood is not None
    raw = turn.understood.first(entity)
    try:
        return parse_amount(raw, turn.currency) if raw else None
    except ValueError:
        return None


def _search_words(turn: Turn) -> str:
    """The shopper's words minus prices, numbers and filler: what to look for."""
    text = turn.msg.text
    assert turn.understood is not None
    for entity in sorted(turn.understood.entities, key=lambda e: -int(e.get("start", 0))):
        if entity.get("entity") in ("price_min", "price_max", "quantity", "email", "order_id"):
            text = text[:int(entity["start"])] + " " + text[int(entity["end"]):]
    words = [w for w in re.findall(r"[\w\-']+", text.lower()) if w not in FILLER]
    return " ".join(words)


@router.intent("search_product")
async def search_products(turn: Turn) -> list[Reply]:
    assert turn.understood is not None
    filters = SearchFilters(text=_search_words(turn), price_min=_price(turn, "price_min"),
                            price_max=_price(turn, "price_max"))
    if (category_id := _named_category(turn)) is not None:
        found = await turn.session.get(Category, category_id)
        if found is not None:
            category_words = set(found.name.lower().split())
            remaining = [w for w in filters.text.split() if w.rstrip("s") not in
                         {c.rstrip("s") for c in category_words}]
            filters = SearchFilters(text=" ".join(remaining), category_id=found.id,
                                    price_min=filters.price_min, price_max=filters.price_max)
    turn.state.query = {"text": filters.text, "category_id": filters.category_id,
                        "price_min": filters.price_min, "price_max": filters.price_max}
    return await _search_page(turn, filters, 1)


async def _search_page(turn: Turn, filters: SearchFilters, page_no: int) -> list[Reply]:
    page = await search(session=turn.session, filters=filters, page=page_no, per_page=PER_PAGE)
    if page.total == 0:
        return [Reply("I couldn't find anything like that. Try other words, or browse:",
                      buttons=((Button("Browse the shop", "cats"), Button("Menu", "menu")),))]
    if page_no > page.pages:
        page = await search(session=turn.session, filters=filters, page=page.pages,
                            per_page=PER_PAGE)
    _remember(turn, page)
    return [replies.product_list(page, _describe(turn, filters), "more:{page}")]


def _describe(turn: Turn, filters: SearchFilters) -> str:
    parts = [f"“{filters.text}”" if filters.text else "Products"]
    if filters.price_min is not None:
        parts.append(f"from {replies.money(filters.price_min, turn.currency)}")
    if filters.price_max is not None:
        parts.append(f"up to {replies.money(filters.price_max, turn.currency)}")
    return " ".join(parts)


@router.action("more")
async def more_results(turn: Turn) -> list[Reply]:
    assert turn.action is not None
    if not turn.state.query:
        return [replies.menu("That list has gone stale. What would you like to look for?")]
    return await _search_page(turn, SearchFilters(**turn.state.query),
                              max(turn.action.args[0], 1))
