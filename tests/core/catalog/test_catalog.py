import io

import pytest
from PIL import Image

from core.audit import service as audit
from core.catalog import service as catalog
from core.catalog.errors import CatalogError
from core.catalog.images import check_image
from core.catalog.models import ProductStatus
from core.catalog.search import SearchFilters, search, terms
from core.errors import Conflict, InvalidInput, NotFound
from tests import factories
from tests.factories import ADMIN


def png(width: int = 40, height: int = 30, colour: str = "navy", kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, kind)
    return buffer.getvalue()


async def fill(session):
    await factories.product(session, name="Blue mug", price=1250, stock=8,
                            category="Kitchen > Mugs", attributes={"colour": "blue"})
    await factories.product(session, name="Red enamel mug", price=1490, stock=0,
                            category="Kitchen > Mugs", attributes={"colour": "red"})
    await factories.product(session, name="Cast iron teapot", price=4500, stock=3,
                            category="Kitchen > Teapots", description="Keeps tea warm.")
    await factories.product(session, name="Brass desk lamp", price=7900, stock=2,
                            category="Home > Lamps")
    await factories.product(session, name="Linen apron", price=2200, stock=5,
                            category="Kitchen")


async def test_categories_nest_one_level_and_are_reused(shop):
    async with shop.transaction() as session:
        mugs = await catalog.ensure_category(session=session, path="Kitchen > Mugs", actor=ADMIN)
        again = await catalog.ensure_category(session=session, path=" kitchen >  MUGS ",
                                              actor=ADMIN)
        assert mugs.id == again.id and mugs.path == "Kitchen > Mugs"
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        assert mugs.parent_id == kitchen.id
        with pytest.raises(InvalidInput) as caught:
            await catalog.ensure_category(session=session, path="A > B > C", actor=ADMIN)
        assert caught.value.code is CatalogError.CATEGORY_TOO_DEEP


async def test_category_tree_counts_products_including_subcategories(shop):
    async with shop.transaction() as session:
        await fill(session)
        tree = {node.category.name: node for node in await catalog.category_tree(session=session)}
    assert tree["Kitchen"].product_count == 4
    assert sorted(c.name for c in tree["Kitchen"].children) == ["Mugs", "Teapots"]
    assert tree["Home"].product_count == 1


async def test_a_shelf_is_a_category_with_its_subcategories(shop):
    async with shop.transaction() as session:
        await fill(session)
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        category, children = await catalog.shelf(session=session, category_id=kitchen.id)
        assert category.path == "Kitchen"
        assert sorted(c.name for c in children) == ["Mugs", "Teapots"]
        mugs = await catalog.find_category(session=session, path="Kitchen > Mugs")
        assert (await catalog.shelf(session=session, category_id=mugs.id))[1] == []
        with pytest.raises(NotFound):
            await catalog.shelf(session=session, category_id=99_999)


async def test_text_search_finds_by_name_words_plurals_and_attributes(shop):
    async with shop.transaction() as session:
        await fill(session)
        names = lambda page: [item.name for item in page.items]  # noqa: E731
        assert names(await search(session=session, filters=SearchFilters(text="mugs"))) == [
            "Blue mug", "Red enamel mug"]
        assert names(await search(session=session, filters=SearchFilters(text="BLUE mug"))) == [
            "Blue mug"]
        assert names(await search(session=session, filters=SearchFilters(text="red"))) == [
            "Red enamel mug"]
        assert names(await search(session=session, filters=SearchFilters(text="warm tea"))) == [
            "Cast iron teapot"]
        assert (await search(session=session, filters=SearchFilters(text="100%_"))).total == 0


async def test_filters_by_category_price_and_stock_combine(shop):
    async with shop.transaction() as session:
        await fill(session)
        kitchen = await catalog.find_category(session=session, path="Kitchen")
        page = await search(session=session, filters=SearchFilters(
            category_id=kitchen.id, price_min=1300, price_max=5000))
        assert [i.name for i in page.items] == [
            "Cast iron teapot", "Linen apron", "Red enamel mug"]
        page = await search(session=session, filters=SearchFilters(
            category_id=kitchen.id, price_min=1300, price_max=5000, in_stock=True))
        assert [i.name for i in page.items] == ["Cast iron teapot", "Linen apron"]
        swapped = await search(session=session, filters=SearchFilters(price_min=5000,
                                                                      price_max=1300))
        assert swapped.total == 3


async def test_results_are_paginated_with_totals(shop):
    async with shop.transaction() as session:
        for n in range(23):
            await factories.product(session, name=f"Mug {n:02}", stock=1)
        first = await search(session=session, filters=SearchFilters(text="mug"), per_page=10)
        last = await search(session=session, filters=SearchFilters(text="mug"), page=3,
                            per_page=10)
        assert (first.total, first.pages, len(first.items)) == (23, 3, 10)
        assert first.has_next and not first.has_previous
        assert [i.name for i in last.items] == ["Mug 20", "Mug 21", "Mug 22"]
        assert not last.has_next and last.has_previous
        beyond = await search(session=session, filters=SearchFilters(text="mug"), page=9,
                              per_page=10)  # a list gone stale: the total still comes
        assert (beyond.total, beyond.pages, beyond.items) == (23, 3, [])
        nothing = await search(session=session, filters=SearchFilters(text="kettle"))
        assert (nothing.total, nothing.pages, nothing.items) == (0, 1, [])
        with pytest.raises(InvalidInput):
            await search(session=session, filters=SearchFilters(), page=0)


async def test_archived_products_leave_the_shop_window_but_stay_on_record(shop):
    async with shop.transaction() as session:
        lamp = await factories.product(session, name="Old lamp", category="Home > Lamps")
        await catalog.set_status(session=session, actor=ADMIN, product_id=lamp.id,
                                 status=ProductStatus.ARCHIVED)
        assert (await search(session=session, filters=SearchFilters(text="lamp"))).total == 0
        everything = await search(session=session, filters=SearchFilters(
            text="lamp", include_archived=True))
        assert everything.total == 1
        actions = [e.action for e in await audit.history(session=session, subject_type="product",
                                                         subject_id=lamp.id)]
        assert actions[0] == "product.created" and "product.archived" in actions


async def test_editing_a_product_records_what_changed_and_keeps_search_current(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session, name="Blue mug", price=1250)
        teapots = await catalog.ensure_category(session=session, path="Kitchen > Teapots",
                                                actor=ADMIN)
        await catalog.update_product(session=session, actor=ADMIN, product_id=mug.id,
                                     name="Blue teapot", price_minor=3900,
                                     category_id=teapots.id)
        assert mug.category.name == "Teapots"
        hits = await search(session=session, filters=SearchFilters(text="teapot"))
        assert [i.product_id for i in hits.items] == [mug.id]
        event = (await audit.history(session=session, subject_type="product",
                                     subject_id=mug.id))[-1]
        assert event.action == "product.updated"
        assert event.data["before"]["price_minor"] == 1250
        assert event.data["after"]["price_minor"] == 3900


async def test_sku_must_be_unique_and_well_formed(shop):
    async with shop.transaction() as session:
        await factories.product(session, sku="MUG-1")
        with pytest.raises(Conflict):
            await factories.product(session, sku="MUG-1")
        with pytest.raises(InvalidInput):
            await factories.product(session, sku="has space")
        with pytest.raises(InvalidInput):
            await factories.product(session, price=-1)


async def test_images_are_checked_stored_once_and_served_by_url(shop):
    async with shop.transaction() as session:
        mug = await factories.product(session)
        image = check_image(png())
        first = await catalog.add_image(session=session, storage=shop.images, actor=ADMIN,
                                        product_id=mug.id, image=image)
        again = await catalog.add_image(session=session, storage=shop.images, actor=ADMIN,
                                        product_id=mug.id, image=image)
        assert first.id == again.id
        assert (first.content_type, first.width, first.height) == ("image/png", 40, 30)
        assert shop.images.read(first.storage_key) == png()
        assert shop.images.url(first.storage_key).startswith("http://127.0.0.1:8000/media/")
        second = await catalog.add_image(session=session, storage=shop.images, actor=ADMIN,
                                         product_id=mug.id,
                                         image=check_image(png(colour="red", kind="JPEG")))
        assert [i.position for i in mug.images] == [0, 1]
        await catalog.remove_image(session=session, actor=ADMIN, product_id=mug.id,
                                   image_id=first.id)
        assert [(i.id, i.position) for i in mug.images] == [(second.id, 0)]


@pytest.mark.parametrize("data", [b"", b"GIF89a not really", b"<svg></svg>",
                                  b"\x89PNG\r\n\x1a\n" + b"\x00" * 50])
def test_files_that_are_not_images_are_refused(data):
    with pytest.raises(InvalidInput) as caught:
        check_image(data)
    assert caught.value.code is CatalogError.IMAGE_INVALID


def test_storage_keys_cannot_escape_the_media_folder(tmp_path):
    from core.catalog.images import LocalImageStorage

    storage = LocalImageStorage(tmp_path / "media", "http://x/media")
    with pytest.raises(ValueError):
        storage.read("../secret_key")


def test_search_terms_fold_case_and_plurals():
    assert terms("Blue MUGS, batteries & glasses, boxes, dress") == [
        "blue", "mug", "battery", "glass", "box", "dress"]
