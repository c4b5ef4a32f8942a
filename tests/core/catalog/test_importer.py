import io
import json
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.catalog import importer
from core.catalog import service as catalog
from core.catalog.models import Category, Product
from core.catalog.search import SearchFilters, search
from core.clock import now
from core.inventory import service as inventory
from core.orders.models import Order
from tests.factories import ADMIN, CURRENCY

HEADER = "sku,name,category,price,stock,description,low_stock_threshold,image,attributes\n"


def rows_from(text: str, tmp_path, filename: str = "catalog.csv"):
    return importer.read_rows(text.encode(), filename=filename, currency=CURRENCY, base=tmp_path)


async def import_text(shop, text: str, tmp_path, filename: str = "catalog.csv"):
    rows = rows_from(text, tmp_path, filename)
    async with shop.transaction() as session:
        return await importer.import_rows(session=session, rows=rows, storage=shop.images,
                                          currency=CURRENCY, actor=ADMIN)


async def test_a_good_csv_creates_categories_products_stock_and_images(shop, tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buffer, "PNG")
    (tmp_path / "mug.png").write_bytes(buffer.getvalue())
    report = await import_text(shop, HEADER + (
        'MUG-1,Blue mug,Kitchen > Mugs,12.50,10,A sturdy mug.,3,mug.png,"{""colour"": ""blue""}"\n'
        "LAMP-1,Desk lamp,Home > Lamps,79,2,,,,colour=brass; height=40 cm\n"), tmp_path)
    assert report.created == ["MUG-1", "LAMP-1"] and report.updated == []
    async with shop.transaction() as session:
        page = await search(session=session, filters=SearchFilters(text="brass"))
        lamp = await catalog.get_product(session=session, product_id=page.items[0].product_id)
        assert (lamp.price_minor, lamp.attributes) == (7900, {"colour": "brass",
                                                              "height": "40 cm"})
        assert page.items[0].available == 2
        found = (await search(session=session, filters=SearchFilters(text="blue mug"))).items
        mug = await catalog.get_product(session=session, product_id=found[0].product_id)
        assert mug.category is not None and mug.category.path == "Kitchen > Mugs"
        assert [image.width for image in mug.images] == [64]
        stock = await inventory.get(session=session, product_id=mug.id)
        assert (stock.on_hand, stock.low_stock_threshold) == (10, 3)
        assert await session.scalar(select(func.count(Category.id))) == 4


async def test_importing_again_updates_by_sku(shop, tmp_path):
    await import_text(shop, HEADER + "MUG-1,Blue mug,Kitchen > Mugs,12.50,10,,,,\n", tmp_path)
    report = await import_text(
        shop, HEADER + "MUG-1,Blue mug (large),Kitchen > Mugs,14.00,4,,1,,\n", tmp_path)
    assert report.updated == ["MUG-1"]
    async with shop.transaction() as session:
        product = await session.scalar(select(Product))
        stock = await inventory.get(session=session, product_id=product.id)
        assert (product.name, product.price_minor) == ("Blue mug (large)", 1400)
        assert (stock.on_hand, stock.low_stock_threshold) == (4, 1)


def test_every_bad_row_is_reported_by_its_line(tmp_path):
    with pytest.raises(importer.ImportFailed) as caught:
        rows_from(HEADER + (
            "MUG-1,Blue mug,Kitchen > Mugs,12.50,10,,,,\n"
            "\n"
            "bad sku,Red mug,Kitchen > Mugs,1,1,,,,\n"
            "MUG-3,Green mug,A > B > C,abc,1.5,,-1,missing.png,{oops\n"
            "MUG-4,Grey mug,,12.50,,,,,\n"), tmp_path)
    lines = [(p.line, p.message) for p in caught.value.problems]
    assert (4, "sku 'bad sku' may only hold letters, digits, '.', '_' and '-' (max 64)") in lines
    assert (5, "category: Categories nest one level: use 'Parent > Child'.") in lines
    assert (5, "price: 'abc' is not an amount like 12.50") in lines
    assert (5, "stock must be a whole number, not '1.5'") in lines
    assert (5, "low_stock_threshold cannot be negative") in lines
    assert (5, "image 'missing.png' not found next to the file") in lines
    assert (5, "attributes: invalid JSON object") in lines
    assert (6, "category: A category name is required.") in lines
    assert (6, "stock is required") in lines
    assert all(line != 2 for line, _ in lines)


@pytest.mark.parametrize("text, expected", [
    ("", "line 1: the file is empty"),
    ("sku,name,price\n", "line 1: missing column(s): category, stock"),
    ("sku,name,category,price,stock,colour\n", "line 1: unknown column(s): colour"),
    (HEADER, "line 1: the file has no products"),
    ("sku,name,category,price,stock\nA,B,C,1,1,extra\n", "line 2: more values than columns"),
])
def test_files_of_the_wrong_shape_are_explained(tmp_path, text, expected):
    with pytest.raises(importer.ImportFailed) as caught:
        rows_from(text, tmp_path)
    assert expected in str(caught.value)


def test_json_rows_are_reported_by_the_line_they_start_on(tmp_path):
    good = {"sku": "A-1", "name": "A", "category": "Kitchen", "price": "1.00", "stock": 1}
    text = json.dumps([good, {**good, "sku": "A-2", "price": -3}, {**good, "sku": "A-1"}],
                      indent=2)
    with pytest.raises(importer.ImportFailed) as caught:
        rows_from(text, tmp_path, "catalog.json")
    starts = [n + 1 for n, line in enumerate(text.splitlines()) if line.strip() == "{"]
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (starts[1], "price: an amount cannot be negative"),
        (starts[2], "sku A-1 is also on line 2"),
    ]


def test_json_numbers_keep_their_written_digits(tmp_path):
    rows = rows_from('[{"sku": "A", "name": "A", "category": "K", "price": 19.99, '
                     '"stock": 3, "attributes": {"size": 350}}]', tmp_path, "c.json")
    assert (rows[0].price_minor, rows[0].attributes) == (1999, {"size": "350"})
    with pytest.raises(importer.ImportFailed, match="invalid JSON"):
        rows_from('[{"sku": "A",,}]', tmp_path, "c.json")
    with pytest.raises(importer.ImportFailed, match="unknown field"):
        rows_from('[{"sku": "A", "name": "A", "category": "K", "price": 1, "stock": 1, '
                  '"colour": "red"}]', tmp_path, "c.json")


async def test_a_row_refused_while_writing_rolls_back_the_whole_file(shop, tmp_path):
    await import_text(shop, HEADER + "MUG-1,Blue mug,Kitchen,12.50,10,,,,\n", tmp_path)
    async with shop.transaction() as session:  # 4 of the 10 mugs are promised to an order
        product = await session.scalar(select(Product))
        order = Order(number="CC-AAAAAA", channel="web", currency="EUR", subtotal_minor=0,
                      total_minor=0)
        session.add(order)
        await session.flush()
        await inventory.reserve(session=session, order_id=order.id, product_id=product.id,
                                quantity=4, expires_at=now() + timedelta(hours=1))
    with pytest.raises(importer.ImportFailed) as caught:
        await import_text(shop, HEADER + "NEW-1,New thing,Kitchen,1.00,1,,,,\n"
                                         "MUG-1,Blue mug,Kitchen,12.50,2,,,,\n", tmp_path)
    assert caught.value.problems[0].line == 3
    assert "reserved for orders" in caught.value.problems[0].message
    async with shop.transaction() as session:
        assert await session.scalar(select(func.count(Product.id))) == 1


async def test_a_cut_off_picture_is_reported_on_its_line(shop, tmp_path):
    whole = io.BytesIO()
    Image.new("RGB", (1200, 900), "teal").save(whole, "JPEG")
    (tmp_path / "mug.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(importer.ImportFailed) as caught:
        await import_text(shop, HEADER + "MUG-1,Blue mug,Kitchen,12.50,10,,,,\n"
                                         "MUG-2,Red mug,Kitchen,12.50,10,,,mug.jpg,\n",
                          tmp_path)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (3, "That file is not a readable image.")]
    async with shop.transaction() as session:
        assert await session.scalar(select(func.count(Product.id))) == 0
