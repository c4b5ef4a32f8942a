import csv
import io
from decimal import Decimal

from PIL import Image

from core.catalog import importer
from core.demo.images import render_product_image, write_demo_catalog
from core.demo.products import DEMO_PRODUCTS


def test_the_demo_catalog_is_a_plausible_shop():
    skus = [p["sku"] for p in DEMO_PRODUCTS]
    categories = {str(p["category"]).split(" > ")[0] for p in DEMO_PRODUCTS}
    assert len(DEMO_PRODUCTS) >= 40 and len(set(skus)) == len(skus)
    assert len(categories) >= 6
    assert any(" > " in str(p["category"]) for p in DEMO_PRODUCTS)
    for product in DEMO_PRODUCTS:
        price = Decimal(str(product["price"]))
        assert price > 0 and price == price.quantize(Decimal("0.01"))
        assert product["description"] and product["image"]
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


def test_the_demo_file_passes_the_real_importer(tmp_path):
    path = write_demo_catalog(tmp_path)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["sku"] for row in rows] == [p["sku"] for p in DEMO_PRODUCTS]
    checked = importer.read_rows(path.read_bytes(), filename=path.name, currency="EUR",
                                 base=tmp_path)
    assert len(checked) == len(DEMO_PRODUCTS)
    assert all(row.image is not None for row in checked)
