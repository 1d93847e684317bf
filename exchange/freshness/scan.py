"""The freshness scan: open, keep and resolve flags on stale and unmounted entries.

A scheduled job in the platform's shape: ``scan(session_factory, *, now)``, one transaction,
set-based SQL only (one ``UPDATE`` resolving and one ``INSERT … SELECT`` opening flags per kind,
never a Python loop over entries), idempotent, and a ``JobRun`` row with the counts and the
duration.  A failure rolls the whole scan back and is recorded as a failed run on its own.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import (
    JSON,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import refresh_statistics
from catalog.models import CatalogEntry

from .models import Flag, FlagKind, JobRun
from .rules import DEFAULT, FreshnessConfig, cutoffs, flagged_clause
from .runs import run_recorded

JOB = "freshness-scan"
REANALYZE_AFTER = 10_000  # flags opened in one scan past which the planner's statistics are refreshed
FLAGS = Flag.__table__


def scan(session_factory: sessionmaker[Session], *, now: dt.datetime,
         config: FreshnessConfig = DEFAULT) -> JobRun:
    """Run the scan in one transaction; return its run record (status ``failed`` on an error)."""
    return run_recorded(session_factory, job=JOB, work=partial(scan_counts, config=config), now=now)


def scan_counts(session: Session, *, now: dt.datetime, config: FreshnessConfig = DEFAULT) -> dict:
    """Per kind: flags opened, kept open and resolved by this scan."""
    today = config.today(now)
    counts = {}
    for kind in FlagKind:
        condition = flagged_clause(kind.value, today, config)
        resolved = _resolve(session, kind, condition, now)
        opened = _open(session, kind, condition, now, _details(kind, today, config))
        kept = _open_count(session, kind) - opened
        counts[kind.value] = {"opened": opened, "kept": kept, "resolved": resolved}
    if sum(c["opened"] for c in counts.values()) > REANALYZE_AFTER:
        refresh_statistics(session, FLAGS)  # else the next scan plans for the empty table it last saw
    return counts


def _resolve(session: Session, kind: FlagKind, condition, now: dt.datetime) -> int:
    """Close the open flags whose entry no longer deserves them (fixed, or withdrawn)."""
    still = select(CatalogEntry.id).where(CatalogEntry.id == FLAGS.c.entry_id, condition)
    stmt = (update(FLAGS).where(FLAGS.c.kind == kind.value, FLAGS.c.resolved_at.is_(None), ~exists(still))
            .values(resolved_at=now))
    return session.connection().execute(stmt).rowcount


def _open(session: Session, kind: FlagKind, condition, now: dt.datetime, details) -> int:
    """Open a flag on every entry that deserves one and has none open, charged to its provider."""
    already = select(FLAGS.c.id).where(FLAGS.c.entry_id == CatalogEntry.id, FLAGS.c.kind == kind.value,
                                       FLAGS.c.resolved_at.is_(None))
    rows = select(CatalogEntry.id, literal(kind.value), CatalogEntry.provider_id,
                  literal(now, FLAGS.c.opened_at.type), details).where(condition, ~exists(already))
    columns = ["entry_id", "kind", "department_id", "opened_at", "details"]
    stmt = insert(FLAGS).from_select(columns, rows).execution_options(preserve_rowcount=True)
    return session.connection().execute(stmt).rowcount


def _details(kind: FlagKind, today: dt.date, config: FreshnessConfig):
    """What a flag records of the rule that opened it: the cycle, its cutoff and the tolerance."""
    if kind is not FlagKind.STALE:
        return null()
    notes = {cycle.value: bindparam(None, {"update_cycle": cycle.value, "cutoff": day.isoformat(),
                                           "tolerance": config.tolerance}, type_=JSON)
             for cycle, day in cutoffs(today, config).items()}
    return case(notes, value=CatalogEntry.update_cycle)


def _open_count(session: Session, kind: FlagKind) -> int:
    stmt = select(func.count()).select_from(FLAGS).where(FLAGS.c.kind == kind.value, FLAGS.c.resolved_at.is_(None))
    return session.scalar(stmt)


JOBS = {JOB: scan}  # the scheduled jobs by name: (session_factory, *, now) -> JobRun
