"""Demand→supply matching for Chinese government data catalogs (pure: no database, no web).

Records in, ranked and explained candidates out: see ``docs/matching.md``.
"""

from .config import DEFAULT_CONFIG, MatchConfig
from .diagnosis import BlockingEntry, blocking_entries
from .elements import ElementMatcher, suggest_elements
from .errors import MatchingError
from .index import CatalogIndex
from .models import (
    Candidate,
    DataElement,
    ElementSuggestion,
    ItemMatch,
    MatchKind,
    MatchResult,
    Query,
    Record,
    Sharing,
    UnmetReason,
)
from .synonyms import Synonyms

__all__ = [
    "DEFAULT_CONFIG", "MatchConfig", "BlockingEntry", "blocking_entries", "ElementMatcher",
    "suggest_elements", "MatchingError", "CatalogIndex", "Candidate", "DataElement",
    "ElementSuggestion", "ItemMatch", "MatchKind", "MatchResult", "Query", "Record", "Sharing",
    "UnmetReason", "Synonyms",
]
