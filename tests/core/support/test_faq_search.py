"""FAQ matching (core/support/faq_search.py) on its own: the evaluation set's floor, the
normalisation it relies on, and the threshold that lets unrelated questions through."""

from hypothesis import given, settings
from hypothesis import strategies as st

from core.demo.faq import DEMO_FAQ
from core.support.faq_search import MAX_QUERY, Index, rank, stem, terms
from core.support.models import FaqEntry
from tests.core.support.faq_paraphrases import NOT_IN_FAQ, PARAPHRASES

DEMO = Index([(question, keywords, answer) for question, answer, keywords in DEMO_FAQ])


def _best(text: str) -> str | None:
    hits = DEMO.search(text)
    return DEMO_FAQ[hits[0].position][0] if hits else None


def test_paraphrases_of_the_demo_faq_find_their_answer_and_unrelated_ones_do_not():
    found = [text for text, question in PARAPHRASES.items() if _best(text) == question]
    refused = [text for text in NOT_IN_FAQ if _best(text) is None]
    # Measured 38/39 and 10/10 (word overlap, before: 29/39 and 9/10); the floor leaves
    # room for one tuning step to trade a paraphrase, not more.
    assert len(found) >= 37, sorted(set(PARAPHRASES) - set(found))
    assert len(refused) == len(NOT_IN_FAQ), sorted(set(NOT_IN_FAQ) - set(refused))


def test_words_for_the_same_thing_meet():
    assert terms("postage") == terms("shipping") == terms("delivery") == ["ship"]
    assert terms("can I get my money back") == terms("refund")
    assert terms("send it back") == terms("return")
    assert terms("Do you ship to Canada?") == ["ship", "international"]
    assert [stem(w) for w in ("countries", "delivered", "shipping", "boxes", "address")] \
        == ["country", "deliver", "ship", "box", "address"]


def test_a_one_entry_faq_still_answers():
    """Okapi's IDF is negative for a word every entry has; Lucene's is not."""
    one = Index([("How long does delivery take?", "shipping postage", "Two to four days.")])
    assert [hit.position for hit in one.search("how long is postage")] == [0]
    assert one.search("zebra quantum") == []


def test_a_word_shared_by_chance_is_not_an_answer():
    hits = DEMO.search("do you sell gift cards", floor=0.0)
    assert hits and hits[0].coverage < 0.4  # "card" is the payment entry's, the rest is not
    assert DEMO.search("do you sell gift cards") == []


def test_nothing_to_search_and_hostile_text_find_nothing_quickly():
    assert DEMO.search("") == DEMO.search("?!") == DEMO.search("the and of") == []
    assert Index([]).search("shipping") == []
    assert DEMO.search("\ud800 \x00 <script>") == []
    long = "shipping " * 100_000  # read up to its first MAX_QUERY characters only
    assert _best(long) in {question for question, _, _ in DEMO_FAQ}


def test_a_question_after_hundreds_of_blanks_is_read_not_a_crash():
    """`"   ".rsplit(None, 1)` is []: the cut at MAX_QUERY used to raise IndexError."""
    for blanks in (" " * MAX_QUERY, " " * 250, "\t\n" * 150, "\u3000" * 300):
        assert _best(blanks + "how much is shipping") == "How much is shipping?"
        assert DEMO.search(blanks) == []


ENTRIES = [FaqEntry(id=n, question=q, answer=a, keywords=k)
           for n, (q, a, k) in enumerate(DEMO_FAQ, 1)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=MAX_QUERY * 3)
       | st.builds(lambda blanks, words: blanks + words,
                   st.text(alphabet=" \t\n\r\u3000\u00a0\u2003", min_size=150,
                           max_size=400), st.text(max_size=60)))
def test_any_text_is_answered_or_refused_never_an_error(text):
    """What best_answer runs over the published entries, on any text a shopper may send."""
    found = rank(ENTRIES, text)
    assert all(entry in ENTRIES for entry in found)
