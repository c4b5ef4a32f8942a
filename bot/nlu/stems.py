"""Words as the catalog matcher compares them: stems, and the words that name nothing."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Never part of what names a thing: dropped from names and from the text.
STOPWORDS = frozenset(
    "a an the of for to in on at by with and or but from into about some any this that "
    "these those it its them they i me my mine we us our you your yours he she his her "
    "is are was were be been am do does did have has had got can could would will shall "
    "should may might must please pls plz thanks thank hi hey hello yes no not just also "
    "too very really much many more less most least one ones other another what which who "
    "where when how why there here all each every both few lot lots than".split())
# Shop talk that may be part of a name ("Tea set") but never names a thing on its own.
COMMAND_WORDS = frozenset(
    "add put remove take show see find search look looking want need like buy get order "
    "cart basket set make change give send tell let item items thing things stuff price "
    "cost costs under over below above between up out off new".split())

# Correctly spelled chat words that are never typo-corrected into a name ("cancel" is not
# "candle", "back" not "black"); an index adds the training data's own words to these.
COMMON_WORDS = frozenset(
    "account address afternoon agent ago anyone anything arrive arrived back bad bill bot "
    "bought bye call came cancel card catalog catalogue chat cheap check checkout close "
    "cold come confirm cool correct customer data date day deal delete deliver delivered "
    "delivery done email evening ever fine fix free friend gift good great help history "
    "hold hope hour human info just kind last late later left let like list live long lost "
    "made mail main mean meant menu message mind money month morning name nice night note "
    "now number okay old only open paid part pay person phone place placed post problem "
    "real refund rest return right rid said say sell send sent settle ship shipped shop "
    "sign sister size sold something soon sort speak start status still stock stop store "
    "sure talk team tell text thank time today track wait want week well what while work "
    "wrong yeah year yes yet yup".split())


def fold(word: str) -> str:
    """Lower case, no accents or apostrophes: "Cafetière's" -> "cafetieres"."""
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in word if not unicodedata.combining(ch)).replace("'", "")


def stem(word: str) -> str:
    """Folded, plural cut: "Cafetières" -> "cafetiere"."""
    word = fold(word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(text: str) -> list[tuple[str, int, int]]:
    """Each word's stem with its character span."""
    return [(stem(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]
