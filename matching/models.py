"""Plain value objects: what goes into the matcher and what comes out.

Everything that comes out has ``to_dict()`` returning JSON-ready plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from matching.errors import InvalidRecord


class Sharing(str, Enum):
    """Sharing type of a catalog entry (共享类型)."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享


class MatchKind(str, Enum):
    """How a requested item was found in a catalog entry."""

    EXACT = "exact"
    SYNONYM = "synonym"
    ABBREVIATION = "abbreviation"
    RELATED = "related"  # a near term (≈) from the synonym table, not the same data by name
    FUZZY = "fuzzy"
    TITLE = "title"  # named in the entry's title rather than among its items
    SUMMARY = "summary"  # named in the entry's summary only
    MISSING = "missing"  # nothing in the entry covers it


class UnmetReason(str, Enum):
    """Why a demand is not met (root cause)."""

    NO_ENTRY = "no_entry"  # nothing in the catalog holds the data
    NOT_MOUNTED = "not_mounted"  # an entry exists but no resource is mounted on it
    STALE = "stale"  # the mounted resource is out of date
    NOT_SHARED = "not_shared"  # the entry is 不予共享
    REFUSED = "refused"  # an application for the entry was refused


def _as_tuple(values) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return tuple(part for part in values.split("|") if part.strip())
    return tuple(str(value) for value in values if str(value).strip())


@dataclass(frozen=True, slots=True)
class Record:
    """One catalog entry as the matcher sees it, with the status the caller knows of.

    ``items`` may be a sequence of names or one string separated by ``|``.
    """

    key: str
    title: str
    summary: str = ""
    items: tuple[str, ...] = ()
    provider: str = ""
    mounted: bool = True
    stale: bool = False
    sharing: str = Sharing.UNCONDITIONAL.value
    refused: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _as_tuple(self.items))
        if not isinstance(self.key, str) or not self.key.strip():
            raise InvalidRecord("目录记录缺少键 (a record needs a non-empty string key)",
                                key=repr(self.key))
        if self.sharing not in {s.value for s in Sharing}:
            raise InvalidRecord("未知的共享类型 (unknown sharing type)", key=self.key,
                                sharing=self.sharing)
        if not isinstance(self.title, str):
            raise InvalidRecord("目录记录的名称必须是文本 (a record title must be text)", key=self.key)

    def blocked_by(self) -> str | None:
        """The first status that keeps this entry from meeting a demand, or None."""
        if self.sharing == Sharing.NOT_SHARED.value:
            return UnmetReason.NOT_SHARED.value
        if not self.mounted:
            return UnmetReason.NOT_MOUNTED.value
        if self.stale:
            return UnmetReason.STALE.value
        if self.refused:
            return UnmetReason.REFUSED.value
        return None


@dataclass(frozen=True, slots=True)
class Query:
    """A demand in the requester's own words. ``items`` may be a sequence or ``|``-separated."""

    title: str = ""
    description: str = ""
    items: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _as_tuple(self.items))


@dataclass(frozen=True, slots=True)
class ItemMatch:
    """One requested item and what it was matched to in an entry."""

    requested: str
    matched: str | None
    kind: str
    score: float

    def to_dict(self) -> dict:
        return {"requested": self.requested, "matched": self.matched,
                "kind": self.kind, "score": round(self.score, 3)}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A catalog entry offered for a demand, with its confidence and explanation."""

    key: str
    score: float
    title: str
    provider: str
    title_score: float
    item_coverage: float | None
    explanation: tuple[ItemMatch, ...] = ()
    blocked_by: str | None = None

    @property
    def usable(self) -> bool:
        return self.blocked_by is None

    def to_dict(self) -> dict:
        return {
            "key": self.key, "score": round(self.score, 3), "title": self.title,
            "provider": self.provider, "title_score": round(self.title_score, 3),
            "item_coverage": None if self.item_coverage is None else round(self.item_coverage, 3),
            "blocked_by": self.blocked_by,
            "explanation": [match.to_dict() for match in self.explanation],
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked candidates and the verdict: ``matched`` or ``unmet`` with its root cause."""

    candidates: tuple[Candidate, ...]
    status: str
    unmet_reason: str | None = None
    likely_provider: str | None = None
    blocking_keys: tuple[str, ...] = field(default=())

    @property
    def matched(self) -> bool:
        return self.status == "matched"

    def to_dict(self) -> dict:
        return {
            "status": self.status, "unmet_reason": self.unmet_reason,
            "likely_provider": self.likely_provider, "blocking_keys": list(self.blocking_keys),
            "candidates": [candidate.to_dict() for candidate in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class DataElement:
    """A standard data element (数据元): name, synonyms (同义名称), definition."""

    identifier: str
    name: str
    definition: str = ""
    synonyms: tuple[str, ...] = ()
    datatype: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "synonyms", _as_tuple(self.synonyms))


@dataclass(frozen=True, slots=True)
class ElementSuggestion:
    """A data element offered for binding an info item, with how it was found."""

    identifier: str
    name: str
    score: float
    kind: str

    def to_dict(self) -> dict:
        return {"identifier": self.identifier, "name": self.name,
                "score": round(self.score, 3), "kind": self.kind}
