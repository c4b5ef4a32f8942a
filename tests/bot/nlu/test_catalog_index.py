"""Product and category names found in what shoppers type, typos and plurals included."""

import statistics
import time

from bot.nlu.catalog_index import CatalogIndex
from bot.nlu.training_data import DATA_DIR, load_training_data

MUGS = CatalogIndex(products=[(1, "Blue mug"), (2, "Blue enamel camp mug"), (3, "Red mug"),
                              (4, "Glass teapot"), (5, "Glass French press"), (6, "Tea set")],
                    categories=[(10, "Mugs"), (11, "Coffee & tea"), (12, "T-shirts")],
                    synonyms={"cafetiere": "french press", "tee": "t-shirt"})


def names(text: str, prefer: str | None = None) -> list[str]:
    return [m.name for m in MUGS.match(text, prefer)]


def test_the_blue_mug_is_the_blue_mug_first():
    matches = MUGS.match("the blue mug")
    assert matches[0].name == "Blue mug" and (matches[0].start, matches[0].end) == (4, 12)
    assert matches[0].score == 1.0


def test_blue_alone_could_be_either_blue_thing():
    matches = MUGS.match("blue")
    assert [m.name for m in matches] == ["Blue mug", "Blue enamel camp mug"]
    assert matches[0].score >= matches[1].score
    assert all((m.start, m.end) == (0, 4) for m in matches)


def test_typos_and_plurals_still_find_the_product():
    assert names("blu mgu") == ["Blue mug"]
    assert names("2 blue mugs please") == ["Blue mug"]
    assert names("a glas teapott") == ["Glass teapot"]


def test_more_words_typed_pick_the_longer_name():
    assert names("blue camp mug") == ["Blue enamel camp mug"]


def test_two_products_in_one_sentence():
    assert names("a blue mug and a glass teapot") == ["Blue mug", "Glass teapot"]


def test_synonyms_lead_to_the_canonical_words():
    assert names("do you have a cafetiere") == ["Glass French press"]
    assert names("any tees?") == ["T-shirts"]


def test_categories_match_whole_names_with_any_joining_word():
    assert names("what is in coffee & tea") == ["Coffee & tea"]
    assert names("coffee and tea") == ["Coffee & tea"]


def test_common_words_are_not_typos_of_names():
    assert names("set the quantity to 3") == []  # "Tea set"
    assert names("i need to cancel") == []
    assert names("hello") == []


def test_prefer_settles_product_against_section():
    assert names("a mug", prefer="product") == ["Blue mug", "Red mug", "Blue enamel camp mug"]
    assert names("a mug", prefer="category") == ["Mugs"]


def test_an_empty_index_finds_nothing():
    assert CatalogIndex().match("blue mug") == []
    assert len(CatalogIndex()) == 0


def test_known_words_are_never_corrected():
    index = CatalogIndex(products=[(1, "Kettle")])
    assert [m.name for m in index.match("settle up")] == []  # a built-in common word
    assert [m.name for m in index.match("nettle tea")] == ["Kettle"]
    guarded = CatalogIndex(products=[(1, "Kettle")], known_words=["nettle"])
    assert guarded.match("nettle tea") == []


def test_matching_against_500_products_is_fast():
    adjectives = ["blue", "red", "green", "oat", "cedar", "brass", "glass", "linen", "enamel",
                  "travel", "mini", "large", "classic", "vintage", "rustic", "modern", "grey",
                  "black", "white", "ceramic"]
    nouns = ["mug", "teapot", "lamp", "candle", "notebook", "hoodie", "cap", "flask", "kettle",
             "grinder", "press", "apron", "blanket", "pen", "filter", "throw", "tray", "bowl",
             "jar", "cup", "scarf", "tote", "spoon", "vase", "clock"]
    products = [(i, f"{a} {n}".capitalize())
                for i, (a, n) in enumerate(((a, n) for a in adjectives for n in nouns), 1)]
    index = CatalogIndex(products=products, categories=[(1, "Mugs"), (2, "Lamps")])
    assert len(index) == 502
    texts = [e.text for e in load_training_data(DATA_DIR / "test.yml").examples] \
        if (DATA_DIR / "test.yml").exists() else ["add two blu mgus", "the brass lamp"] * 50
    for text in texts[:20]:
        index.match(text)
    took = []
    for text in texts:
        start = time.perf_counter()
        index.match(text)
        took.append(time.perf_counter() - start)
    assert statistics.median(took) < 0.002


def test_text_is_recognised_by_a_word_of_the_shop_or_of_its_catalog_a_typo_allowed():
    index = CatalogIndex(products=[(1, "Glass teapot")], known_words=["checkout", "cart"])
    assert index.recognises("chekout please")        # a known word, one typo
    assert index.recognises("teapto")                # a catalog word, one typo
    assert index.recognises("CART")
    for gibberish in ("qwxz vbnm plokij", "asdf", "xkcd 42 zzz", ""):
        assert not index.recognises(gibberish), gibberish
