"""Re-matching after catalog changes: the scheduled job ``rematch``.

Only the open demands (submitted, accepted, matched, unmet) that the entries changed since the
job's last successful run can affect are matched again (searched together: on every core when
the job runs in a process of its own, as ``exchange jobs run rematch`` does; inside the threaded
scheduler or web process, in that process alone):

- those already holding a suggestion or verdict on a changed entry (one SQL query), whose score,
  explanation or verdict may change (an entry withdrawn, unmounted, renamed …);
- those a changed entry may now answer: the open demands are indexed with the same engine (a
  demand as a record) and each changed entry is searched for among them, the reverse of the
  usual direction, keeping the closest demands it shares words with (at most ``REACH`` each: a
  changed entry can only enter the top five of demands close to it; at 200 a hundred changed
  entries reached more than half of 10,000 demands).

When more entries changed than there are open demands (the first run, a bulk import) every open
demand is matched again. Confirmed and rejected verdicts are kept (a rejected entry is never
offered again). One transaction, recorded as a job run with its counts. A ``progress(stage, done,
total)`` callback hears of the changed entries searched and of the demands matched, one by one.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import matching
from catalog.db import id_in
from catalog.models import CatalogEntry
from catalog.search import changed_since

from ..runs import JobRun, JobStatus, Progress, no_progress, run_recorded
from .matching import MatchEngine, match_many
from .models import Demand, DemandMatch, DemandStatus

JOB = "rematch"
REMATCHED = (DemandStatus.SUBMITTED, DemandStatus.ACCEPTED, DemandStatus.MATCHED, DemandStatus.UNMET)
OPEN = Demand.status.in_(REMATCHED)
REACH = 30  # demands kept per changed entry in the reverse search (the closest ones)
_ENGINE = MatchEngine()  # the scheduler process keeps its index between runs
SEARCHING, MATCHING = "查找受影响的需求", "重新匹配需求"  # the stages reported, with entries / demands done


def rematch(sessions, *, now: dt.datetime, engine: MatchEngine | None = None,
            progress: Progress = no_progress) -> JobRun:
    """Run the job in one transaction; return its run record (``failed`` with the error)."""
    work = partial(rematch_counts, engine=engine or _ENGINE, progress=progress)
    return run_recorded(sessions, job=JOB, work=work, now=now, progress=progress)


def rematch_counts(session: Session, *, now: dt.datetime, engine: MatchEngine,
                   progress: Progress = no_progress) -> dict:
    since = last_success(session)
    if since is not None and since > now:  # the clock was set back: entries changed since carry earlier times
        engine.forget()
        since = None
    changed = session.scalar(select(func.count()).select_from(changed_since(since).subquery())) if since else None
    open_count = session.scalar(select(func.count()).select_from(Demand).where(OPEN))
    counts = {"changed_entries": "all" if changed is None else changed, "open_demands": open_count}
    if changed == 0 or not open_count:
        return {**counts, "rematched": 0, "matched": 0, "unmet": 0, "failed": 0}
    if changed is None or changed >= open_count:
        affected = None  # every open demand
    else:
        affected = linked(session, since) | reachable(session, engine, since, now, progress=partial(progress, SEARCHING))
    total = open_count if affected is None else len(affected)
    return {**counts, **_match_all(session, engine, affected, now, progress=partial(progress, MATCHING), total=total)}


def last_success(session: Session) -> dt.datetime | None:
    """When the last successful run started (the latest run, not the latest time: the clock may
    have been set back since): entries changed at or after it are news."""
    stmt = (select(JobRun.started_at).where(JobRun.job == JOB, JobRun.status == JobStatus.OK)
            .order_by(JobRun.id.desc()).limit(1))
    return session.scalar(stmt)


def linked(session: Session, since: dt.datetime) -> set[int]:
    """Open demands holding a suggestion or a verdict on a changed entry."""
    stmt = (select(DemandMatch.demand_id).join(Demand, Demand.id == DemandMatch.demand_id)
            .where(DemandMatch.entry_id.in_(changed_since(since)), OPEN).distinct())
    return set(session.scalars(stmt))


def reachable(session: Session, engine: MatchEngine, since: dt.datetime, now: dt.datetime,
              progress=lambda done, total: None) -> set[int]:
    """Open demands that share meaningful words with a changed entry (``progress(done, total)``:
    changed entries searched)."""
    demands = session.scalars(select(Demand).where(OPEN).options(selectinload(Demand.items)))
    records = [matching.Record(key=str(d.id), title=d.title, summary=d.description or "",
                               items=tuple(i.name for i in d.items)) for d in demands]
    index = matching.CatalogIndex.build(records, synonyms=engine.refresh(session, now).synonyms,
                                        config=engine.config)
    entries = session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(changed_since(since)))
                              .options(selectinload(CatalogEntry.items))).all()
    queries = [matching.Query(title=entry.name, description=entry.summary or "",
                              items=tuple(i.name for i in entry.items)[: index.config.max_items])
               for entry in entries]
    found: set[int] = set()
    for done, result in enumerate(index.search_many(queries, top_k=REACH), 1):
        if not isinstance(result, matching.MatchingError):  # else nothing meaningful in the
            found.update(int(c.key) for c in result.candidates)  # entry: it answers no demand
        progress(done, len(entries))
    return found


def _match_all(session: Session, engine: MatchEngine, ids: set[int] | None, now: dt.datetime, *,
               progress=lambda done, total: None, total: int = 0) -> dict:
    """Match the demands (None: every open one, ``total`` of them) against the refreshed catalog,
    telling ``progress(done, total)`` after each."""
    counts = {"rematched": 0, "matched": 0, "unmet": 0, "failed": 0}
    stmt = select(Demand).where(OPEN).options(selectinload(Demand.items), selectinload(Demand.matches))
    if ids is not None:
        stmt = stmt.where(id_in(session, Demand.id, sorted(ids)))
    index = engine.refresh(session, now)
    demands = list(session.scalars(stmt))
    for done, (_, result) in enumerate(match_many(session, demands=demands, index=index, now=now), 1):
        if result is None:
            counts["failed"] += 1
        else:
            counts["rematched"] += 1
            counts["matched" if result.matched else "unmet"] += 1
        progress(done, total)
    return counts
