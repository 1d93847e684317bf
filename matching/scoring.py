"""Re-ranking of candidate entries: title similarity, item assignment, calibrated confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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


@dataclass(slots=True)
class DocView:
    """What re-ranking needs to know of one entry."""

    title: Analyzed
    title_terms: frozenset[str]
    body_terms: frozenset[str]
    title_text: str
    summary_text: str
    items: tuple[tuple[int, str, ItemForm], ...]


def coverage(weights: dict[str, float], found: frozenset[str]) -> float:
    """Share of the query's term weight present in ``found``."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for term, w in weights.items() if term in found) / total


def title_score(query: ParsedQuery, doc: DocView, config: MatchConfig) -> float:
    """How well the entry's title (and, at a discount, its summary and items) covers the demand."""
    if query.primary is None:
        return 0.0
    in_title = coverage(query.weights, doc.title_terms)
    anywhere = coverage(query.weights, doc.title_terms | doc.body_terms)
    covered = in_title + config.body_coverage_share * (anywhere - in_title)
    similar = fuzz.WRatio(query.primary.core, doc.title.core) / 100.0 if doc.title.core else 0.0
    score = config.title_coverage_weight * covered + config.title_fuzzy_weight * similar
    extra = coverage(query.secondary_weights, doc.title_terms | doc.body_terms)
    return min(1.0, score + config.description_coverage_weight * extra)


def _pair(requested: ItemForm, entry: ItemForm, fuzzy: float, config: MatchConfig):
    """(score, kind) of a requested item against one entry item."""
    if requested.plain == entry.plain:
        return 1.0, MatchKind.EXACT.value
    if requested.canonical == entry.canonical:
        kind = requested.rewrite or entry.rewrite or MatchKind.SYNONYM.value
        weight = config.abbreviation_score if kind == "abbreviation" else config.synonym_score
        return weight, kind
    return fuzzy, MatchKind.FUZZY.value


def _item_pairs(query: ParsedQuery, doc: DocView, config: MatchConfig) -> list[tuple]:
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
        return ItemMatch(requested, form.canonical, MatchKind.TITLE.value, config.title_item_score)
    if form.canonical and form.canonical in doc.summary_text:
        return ItemMatch(requested, form.canonical, MatchKind.SUMMARY.value,
                         config.summary_item_score)
    return ItemMatch(requested, None, MatchKind.MISSING.value, 0.0)


def item_coverage(matches: list[ItemMatch], weights: list[float]) -> float | None:
    """Weighted share of the requested items covered (rare items weigh more)."""
    if not matches:
        return None
    total = sum(weights) or 1.0
    return sum(m.score * w for m, w in zip(matches, weights)) / total


def combine(title: float, items: float | None, has_text: bool, config: MatchConfig) -> float:
    """Raw 0..1 evidence from the title part and the item part, whichever the demand has."""
    if items is None:
        return title
    if not has_text:
        return items
    weight = config.item_weight_with_title
    return (1.0 - weight) * title + weight * items


def calibrate(raw: float, config: MatchConfig) -> float:
    """Logistic map of raw evidence to a confidence in 0..1 (0.5 at the midpoint)."""
    return 1.0 / (1.0 + math.exp(-config.calibration_slope * (raw - config.calibration_midpoint)))
