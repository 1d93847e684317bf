"""What a requester's pages ask of the matcher: the catalog searched in plain words, with each hit's
entry, explanation and the parts of its title the words found; a demand submitted and matched in
one step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import matching
from catalog.models import CatalogEntry
from catalog.services import Page

from .matching import MatchEngine, as_validation_error, match_demand, preview
from .models import Demand
from .services import act

SEARCH_DEPTH = 50  # ranked candidates a search pages over
SEARCH_SORTS = ("rank", "title", "provider")


@dataclass
class Hit:
    """One ranked candidate with its catalog entry and the title split into (text, matched) runs."""

    rank: int
    candidate: dict
    entry: CatalogEntry
    title_runs: list[tuple[str, bool]]


@dataclass
class SearchResult:
    page: Page
    status: str
    unmet_reason: str | None


def search_catalog(session: Session, *, engine: MatchEngine, text: str, items: list[str], now: dt.datetime,
                   usable_only: bool = False, provider: str | None = None, sort: str = "rank",
                   page: int = 1, page_size: int = 20) -> SearchResult:
    """The matcher's ranked candidates for the words (and items) typed, filtered, sorted and paged."""
    result = preview(session, engine=engine, query=matching.Query(title=text, items=tuple(items)), now=now,
                     top_k=SEARCH_DEPTH)
    ranked = [(rank, c.to_dict()) for rank, c in enumerate(result.candidates, start=1)]
    if usable_only:
        ranked = [(r, c) for r, c in ranked if c["blocked_by"] is None]
    if provider:
        ranked = [(r, c) for r, c in ranked if provider in c["provider"]]
    key = sort.lstrip("-")
    if key in ("title", "provider"):
        ranked.sort(key=lambda rc: rc[1][key], reverse=sort.startswith("-"))
    elif sort.startswith("-"):
        ranked.reverse()
    shown = ranked[(page - 1) * page_size: page * page_size]
    entries = _entries(session, [int(c["key"]) for _, c in shown])
    words = " ".join([text, *items])
    hits = [Hit(rank, c, entries[int(c["key"])], highlight(c["title"], words))
            for rank, c in shown if int(c["key"]) in entries]
    return SearchResult(Page(items=hits, total=len(ranked), page=page, page_size=page_size),
                        result.status, result.unmet_reason)


def _entries(session: Session, ids: list[int]) -> dict[int, CatalogEntry]:
    return {e.id: e for e in session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(ids)))} if ids else {}


def highlight(title: str, words: str) -> list[tuple[str, bool]]:
    """The title as runs of (text, found): a character is found when a two-character piece of the
    typed words covers it (Chinese has no spaces, so pieces, not words, are compared)."""
    pieces = {words[i:i + 2] for i in range(len(words) - 1)} - {""}
    marked = [False] * len(title)
    for i in range(len(title) - 1):
        if title[i:i + 2] in pieces:
            marked[i] = marked[i + 1] = True
    runs: list[tuple[str, bool]] = []
    for char, found in zip(title, marked):
        if runs and runs[-1][1] == found:
            runs[-1] = (runs[-1][0] + char, found)
        else:
            runs.append((char, found))
    return runs


def submit_and_match(session: Session, *, engine: MatchEngine, now: dt.datetime, **step) -> Demand:
    """Send a draft (or returned) demand to the bureau and keep the matcher's suggestions on it;
    ``step`` is what ``act`` takes besides the action.  A demand the matcher cannot read is a
    validation error naming the field, and is not sent."""
    demand = act(session, action="submit", now=now, **step)
    try:
        match_demand(session, demand=demand, engine=engine, now=now)
    except matching.MatchingError as exc:
        raise as_validation_error(exc) from None
    return demand
