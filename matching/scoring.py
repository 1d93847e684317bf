"""Re-ranking of candidate entries: the evidence of one entry for one demand as a few features
(title coverage, title similarity, item coverage, bigram BM25 …), combined by fitted logistic
weights into a confidence; and the per-item assignment that explains it."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from matching.analysis import Analyzed, ItemForm
from matching.config import MatchConfig
from matching.models import ItemMatch, MatchKind


@dataclass(slots=True)
class ParsedQuery:
    """A demand after analysis, with the weight of each query term (``weights``)."""

    primary: Analyzed | None
    secondary: Analyzed | None
    items: list[tuple[str, ItemForm]]
    weights: dict[str, float] = field(default_factory=dict)
    secondary_weights: dict[str, float] = field(default_factory=dict)
    item_hits: list[dict[int, float]] = field(default_factory=list)
    item_weights: list[float] = field(default_factory=list)
    by_item_id: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    grams: dict[str, float] = field(default_factory=dict)
    subjects: dict[str, float] = field(default_factory=dict)  # what the items are about
    from_items: bool = False  # a bare field list: ``primary`` is made of the item names
    known: dict[str, float] = field(default_factory=dict)  # ``weights`` of terms in use, heaviest first
    totals: tuple[float, float, float] = (0.0, 0.0, 0.0)  # of weights, secondary_weights, subjects
    asked: tuple[str, ...] = ()  # the terms of weights and secondary_weights

    def settle(self) -> None:
        """Sum the weights and gather the terms once, for the features of every candidate."""
        self.totals = (sum(self.weights.values()), sum(self.secondary_weights.values()),
                       sum(self.subjects.values()))
        self.asked = tuple(dict.fromkeys([*self.weights, *self.secondary_weights]))


@dataclass(slots=True)
class DocView:
    """What re-ranking needs to know of one entry."""

    title: Analyzed
    title_terms: frozenset[str]
    title_text: str
    summary_text: str
    item_text: str
    items: tuple[tuple[int, str, ItemForm], ...]
    title_ids: np.ndarray  # ids of the title's words (``title.words``), for feedback

    def holds(self, term: str) -> bool:
        """Whether the term is in the title's terms or anywhere in the entry's text."""
        return (term in self.title_terms or term in self.title_text
                or term in self.summary_text or term in self.item_text)


# Item-match kinds as plain strings (an enum member's ``.value`` is slow in the hot loop).
_EXACT, _SYNONYM, _FUZZY, _TITLE, _SUMMARY, _MISSING = (kind.value for kind in (
    MatchKind.EXACT, MatchKind.SYNONYM, MatchKind.FUZZY, MatchKind.TITLE, MatchKind.SUMMARY,
    MatchKind.MISSING))

# The re-ranking features, in the order of ``MatchConfig.ranker_weights``.
FEATURES = ("title_coverage", "text_coverage", "title_similarity", "description_coverage",
            "item_coverage", "lexical", "item_words_in_title", "description_in_title",
            "title_precision", "item_subjects_in_title", "rarest_in_title", "rarest_held")


def coverage(weights: dict[str, float], found: Container[str], total: float) -> float:
    """Share of the query's term weight (``total``) present in ``found``."""
    if not total:
        return 0.0
    return sum([w for term, w in weights.items() if term in found]) / total


def features(query: ParsedQuery, doc: DocView, matches: list[ItemMatch], lexical: float,
             ) -> tuple[float, ...]:
    """The evidence of one entry for one demand (see ``FEATURES``); ``lexical`` is the
    entry's bigram BM25 (divided by the demand's total bigram weight). Every feature is an
    absolute 0..~1 measure, never relative to the other candidates, so the confidence also
    says whether anything answers the demand."""
    words, extra, subjects = query.totals
    titled = doc.title_terms
    held = {term for term in query.asked if doc.holds(term)}
    in_title = coverage(query.weights, titled, words)
    fields = query.from_items
    return (0.0 if fields else in_title, coverage(query.weights, held, words),
            title_similarity(query, doc),
            coverage(query.secondary_weights, held, extra),
            item_coverage(matches, query.item_weights) or 0.0, lexical,
            in_title if fields else 0.0, coverage(query.secondary_weights, titled, extra),
            title_precision(query, doc),
            subjects_in_title(query.subjects, doc.title_text, subjects) if fields else 0.0,
            rarest(query.known, titled.__contains__), rarest(query.known, held.__contains__))


def rarest(weights: dict[str, float], found: Callable[[str], bool]) -> float:
    """Weight of the rarest demand term the entry holds (``found``), over that of the rarest
    demand term of all: the word that sets a demand apart from its neighbours (民宿 of
    民宿等级评定结果) decides more than the common phrase it shares with them (等级评定结果).
    ``weights`` are those of the terms the catalog uses at all, heaviest first: a word no
    entry has (a typo, a place) would otherwise be the rarest and dwarf the rest."""
    top = next(iter(weights.values()), 0.0)
    for term, weight in weights.items():
        if found(term):
            return weight / top
    return 0.0


def title_similarity(query: ParsedQuery, doc: DocView) -> float:
    """rapidfuzz WRatio of the reduced titles (none for a bare field list)."""
    if query.primary is None or query.from_items or not doc.title.core:
        return 0.0
    return fuzz.WRatio(query.primary.core, doc.title.core) / 100.0


def title_precision(query: ParsedQuery, doc: DocView) -> float:
    """Share of the entry title's bigrams that the demand mentions anywhere: an entry about
    more than was asked ranks below one about just that."""
    grams = doc.title.bigrams
    if not grams:
        return 0.0
    return len(query.grams.keys() & grams) / len(grams)


def subjects_in_title(subjects: dict[str, float], title: str, total: float | None = None,
                      ) -> float:
    """Weighted share of the bigrams of the items' subjects ("儿童" of 儿童姓名, 儿童性别)
    found in the entry's title: a field list is about the thing its fields describe.
    ``total`` is the subjects' total weight, when already summed."""
    return coverage(subjects, title, sum(subjects.values()) if total is None else total)


def title_score(values: tuple[float, ...], config: MatchConfig) -> float:
    """How well the entry's title (and, at a discount, the rest of its text) covers the
    demand's words: the ``title_score`` reported with each candidate."""
    in_title, anywhere, similar, extra = values[0] + values[6], values[1], values[2], values[3]
    covered = in_title + config.body_coverage_share * max(anywhere - in_title, 0.0)
    score = config.title_coverage_weight * covered + config.title_fuzzy_weight * similar
    return min(1.0, score + config.description_coverage_weight * extra)


def log_odds(rows: list[tuple[float, ...]], config: MatchConfig) -> np.ndarray:
    """The fitted combination of each candidate's features (``ranker_weights``, ``ranker_bias``)."""
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
    return matrix @ np.asarray(config.ranker_weights) + config.ranker_bias


@dataclass(frozen=True, slots=True)
class TitleWords:
    """The words of some entries' reduced titles: word ids (one numbering per index) and their
    weights (rarity among titles), entry after entry, ``sizes`` words each."""

    ids: np.ndarray
    weights: np.ndarray
    sizes: np.ndarray


def rank(rows: list[tuple[float, ...]], titles: TitleWords, config: MatchConfig,
         ) -> list[tuple[float, int]]:
    """(confidence, candidate) best first, for the candidates' features (``rows``) and the
    words of their titles.

    The confidence is the logistic of the fitted combination of the features, moved by
    feedback from the best candidates: an entry whose title is like theirs gains, one unlike
    them loses (``feedback_weight`` log-odds for the whole difference of likeness to them,
    measured from that of the most confident entry). No entry is lifted above the most
    confident one, so feedback reorders the offer but leaves the verdict to the evidence."""
    if not rows:
        return []
    evidence = log_odds(rows, config)
    final = evidence
    if config.feedback_weight and config.feedback_entries > 0:
        lead = int(np.argmax(evidence))
        like = likeness(evidence, titles, config.feedback_entries)
        final = np.minimum(evidence + config.feedback_weight * (like - like[lead]),
                           evidence[lead])
    order = np.lexsort((-evidence, -final))
    return list(zip(_logistic(final[order]).tolist(), order.tolist()))


def likeness(evidence: np.ndarray, titles: TitleWords, best: int) -> np.ndarray:
    """How like the titles of the ``best`` most confident candidates each candidate's title is
    (pseudo-relevance feedback): the Dice overlap of their weighted words, averaged over those
    candidates in proportion to their confidence. The entries a demand's best answers sit
    among (水库水情 beside 河道水情, 馆藏图书 beside 图书借阅) are found through them."""
    words, columns = np.unique(titles.ids, return_inverse=True)
    weights = np.zeros((len(titles.sizes), max(len(words), 1)))
    weights[np.repeat(np.arange(len(titles.sizes)), titles.sizes), columns] = titles.weights
    leaders = np.argsort(-evidence, kind="stable")[:best]
    trust = _logistic(evidence[leaders])
    sizes = weights.sum(axis=1)
    shared = weights @ (weights[leaders] > 0).T  # of each entry's words, those a leader has
    spans = sizes[:, None] + sizes[leaders][None, :]
    dice = np.divide(2.0 * shared, spans, out=np.zeros_like(shared), where=spans > 0)
    return dice @ trust / trust.sum()


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _pair(requested: ItemForm, entry: ItemForm, fuzzy: float, config: MatchConfig):
    """(score, kind) of a requested item against one entry item."""
    if requested.plain == entry.plain:
        return 1.0, _EXACT
    if requested.canonical == entry.canonical:
        kind = requested.rewrite or entry.rewrite or _SYNONYM
        return config.kind_score(kind), kind
    return fuzzy, _FUZZY


def _item_pairs(query: ParsedQuery, doc: DocView, config: MatchConfig) -> list[tuple]:
    if not query.by_item_id:  # no requested item is like any item of the catalog
        return []
    pairs = []
    for slot, (vid, raw, form) in enumerate(doc.items):
        for index, fuzzy in query.by_item_id.get(vid, ()):
            score, kind = _pair(query.items[index][1], form, fuzzy, config)
            pairs.append((score, index, slot, raw, kind))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def assign_items(query: ParsedQuery, doc: DocView, config: MatchConfig) -> list[ItemMatch]:
    """Each requested item to at most one entry item, greedily by score; the rest are looked
    for in the title and summary, else reported missing."""
    chosen: dict[int, ItemMatch] = {}
    used: set[int] = set()
    for score, index, slot, raw, kind in _item_pairs(query, doc, config):
        if index not in chosen and slot not in used:
            chosen[index] = ItemMatch(query.items[index][0], raw, kind, score)
            used.add(slot)
    return [chosen.get(i) or _fallback(requested, form, doc, config)
            for i, (requested, form) in enumerate(query.items)]


def _fallback(requested: str, form: ItemForm, doc: DocView, config: MatchConfig) -> ItemMatch:
    if form.canonical and form.canonical in doc.title_text:
        return ItemMatch(requested, form.canonical, _TITLE, config.title_item_score)
    if form.canonical and form.canonical in doc.summary_text:
        return ItemMatch(requested, form.canonical, _SUMMARY,
                         config.summary_item_score)
    return ItemMatch(requested, None, _MISSING, 0.0)


def item_coverage(matches: list[ItemMatch], weights: list[float]) -> float | None:
    """Weighted share of the requested items covered (rare items weigh more)."""
    if not matches:
        return None
    total = sum(weights) or 1.0
    return sum(m.score * w for m, w in zip(matches, weights)) / total
