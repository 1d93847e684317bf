"""Demand→supply matching wired to the catalog: the pure ``matching`` engine over the published
entries, kept up to date incrementally, its suggestions stored on demands with their explanations
and its verdict (matched, or unmet with the root cause and the likely owner department).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import matching
from catalog.errors import ValidationError
from catalog.models import CatalogEntry, DataElement, MountedResource
from catalog.search import change_mark, changed_since
from catalog.services import VISIBLE_TO_ALL
from catalog.vocab import SharingType

from ..freshness import rules as freshness_rules
from ..synonyms.services import engine_synonyms, vocabulary_mark
from .models import Demand, DemandStatus, MatchState
from .services import suggest

SUGGESTED = 5  # candidates kept on a demand for the bureau and the provider
SHARING = {SharingType.UNCONDITIONAL: "unconditional", SharingType.CONDITIONAL: "conditional",
           SharingType.NOT_SHARED: "not_shared"}


def is_stale(entry: CatalogEntry, today: dt.date) -> bool:
    """The freshness scan's rule, so the matcher and the flags never disagree."""
    return freshness_rules.is_stale(entry, today)


class MatchEngine:
    """One process's matching index; ``refresh`` reloads only entries changed since its last use,
    and rebuilds from the records it holds (no reload from the database) when the vocabulary —
    the bureau's synonyms or the data elements — changed. With ``background`` (the web app) that
    rebuild runs in a thread while the current index keeps answering, and is swapped in when
    done; without it (jobs, commands, tests) the refresh waits for it."""

    def __init__(self, config: matching.MatchConfig | None = None, *, background: bool = False):
        self.config = config
        self.background = background
        self.index: matching.CatalogIndex | None = None
        self.elements_index: matching.CatalogIndex | None = None  # elements only, for suggestions
        self._records: dict[str, matching.Record] = {}
        self._seen = None
        self._vocabulary = None
        self._elements_seen = None
        self._rebuilding: threading.Thread | None = None
        self._lock = threading.Lock()

    def refresh(self, session: Session, now: dt.datetime) -> matching.CatalogIndex:
        mark, vocabulary = change_mark(session), vocabulary_mark(session)
        with self._lock:
            if self.index is None:
                self._records = {r.key: r for r in _records(session, now)}
                self._build(session, vocabulary)
            else:
                if mark != self._seen:
                    apply = self.background or vocabulary == self._vocabulary
                    self._update(session, now, since=self._seen, apply=apply)
                if vocabulary != self._vocabulary:
                    (self._build_later if self.background else self._build)(session, vocabulary)
            self._seen = mark
        return self.index

    def forget(self) -> None:
        """Drop the index: the next refresh reads the whole catalog again (after the clock was set
        back, when change times can no longer tell what changed)."""
        with self._lock:
            self.index, self._records, self._seen = None, {}, None

    def wait(self, timeout: float | None = None) -> None:
        """Until a background rebuild in progress has been swapped in."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)

    def suggester(self, session: Session) -> matching.CatalogIndex:
        """A small index of the data elements alone (no catalog), for binding suggestions."""
        vocabulary = vocabulary_mark(session)
        with self._lock:
            if self.elements_index is None or vocabulary != self._elements_seen:
                self.elements_index = matching.CatalogIndex.build(
                    [], synonyms=engine_synonyms(session), elements=_elements(session), config=self.config)
                self._elements_seen = vocabulary
        return self.elements_index

    def _build(self, session: Session, vocabulary) -> None:
        self.index = matching.CatalogIndex.build(self._records.values(), synonyms=engine_synonyms(session),
                                                 elements=_elements(session), config=self.config)
        self._vocabulary = vocabulary

    def _build_later(self, session: Session, vocabulary) -> None:
        """Start one rebuild from a snapshot; a later refresh starts the next if the vocabulary
        moved again meanwhile, and re-applies catalog changes made since the snapshot."""
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return
        records, synonyms, elements = list(self._records.values()), engine_synonyms(session), _elements(session)
        mark = change_mark(session)

        def rebuild() -> None:
            index = matching.CatalogIndex.build(records, synonyms=synonyms, elements=elements, config=self.config)
            with self._lock:
                self.index, self._vocabulary, self._seen = index, vocabulary, mark

        self._rebuilding = threading.Thread(target=rebuild, name="matcher-rebuild", daemon=True)
        self._rebuilding.start()

    def _update(self, session: Session, now: dt.datetime, since: tuple, apply: bool = True) -> None:
        changed = session.scalars(changed_since(*since)).all()
        fresh = _records(session, now, ids=changed)
        gone = [str(i) for i in changed if str(i) not in {r.key for r in fresh}]
        for key in gone:
            self._records.pop(key, None)
        self._records.update((r.key, r) for r in fresh)
        if apply:
            self.index.remove(gone)
            self.index.upsert(fresh)


def _records(session: Session, now: dt.datetime, ids=None) -> list[matching.Record]:
    stmt = (select(CatalogEntry).where(CatalogEntry.status.in_(VISIBLE_TO_ALL))
            .options(selectinload(CatalogEntry.items)))
    if ids is not None:
        stmt = stmt.where(CatalogEntry.id.in_(ids))
    active = select(MountedResource.entry_id).where(MountedResource.unmounted_at.is_(None))
    if ids is not None:
        active = active.where(MountedResource.entry_id.in_(ids))
    mounted = set(session.scalars(active))
    today = freshness_rules.DEFAULT.today(now)
    return [matching.Record(key=str(e.id), title=e.name, summary=e.summary, items=tuple(i.name for i in e.items),
                            provider=e.provider.name, mounted=e.id in mounted, stale=is_stale(e, today),
                            sharing=SHARING[e.sharing_type])
            for e in session.scalars(stmt)]


def _elements(session: Session) -> list[matching.DataElement]:
    return [matching.DataElement(identifier=e.identifier, name=e.name, definition=e.definition or "",
                                 synonyms=tuple(e.synonyms or ()))
            for e in session.scalars(select(DataElement))]


def query_of(demand: Demand, config: matching.MatchConfig | None = None) -> matching.Query:
    """The demand as the matcher reads it, cut to the matcher's limits (a very long description
    is matched on its beginning, an over-long item name on its first characters)."""
    config = config or matching.DEFAULT_CONFIG
    return matching.Query(title=demand.title[: config.max_text_chars],
                          description=(demand.description or "")[: config.max_text_chars],
                          items=tuple(item.name[: config.max_item_chars] for item in demand.items[: config.max_items]))


MESSAGES = {"empty_query": "没有可识别的文字：名称、描述和信息项只有空白或标点",
            "query_too_long": "文字过长", "too_many_items": "信息项过多"}


def as_validation_error(exc: matching.MatchingError) -> ValidationError:
    """A matcher's refusal of bad input as the platform's 422, naming the field and the limit."""
    details = dict(exc.details)
    field = str(details.pop("field", "items" if exc.code == "too_many_items" else "query"))
    extra = "；".join(f"{k}={v}" for k, v in details.items())
    message = MESSAGES.get(exc.code, exc.message)
    return ValidationError(message, code=exc.code, details={field: [message + (f"（{extra}）" if extra else "")]})


def match_demand(session: Session, *, demand: Demand, engine: MatchEngine, now: dt.datetime) -> matching.MatchResult:
    """Search the catalog for the demand; keep the best candidates as suggestions, and the verdict.
    A demand the matcher cannot read (only punctuation) raises the matcher's error, noted on it."""
    index = engine.refresh(session, now)
    [found] = index.search_many([query_of(demand, index.config)], top_k=SUGGESTED)
    result = keep_match(session, demand=demand, found=found, now=now)
    if result is None:
        raise found
    return result


def match_many(session: Session, *, demands: list[Demand], index: matching.CatalogIndex,
               now: dt.datetime) -> Iterator[tuple[Demand, matching.MatchResult | None]]:
    """Each demand and its result (None for one the matcher cannot read, the reason on its
    diagnosis), in order: searched together (on every core when they are many), kept one by one."""
    found = index.search_many([query_of(d, index.config) for d in demands], top_k=SUGGESTED)
    for demand, one in zip(demands, found, strict=True):
        yield demand, keep_match(session, demand=demand, found=one, now=now)


def keep_match(session: Session, *, demand: Demand, found: matching.MatchResult | matching.MatchingError,
               now: dt.datetime) -> matching.MatchResult | None:
    """Keep a search's outcome on the demand: the best candidates as suggestions, and the verdict;
    or the matcher's refusal, noted on the demand's diagnosis (None)."""
    if isinstance(found, matching.MatchingError):
        demand.diagnosis = {"status": "error", "error": found.to_dict(), "matched_at": now.isoformat()}
        return None
    result = found
    rejected = {m.entry_id for m in demand.matches if m.state is MatchState.REJECTED}
    offered = [(int(c.key), round(c.score, 3), c.to_dict()["explanation"])
               for c in result.candidates[:SUGGESTED] if int(c.key) not in rejected]
    _forget_withdrawn(demand, {entry_id for entry_id, _, _ in offered})
    suggest(session, demand=demand, entries=offered, from_index=True)
    demand.diagnosis = {**{k: v for k, v in result.to_dict().items() if k != "candidates"},
                        "matched_at": now.isoformat()}
    return result


def _forget_withdrawn(demand: Demand, offered: set[int]) -> None:
    """Suggestions of entries no longer in the catalog (withdrawn) go; verdicts stay as history.
    (Entries just offered come from the index, which holds only visible ones.)"""
    for match in list(demand.matches):
        if (match.state is MatchState.SUGGESTED and match.entry_id not in offered
                and match.entry.status not in VISIBLE_TO_ALL):
            demand.matches.remove(match)


def preview(session: Session, *, engine: MatchEngine, query: matching.Query, now: dt.datetime,
            top_k: int = 10) -> matching.MatchResult:
    """The same engine, for search-as-you-type while a demand is being written."""
    return engine.refresh(session, now).search(query, top_k=top_k)


OPEN = [s for s in DemandStatus if s not in (DemandStatus.DRAFT, DemandStatus.CLOSED)]
EXPORT_COLUMNS = ["demand_ref", "rank", "resource_code", "resource_name", "provider", "score", "status",
                  "unmet_reason", "explanation"]


def match_demands(session: Session, *, engine: MatchEngine, now: dt.datetime, refs: list[str] | None = None):
    """Match the named demands (or every open one); return (demand, result or None) pairs."""
    stmt = select(Demand).options(selectinload(Demand.items), selectinload(Demand.matches))
    stmt = stmt.where(Demand.ref.in_(refs)) if refs is not None else stmt.where(Demand.status.in_(OPEN))
    index = engine.refresh(session, now)
    return list(match_many(session, demands=list(session.scalars(stmt)), index=index, now=now))


def export_frame(session: Session, *, engine: MatchEngine, now: dt.datetime, top_k: int) -> pd.DataFrame:
    """One row per demand and candidate; an unmet demand still lists its best candidates."""
    rows = []
    demands = list(session.scalars(select(Demand).options(selectinload(Demand.items)).order_by(Demand.ref)))
    index = engine.refresh(session, now)
    found = index.search_many([query_of(d, index.config) for d in demands], top_k=top_k)
    for demand, result in zip(demands, found, strict=True):
        if isinstance(result, matching.MatchingError):
            rows.append(dict(demand_ref=demand.ref, status="error",
                             explanation=MESSAGES.get(result.code, result.message)))
            continue
        rows += _export_rows(session, demand, result, top_k)
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def _export_rows(session: Session, demand: Demand, result: matching.MatchResult, top_k: int) -> list[dict]:
    shown = result.candidates[:top_k]
    entries = {e.id: e for e in session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_([int(c.key) for c in shown])))}
    rows = [dict(demand_ref=demand.ref, rank=rank, resource_code=entries[int(c.key)].resource_code,
                 resource_name=entries[int(c.key)].name, provider=c.provider, score=round(c.score, 3),
                 status=result.status, unmet_reason=result.unmet_reason, explanation=_explained(c))
            for rank, c in enumerate(shown, start=1)]
    return rows or [dict(demand_ref=demand.ref, status=result.status, unmet_reason=result.unmet_reason)]


def _explained(candidate: matching.Candidate) -> str:
    return "；".join(f"{m.requested}→{m.matched or '无'}（{m.kind} {m.score:.2f}）" for m in candidate.explanation)
