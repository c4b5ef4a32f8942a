"""Today's product and category names, matched against what a shopper typed.

Names and text are cut into word stems ("mugs" -> "mug"); a typed word finds name words
exactly or within a typo budget (rapidfuzz OSA distance: 1 edit for 3-5 letters, 2 from
6, so "blu mgu" still finds "Blue mug"). A name scores by how much of itself was typed
and how much of the typed phrase it explains. Names that overlap and score about the
same are all returned, so the dialog can ask "which one?". An index is immutable:
when the catalog changes, build a new one and swap it in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.nlu.stems import COMMAND_WORDS, COMMON_WORDS, STOPWORDS, fold, stem, stems

MIN_SCORE = 0.65
MARGIN = 0.12  # candidates this close to the best on the same words are all kept
MAX_PER_MENTION = 5


@dataclass(frozen=True, slots=True)
class CatalogMatch:
    entity: str  # "product" or "category"
    id: int
    name: str
    start: int
    end: int
    score: float
    words: int = 1  # typed words it accounts for


@dataclass(frozen=True, slots=True)
class _Entry:
    entity: str
    id: int
    name: str
    tokens: tuple[str, ...]  # stems that must be typed, stopwords removed
    words: frozenset[str]  # every stem of the name, stopwords included


class CatalogIndex:
    def __init__(self, products: Iterable[tuple[int, str]] = (),
                 categories: Iterable[tuple[int, str]] = (),
                 synonyms: dict[str, str] | None = None,
                 known_words: Iterable[str] = ()) -> None:
        """`known_words`: spelled right, so never corrected (see TrainingData.vocabulary)."""
        self.entries: list[_Entry] = []
        self._known = COMMON_WORDS | COMMAND_WORDS | {stem(w) for w in known_words}
        for entity, items in (("product", products), ("category", categories)):
            for item_id, name in items:
                words = [w for w, _, _ in stems(name)]
                tokens = tuple(w for w in words if w not in STOPWORDS) or tuple(words)
                if tokens:
                    self.entries.append(_Entry(entity, item_id, name, tokens, frozenset(words)))
        self._postings: dict[str, list[int]] = {}
        for number, entry in enumerate(self.entries):
            for token in set(entry.tokens):
                self._postings.setdefault(token, []).append(number)
        self._fuzzy_vocabulary = [t for t in self._postings if len(t) >= 3]
        self._aliases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for variant, canonical in (synonyms or {}).items():
            source = tuple(w for w, _, _ in stems(variant))
            target = tuple(w for w, _, _ in stems(canonical))
            if source and target and not canonical.strip().isdigit() and source != target:
                self._aliases[source] = target
        self._longest_alias = max((len(k) for k in self._aliases), default=0)
        self._similar_cache: dict[str, dict[str, float]] = {}
        self._fuzzy_known = [w for w in (self._known | set(self._postings)) - STOPWORDS
                             if len(w) >= 3]

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, text: str, prefer: str | None = None) -> list[CatalogMatch]:
        """Products and categories named in the text, left to right, best first per place.

        `prefer` ("product" or "category") settles a product/category overlap in favour of
        that kind, e.g. a cart intent means "mug" as a product even with a Mugs section.
        """
        tokens = self._tokens(text)
        # A number alone never names a product ("make it 3" is not "set of 3" towels).
        hits = [{} if word in STOPWORDS or word.isdigit()
                else self._similar(word, fold(text[start:end])) for word, start, end in tokens]
        reached = {n for h in hits for word in h for n in self._postings[word]}
        candidates = [m for n in reached if (m := self._score(self.entries[n], tokens, hits))]
        groups = {kind: _groups([c for c in candidates if c.entity == kind])
                  for kind in ("product", "category")}
        for product in list(groups["product"]):
            for category in list(groups["category"]):
                alive = product in groups["product"] and category in groups["category"]
                if alive and _overlap(product[0], category[0]):
                    loser = _loser(product, category, prefer)
                    groups[loser[0].entity].remove(loser)
        found = [m for kind in groups.values() for group in kind for m in group]
        return sorted(found, key=lambda m: (m.start, -m.score))

    def recognises(self, text: str) -> bool:
        """Whether the text speaks the shop's language: a word of it or of the catalog that
        names something (a typo allowed: "chekout pls"), or mostly plain words ("no", "yes
        please"). "qwxz vbnm", "the asdf" and "asdf is qwer" do not."""
        words = [word for word, _, _ in stems(text)]
        plain = sum(1 for word in words if word in self._known or word in STOPWORDS)
        if words and (plain == len(words) or (plain >= 2 and 2 * plain >= len(words))):
            return True  # "no", "what is this", "no more promo msgs"
        return any(word not in STOPWORDS and self._is_known(word) for word in words)

    def _is_known(self, word: str) -> bool:
        if word in self._known or word in self._postings:
            return True
        budget = 0 if len(word) < 3 else 1 if len(word) < 6 else 2
        return bool(budget) and process.extractOne(
            word, self._fuzzy_known, scorer=OSA.distance, score_cutoff=budget) is not None

    def _tokens(self, text: str) -> list[tuple[str, int, int]]:
        """Stems with spans; a synonym ("cafetiere") becomes its canonical words."""
        words = stems(text)
        if not self._aliases:
            return words
        out: list[tuple[str, int, int]] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest_alias, len(words) - i), 0, -1):
                target = self._aliases.get(tuple(w for w, _, _ in words[i:i + size]))
                if target:
                    start, end = words[i][1], words[i + size - 1][2]
                    out += [(t, start, end) for t in target]
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def _similar(self, word: str, typed: str) -> dict[str, float]:
        """Name words this stem (typed as `typed`) may mean, with a similarity in (0, 1].

        Both forms are tried: "mgus" is near "mug" as the stem "mgu", "glas" is near
        "glass" as typed (its stem "gla" is not).
        """
        if word in self._postings:
            return {word: 1.0}
        if word in self._known or typed in self._known:
            return {}  # "show" is not a typo of "shoe", nor "cancel" of "candle"
        key = f"{word} {typed}"
        if key not in self._similar_cache:
            if len(self._similar_cache) > 20_000:
                self._similar_cache.clear()
            found: dict[str, float] = {}
            for form in {word, typed}:
                for choice, sim in self._near(form):
                    found[choice] = max(sim, found.get(choice, 0.0))
            self._similar_cache[key] = found
        return self._similar_cache[key]

    def _near(self, form: str) -> list[tuple[str, float]]:
        budget = 0 if len(form) < 3 else 1 if len(form) < 6 else 2
        if not budget:
            return []
        return [(choice, max(0.5, 1.0 - 0.5 * distance / len(choice)))
                for choice, distance, _ in process.extract(
                    form, self._fuzzy_vocabulary, scorer=OSA.distance, score_cutoff=budget,
                    limit=None)
                if len(form) > 3 or choice[0] == form[0]]  # "yup" is not "cup"; "blu" is "blue"

    def _score(self, entry: _Entry, tokens: list[tuple[str, int, int]],
               hits: list[dict[str, float]]) -> CatalogMatch | None:
        """The entry's best window of typed words, scored; None below MIN_SCORE."""
        size = len(entry.tokens) + 1
        starts = sorted({p for p, h in enumerate(hits) if any(t in h for t in entry.tokens)})
        best: tuple[float, list[tuple[int, float, int]]] = (0.0, [])
        for first in starts:
            used: list[tuple[int, float, int]] = []  # (position, similarity, name index)
            free = set(range(first, min(first + size + 1, len(tokens))))
            for k, token in enumerate(entry.tokens):
                options = [(hits[p][token], p) for p in free if token in hits[p]]
                if options:
                    sim, p = max(options)
                    used.append((p, sim, k))
                    free.discard(p)
            total = sum(sim for _, sim, _ in used)
            if total > best[0]:
                best = (total, used)
        total, used = best
        if all(entry.tokens[k] in COMMAND_WORDS for _, _, k in used):
            return None  # "set the quantity" does not name the "Tea set"
        if len(used) == 1 < len(entry.tokens) and used[0][1] < 1.0:
            return None  # one mistyped word of a longer name is too little to go on
        low, high = min(p for p, _, _ in used), max(p for p, _, _ in used)
        matched = {p for p, _, _ in used}
        gaps = sum(0.5 if tokens[p][0] in STOPWORDS else 1.0
                   for p in range(low, high + 1)
                   if p not in matched and tokens[p][0] not in entry.words)
        explained = total / (len(used) + gaps)
        if [k for _, _, k in sorted(used)] != sorted(k for _, _, k in used):
            explained *= 0.85  # "mug blue" is less likely "Blue mug" than "blue mug" is
        score = 0.6 * explained + 0.4 * total / len(entry.tokens)
        if score < MIN_SCORE:
            return None
        while low > 0 and tokens[low - 1][0] in entry.words:
            low -= 1
        while high + 1 < len(tokens) and tokens[high + 1][0] in entry.words:
            high += 1
        return CatalogMatch(entry.entity, entry.id, entry.name, tokens[low][1], tokens[high][2],
                            round(score, 3), len(used))


def _groups(candidates: list[CatalogMatch]) -> list[list[CatalogMatch]]:
    """Overlapping candidates grouped under the best; kept only when about as good.

    "About as good" is a score within MARGIN that accounts for as many typed words:
    "blue camp mug" is not a way to say "Red mug", though "mug" alone could be.
    """
    groups: list[list[CatalogMatch]] = []
    for c in sorted(candidates, key=lambda c: (-c.score, c.start - c.end, c.name)):
        group = next((g for g in groups if _overlap(g[0], c)), None)
        if group is None:
            groups.append([c])
        elif (c.score >= group[0].score - MARGIN and c.words >= group[0].words
              and len(group) < MAX_PER_MENTION):
            group.append(c)
    return groups


def _overlap(a: CatalogMatch, b: CatalogMatch) -> bool:
    return a.start < b.end and b.start < a.end


def _loser(product: list[CatalogMatch], category: list[CatalogMatch],
           prefer: str | None) -> list[CatalogMatch]:
    if prefer == "product":
        return category
    if prefer == "category":
        return product
    p, c = product[0], category[0]
    if (p.start, p.end) != (c.start, c.end):
        if p.start <= c.start and c.end <= p.end:
            return category  # "blue camp mug" is more than the Mugs section
        if c.start <= p.start and p.end <= c.end:
            return product
    if abs(p.score - c.score) > 1e-9:
        return category if p.score > c.score else product
    return category if (p.end - p.start) > (c.end - c.start) else product
