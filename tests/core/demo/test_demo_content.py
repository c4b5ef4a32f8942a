import csv
import io
import json
from decimal import Decimal

from PIL import Image

from core.catalog import importer
from core.demo import images
from core.demo.images import FIELDS, render_product_image, write_demo_catalog
from core.demo.products import CATEGORY_COLOURS, DEMO_PRODUCTS


def test_the_demo_catalog_is_a_plausible_shop():
    skus = [p["sku"] for p in DEMO_PRODUCTS]
    categories = {str(p["category"]).split(" > ")[0] for p in DEMO_PRODUCTS}
    assert len(DEMO_PRODUCTS) >= 40 and len(set(skus)) == len(skus)
    assert len(categories) >= 6 and categories <= set(CATEGORY_COLOURS)
    assert any(" > " in str(p["category"]) for p in DEMO_PRODUCTS)
    assert all(str(p["category"]).count(" > ") <= 1 for p in DEMO_PRODUCTS)
    for product in DEMO_PRODUCTS:
        assert isinstance(product["price"], str), "prices are text, never floats"
        price = Decimal(product["price"])
        assert price > 0 and price.as_tuple().exponent >= -2
        assert product["description"] and product["image"] == f"{product['sku']}.png"
        assert isinstance(product["stock"], int) and product["stock"] >= 0
        assert isinstance(product["low_stock_threshold"], int)
        attributes = product["attributes"]
        assert isinstance(attributes, dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())
    stocks = [int(p["stock"]) for p in DEMO_PRODUCTS]  # type: ignore[call-overload]
    assert 0 in stocks, "some products are sold out in the demo"
    assert any(0 < int(p["stock"]) <= int(p["low_stock_threshold"])  # type: ignore[call-overload]
               for p in DEMO_PRODUCTS), "some products are low on stock"


def test_product_pictures_are_real_pngs_and_the_same_every_time():
    picture = render_product_image("Blue mug", "Kitchen > Mugs", size=200, colour="blue")
    with Image.open(io.BytesIO(picture)) as image:
        assert (image.format, image.size) == ("PNG", (200, 200))
    assert picture == render_product_image("Blue mug", "Kitchen > Mugs", size=200,
                                           colour="blue")
    assert picture != render_product_image("Red mug", "Kitchen > Mugs", size=200, colour="red")
    with Image.open(io.BytesIO(render_product_image("Lamp", "Home > Lamps"))) as image:
        assert image.size == (480, 480)


def test_odd_names_and_categories_still_draw():
    long_name = "A remarkably long product name " * 6
    for name, category, size in ((long_name, "Nowhere > Special", 96),
                                 ("Supercalifragilisticexpialidocious", "Gifts", 64),
                                 ("Fern", "Outdoor", 480)):
        with Image.open(io.BytesIO(render_product_image(name, category, size=size))) as image:
            assert image.size == (size, size)


def test_every_demo_product_gets_a_drawing_of_its_own_kind():
    generic = [p["name"] for p in DEMO_PRODUCTS
               if images._kind(str(p["name"]), str(p["category"])) == "generic"]
    assert generic == []


def test_the_demo_file_round_trips_and_passes_the_real_importer(tmp_path):
    path = write_demo_catalog(tmp_path)
    assert path == tmp_path / "catalog.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == FIELDS
        rows = list(reader)
    assert [row["sku"] for row in rows] == [p["sku"] for p in DEMO_PRODUCTS]
    for row, product in zip(rows, DEMO_PRODUCTS, strict=True):
        assert row["name"] == product["name"] and row["price"] == product["price"]
        assert int(row["stock"]) == product["stock"]
        assert json.loads(row["attributes"]) == product["attributes"]
        with Image.open(tmp_path / row["image"]) as image:
            assert image.format == "PNG"
    checked = importer.read_rows(path.read_bytes(), filename=path.name, currency="EUR",
                                 base=tmp_path)
    assert len(checked) == len(DEMO_PRODUCTS)
    assert all(row.image is not None for row in checked)
