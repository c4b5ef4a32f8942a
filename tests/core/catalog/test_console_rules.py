"""Catalog rules the console leans on: thumbnails, attributes, category upkeep, staff lists."""

import io

import pytest
from PIL import Image

from core.audit import service as audit
from core.catalog import service as catalog
from core.catalog.images import THUMB_EDGE, check_image, thumbnail
from core.catalog.models import ProductStatus
from core.catalog.search import SearchFilters, search
from core.catalog.service import StockState
from core.errors import Conflict, InvalidInput
from core.inventory import service as inventory
from tests import factories
from tests.factories import ADMIN


def picture(width: int, height: int, kind: str = "PNG", mode: str = "RGB",
            orientation: int | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new(mode, (width, height), (0, 128, 128, 90) if mode == "RGBA" else "teal")
    if orientation is None:
        image.save(buffer, kind)
    else:
        exif = image.getexif()
        exif[0x0112] = orientation
        image.save(buffer, kind, exif=exif)
    return buffer.getvalue()


async def test_a_large_upload_gets_a_small_webp_thumbnail_beside_it(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session)
        big = check_image(picture(2400, 1600, "JPEG"))
        stored = await catalog.add_image(session=session, storage=shop.images, actor=ADMIN,
                                         product_id=mug.id, image=big)
    small = shop.images.read(stored.thumb_key)
    with Image.open(io.BytesIO(small)) as opened:
        assert opened.format == "WEBP" and opened.size == (THUMB_EDGE, THUMB_EDGE * 2 // 3)
    assert len(small) < len(big.data) / 10
    assert shop.images.read(stored.storage_key) == big.data  # the original is kept as sent


async def test_a_small_picture_is_its_own_thumbnail(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session)
        stored = await catalog.add_image(session=session, storage=shop.images, actor=ADMIN,
                                         product_id=mug.id, image=check_image(picture(90, 60)))
    assert stored.thumb_key == stored.storage_key


def test_thumbnails_stand_upright_and_keep_transparency():
    turned = thumbnail(check_image(picture(600, 300, "JPEG", orientation=6)))
    assert (turned.width, turned.height) == (160, 320)  # a phone photo taken sideways
    clear = thumbnail(check_image(picture(800, 800, "PNG", mode="RGBA")))
    with Image.open(io.BytesIO(clear.data)) as opened:
        assert "A" in opened.getbands()


async def test_attributes_are_short_text_and_limited_in_number(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, attributes={"colour": "blue", "size": 12})
        assert mug.attributes == {"colour": "blue", "size": "12"}
        for bad, says in [({"": "x"}, "names are 1-40"), ({"colour": " "}, "needs a value"),
                          ({f"a{n}": "x" for n in range(21)}, "at most 20")]:
            with pytest.raises(InvalidInput, match=says):
                await catalog.update_product(session=session, actor=ADMIN,
                                             product_id=mug.id, attributes=bad)
        await catalog.update_product(session=session, actor=ADMIN, product_id=mug.id,
                                     attributes={"colour": "forest green"})
        found = await search(session=session, filters=SearchFilters(text="forest"))
        assert [listing.product_id for listing in found.items] == [mug.id]


async def test_renaming_a_category_carries_its_children_and_products_along(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", category="Kitchen > Mugs")
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        await catalog.rename_category(session=session, category_id=kitchen.id, name="Galley",
                                      actor=ADMIN)
        mugs = await catalog.find_category(session=session, path="Galley > Mugs")
        assert mugs is not None and mugs.path == "Galley > Mugs"
        found = await search(session=session, filters=SearchFilters(text="galley"))
        assert [listing.product_id for listing in found.items] == [mug.id]
        await factories.product(session, category="Home")
        home = await catalog.find_category(session=session, path="Home")
        with pytest.raises(Conflict, match="already a category"):
            await catalog.rename_category(session=session, category_id=home.id,
                                          name="galley", actor=ADMIN)
        with pytest.raises(InvalidInput):
            await catalog.rename_category(session=session, category_id=home.id,
                                          name="A > B", actor=ADMIN)
        events = (await audit.recent(session=session, action="category.renamed")).items
        assert [e.data for e in events] == [{"from": "Kitchen", "to": "Galley"}]


async def test_only_an_empty_category_can_be_deleted(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, category="Kitchen > Mugs")
        await catalog.set_status(session=session, actor=ADMIN, product_id=mug.id,
                                 status=ProductStatus.ARCHIVED)
        mugs = await catalog.find_category(session=session, path="Kitchen > Mugs")
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        with pytest.raises(Conflict, match="has subcategories"):
            await catalog.delete_category(session=session, category_id=kitchen.id, actor=ADMIN)
        with pytest.raises(Conflict, match="holds 1 product .archived ones count"):
            await catalog.delete_category(session=session, category_id=mugs.id, actor=ADMIN)
        await catalog.update_product(session=session, actor=ADMIN, product_id=mug.id,
                                     category_id=None)
        await catalog.delete_category(session=session, category_id=mugs.id, actor=ADMIN)
        await catalog.delete_category(session=session, category_id=kitchen.id, actor=ADMIN)
        assert await catalog.category_tree(session=session) == []


async def test_the_staff_list_filters_by_category_and_stock_state_and_pages(shop):
    async with shop.transaction() as session:
        plenty = await factories.product(session, name="A plenty", stock=20, threshold=3,
                                         category="Kitchen > Mugs")
        low = await factories.product(session, name="B low", stock=2, threshold=3,
                                      category="Kitchen")
        gone = await factories.product(session, name="C gone", stock=0, category="Home")
        kitchen = await catalog.find_category(session=session, path="Kitchen")

        async def names(**filters):
            found = await catalog.staff_list(session=session, **filters)
            return [product.name for product, _ in found.items]

        assert await names(category_id=kitchen.id) == ["A plenty", "B low"]
        assert await names(stock=StockState.IN_STOCK) == ["A plenty", "B low"]
        assert await names(stock=StockState.LOW) == ["B low", "C gone"]
        assert await names(stock=StockState.OUT) == ["C gone"]
        await inventory.adjust(session=session, product_id=low.id, delta=-2, reason="broken",
                               actor=ADMIN)
        assert await names(stock=StockState.OUT) == ["B low", "C gone"]
        first = await catalog.staff_list(session=session, per_page=2)
        second = await catalog.staff_list(session=session, per_page=2, page=2)
        assert (first.total, first.pages) == (3, 2)
        assert [p.id for p, _ in first.items + second.items] == [plenty.id, low.id, gone.id]
        assert [left for _, left in first.items] == [20, 0]
