"""Suggestions of standard data elements (数据元) to bind an info item to."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from matching.analysis import Analyzer, ItemForm
from matching.config import DEFAULT_CONFIG, MatchConfig
from matching.errors import EmptyQuery
from matching.models import DataElement, ElementSuggestion, MatchKind
from matching.synonyms import Synonyms
from matching.vocabulary import item_similarity


def element_synonyms(elements: Iterable[DataElement]) -> Synonyms:
    """Each element's name and its synonyms (同义名称) as one synonym group."""
    return Synonyms.from_groups([e.name, *e.synonyms] for e in elements if e.synonyms)


def read_elements_csv(path: str | Path) -> list[DataElement]:
    """Data elements from a CSV with ``name`` and optional ``identifier`` (else ``source``),
    ``definition``, ``synonyms`` (``|``-separated) and ``datatype`` columns."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [_element_from_row(row, number) for number, row in enumerate(csv.DictReader(handle))]


def _element_from_row(row: dict, number: int) -> DataElement:
    identifier = row.get("identifier") or row.get("source") or f"element-{number}"
    return DataElement(identifier, row["name"], row.get("definition") or "",
                       row.get("synonyms") or (), row.get("datatype") or "")


class ElementMatcher:
    """Scores an item name against every element's name and synonyms."""

    def __init__(self, elements: Iterable[DataElement], analyzer: Analyzer,
                 config: MatchConfig) -> None:
        self._analyzer = analyzer
        self._config = config
        self._elements = [(e, [analyzer.item(n) for n in (e.name, *e.synonyms)])
                          for e in elements]
        self._definitions: dict[str, frozenset[str]] = {}

    def _definition_words(self, element: DataElement) -> frozenset[str]:
        words = self._definitions.get(element.identifier)
        if words is None:
            words = frozenset(self._analyzer.text(element.definition).words)
            self._definitions[element.identifier] = words
        return words

    def suggest(self, item: str, title: str = "", top_k: int = 5) -> list[ElementSuggestion]:
        form = self._analyzer.item(item)
        if not form.canonical:
            raise EmptyQuery("信息项名称没有可匹配的内容 (the item name carries no meaning)", item=item)
        context = set(self._analyzer.text(title).words) if title else set()
        best: dict[str, ElementSuggestion] = {}
        for element, names in self._elements:
            suggestion = self._score(form, element, names, context)
            kept = best.get(element.name)
            if suggestion.score >= self._config.element_min_score and (
                    kept is None or suggestion.score > kept.score):
                best[element.name] = suggestion
        return sorted(best.values(), key=lambda s: (-s.score, s.identifier))[:top_k]

    def _score(self, form: ItemForm, element: DataElement, names: list[ItemForm],
               context: set[str]) -> ElementSuggestion:
        score, kind = max(self._name_score(form, name) for name in names)
        if context and element.definition:
            words = self._definition_words(element)
            score += self._config.element_title_weight * len(words & context) / max(len(words), 1)
        return ElementSuggestion(element.identifier, element.name, min(score, 1.0), kind)

    def _name_score(self, form: ItemForm, name: ItemForm) -> tuple[float, str]:
        if form.plain == name.plain:
            return 1.0, MatchKind.EXACT.value
        if form.canonical == name.canonical:
            kind = form.rewrite or name.rewrite or MatchKind.SYNONYM.value
            return self._config.kind_score(kind), kind
        return item_similarity(form.canonical, name.canonical, self._config), MatchKind.FUZZY.value


def suggest_elements(item: str, elements: Iterable[DataElement], *, title: str = "",
                     synonyms: Synonyms | None = None, config: MatchConfig | None = None,
                     top_k: int = 5) -> list[ElementSuggestion]:
    """One-off suggestions without a catalog index (builds a small matcher each call)."""
    elements = list(elements)
    config = config or DEFAULT_CONFIG
    base = Synonyms.default() if synonyms is None else synonyms
    analyzer = Analyzer(config, base.merged(element_synonyms(elements)))
    return ElementMatcher(elements, analyzer, config).suggest(item, title, top_k)
