"""Synonyms and abbreviations as a value object built from plain data.

A group is a canonical term and its variants, each variant with a kind: ``synonym`` (身份证号 =
公民身份号码), ``abbreviation`` (社保 = 社会保险) or ``related`` (营业执照 ≈ 市场主体登记: close
enough to offer, scored lower and explained as such). Groups that share a term are merged. The
bureau's table reaches the matcher as plain pairs or groups; the package ships a default table
(``synonyms.csv``) of common government-data synonyms.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from importlib import resources

from matching.errors import InvalidSynonyms

KINDS = ("synonym", "abbreviation", "related")
_DEFAULT_FILE = "synonyms.csv"


class Synonyms:
    """Immutable map from each term to its group's canonical term and the variant's kind."""

    __slots__ = ("_terms",)

    def __init__(self, groups: Iterable[tuple[str, Sequence[str], str]] = ()) -> None:
        """``groups``: ``(kind, terms)`` pairs in reading order, first term canonical."""
        terms: dict[str, tuple[str, str]] = {}
        for kind, members in groups:
            _merge_group(terms, _clean_group(members), _check_kind(kind))
        self._terms = terms

    @classmethod
    def from_groups(cls, groups: Iterable[Sequence[str]], kind: str = "synonym") -> "Synonyms":
        """Each group lists equivalent terms, the first one canonical."""
        return cls((kind, group) for group in groups)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], kind: str = "synonym") -> "Synonyms":
        """Each pair is ``(canonical, variant)``; pairs sharing a term join one group."""
        return cls((kind, pair) for pair in pairs)

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> "Synonyms":
        """Rows with ``kind`` and ``terms`` (``|``-separated), as in ``synonyms.csv``."""
        return cls((row.get("kind") or "synonym", row["terms"].split("|")) for row in rows)

    @classmethod
    def default(cls) -> "Synonyms":
        """The built-in table of common government-data synonyms and abbreviations."""
        text = resources.files("matching").joinpath(_DEFAULT_FILE).read_text(encoding="utf-8")
        return cls.from_rows(csv.DictReader(io.StringIO(text)))

    @classmethod
    def empty(cls) -> "Synonyms":
        return cls()

    def merged(self, other: "Synonyms") -> "Synonyms":
        """Both tables in one; groups of ``self`` keep their canonical terms."""
        return Synonyms([*self.groups(), *other.groups()])

    def groups(self) -> list[tuple[str, list[str]]]:
        """``(kind, [canonical, variant, ...])`` for each group and kind, plain data."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for term, (canonical, kind) in self._terms.items():
            if term != canonical:
                grouped.setdefault((canonical, kind), [canonical]).append(term)
        return [(kind, members) for (_, kind), members in grouped.items()]

    def lookup(self, term: str) -> tuple[str, str | None]:
        """``(canonical, kind)``; a term outside every group is its own canonical, kind None."""
        canonical, kind = self._terms.get(term, (term, ""))
        return canonical, (kind if term != canonical else None)

    def terms(self) -> list[str]:
        return list(self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Synonyms) and self._terms == other._terms

    def __hash__(self) -> int:
        return hash(frozenset(self._terms.items()))


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidSynonyms("未知的同义词类型 (unknown synonym kind)", kind=kind,
                              allowed=list(KINDS))
    return kind


def _clean_group(members: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(str(m).strip() for m in members if str(m).strip()))
    if len(cleaned) < 2:
        raise InvalidSynonyms("同义词组至少需要两个不同的词 (a synonym group needs two different terms)",
                              terms=list(members))
    return cleaned


def _merge_group(terms: dict[str, tuple[str, str]], members: list[str], kind: str) -> None:
    """Join ``members`` to an existing group that shares a term, or start a new one."""
    known = [terms[m][0] for m in members if m in terms]
    canonical = known[0] if known else members[0]
    for old in set(known) - {canonical}:
        for term, (owner, old_kind) in list(terms.items()):
            if owner == old:
                terms[term] = (canonical, old_kind)
    terms.setdefault(canonical, (canonical, kind))
    for member in members:
        if member not in terms or terms[member][0] != canonical:
            terms[member] = (canonical, kind)
