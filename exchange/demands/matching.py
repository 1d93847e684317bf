"""Demand→supply matching wired to the catalog: the pure ``matching`` engine over the published
entries, kept up to date incrementally, its suggestions stored on demands with their explanations
and its verdict (matched, or unmet with the root cause and the likely owner department).
"""

from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import matching
from catalog.models import CatalogEntry, DataElement, MountedResource
from catalog.search import change_mark, changed_since
from catalog.services import VISIBLE_TO_ALL
from catalog.vocab import SharingType

from ..freshness import rules as freshness_rules
from .models import Demand, DemandStatus, MatchState
from .services import suggest

SUGGESTED = 5  # candidates kept on a demand for the bureau and the provider
SHARING = {SharingType.UNCONDITIONAL: "unconditional", SharingType.CONDITIONAL: "conditional",
           SharingType.NOT_SHARED: "not_shared"}


def is_stale(entry: CatalogEntry, today: dt.date) -> bool:
    """The freshness scan's rule, so the matcher and the flags never disagree."""
    return freshness_rules.is_stale(entry, today)


class MatchEngine:
    """One process's matching index; ``refresh`` reloads only entries changed since its last use."""

    def __init__(self, config: matching.MatchConfig | None = None):
        self.config = config
        self.index: matching.CatalogIndex | None = None
        self._seen = None
        self._lock = threading.Lock()

    def refresh(self, session: Session, now: dt.datetime) -> matching.CatalogIndex:
        mark = change_mark(session)
        with self._lock:
            if self.index is None:
                self.index = matching.CatalogIndex.build(
                    _records(session, now), elements=_elements(session), config=self.config)
            elif mark != self._seen:
                self._update(session, now, since=self._seen[0])
            self._seen = mark
        return self.index

    def _update(self, session: Session, now: dt.datetime, since) -> None:
        changed = session.scalars(changed_since(since)).all()
        fresh = _records(session, now, ids=changed)
        self.index.remove([str(i) for i in changed if str(i) not in {r.key for r in fresh}])
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


def query_of(demand: Demand) -> matching.Query:
    return matching.Query(title=demand.title, description=demand.description,
                          items=tuple(item.name for item in demand.items))


def match_demand(session: Session, *, demand: Demand, engine: MatchEngine, now: dt.datetime) -> matching.MatchResult:
    """Search the catalog for the demand; keep the best candidates as suggestions, and the verdict."""
    result = engine.refresh(session, now).search(query_of(demand), top_k=SUGGESTED)
    rejected = {m.entry_id for m in demand.matches if m.state is MatchState.REJECTED}
    offered = [(int(c.key), round(c.score, 3), c.to_dict()["explanation"])
               for c in result.candidates[:SUGGESTED] if int(c.key) not in rejected]
    suggest(session, demand=demand, entries=offered)
    demand.diagnosis = {**{k: v for k, v in result.to_dict().items() if k != "candidates"},
                        "matched_at": now.isoformat()}
    return result


def preview(session: Session, *, engine: MatchEngine, query: matching.Query, now: dt.datetime,
            top_k: int = 10) -> matching.MatchResult:
    """The same engine, for search-as-you-type while a demand is being written."""
    return engine.refresh(session, now).search(query, top_k=top_k)


OPEN = [s for s in DemandStatus if s not in (DemandStatus.DRAFT, DemandStatus.CLOSED)]
EXPORT_COLUMNS = ["demand_ref", "rank", "resource_code", "resource_name", "provider", "score", "status",
                  "unmet_reason", "explanation"]


def match_demands(session: Session, *, engine: MatchEngine, now: dt.datetime, refs: list[str] | None = None):
    """Match the named demands (or every open one); return (demand, result) pairs."""
    stmt = select(Demand).options(selectinload(Demand.items), selectinload(Demand.matches))
    stmt = stmt.where(Demand.ref.in_(refs)) if refs is not None else stmt.where(Demand.status.in_(OPEN))
    return [(d, match_demand(session, demand=d, engine=engine, now=now)) for d in session.scalars(stmt)]


def export_frame(session: Session, *, engine: MatchEngine, now: dt.datetime, top_k: int) -> pd.DataFrame:
    """One row per demand and candidate; an unmet demand still lists its best candidates."""
    rows = []
    for demand in session.scalars(select(Demand).options(selectinload(Demand.items)).order_by(Demand.ref)):
        result = preview(session, engine=engine, query=query_of(demand), now=now, top_k=top_k)
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
