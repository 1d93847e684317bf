"""The freshness scan: open, keep and resolve flags of every kind, escalate old ones, chase owners.

A scheduled job in the platform's shape: ``scan(session_factory, *, now)``, one transaction,
set-based SQL only (one ``UPDATE`` resolving and one ``INSERT … SELECT`` opening flags per kind,
one ``UPDATE`` escalating the flags open too long, never a Python loop over entries), idempotent,
and a ``JobRun`` row with the counts and the duration.  Exempt entries get no flag of the kind
they are exempt from (and lose the open one).  Departments with new flags get one summary each
(written by one ``INSERT … SELECT``) and the bureau one for the escalations, in the same
transaction.  A failure rolls the whole scan back (flags and notifications alike) and is recorded
as a failed run on its own; the next run repairs.

What keeps a first scan (hundreds of thousands of flags at once) fast: the open flags are counted
once before anything changes, so kinds with none skip their ``UPDATE`` and the kept counts need no
second count; and on PostgreSQL a first scan of a large catalog checks the flags' foreign keys
once over all rows instead of row by row (:func:`_keys_checked_once`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial

from sqlalchemy import (
    JSON,
    ForeignKeyConstraint,
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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import AddConstraint, DropConstraint

from catalog.db import refresh_statistics
from catalog.models import CatalogEntry

from ..notifications.services import Channels
from ..runs import JobRun, Progress, no_progress, run_recorded
from .chase import notify_bureau, notify_departments
from .models import Exemption, ExemptionStatus, Flag, FlagKind
from .rules import (
    DEFAULT,
    FreshnessConfig,
    counted,
    cutoffs,
    declared_update,
    flagged_clause,
    json_object,
    observed_change,
)

JOB = "freshness-scan"
REANALYZE_AFTER = 10_000  # flags opened in one scan past which the planner's statistics are refreshed
BULK_AFTER = 50_000  # PostgreSQL: entries past which a first scan checks the flags' foreign keys once
FLAGS = Flag.__table__
log = logging.getLogger(__name__)


def scan(session_factory: sessionmaker[Session], *, now: dt.datetime,
         config: FreshnessConfig = DEFAULT, channels: Channels = Channels(),
         progress: Progress = no_progress) -> JobRun:
    """Run the scan in one transaction; return its run record (status ``failed`` on an error)."""
    work = partial(scan_counts, config=config, channels=channels)
    return run_recorded(session_factory, job=JOB, work=work, now=now, progress=progress)


def scan_counts(session: Session, *, now: dt.datetime, config: FreshnessConfig = DEFAULT,
                channels: Channels = Channels()) -> dict:
    """Per kind: flags resolved, opened and kept open; then flags escalated and parties notified.

    Flags are resolved first, then the ones still open too long escalated (so neither a flag
    fixed today nor one opened today is escalated), then the new ones opened."""
    today = config.today(now)
    exempt_at = now if _exemptions_in_force(session, now) else None
    conditions = {kind: flagged_clause(kind.value, today, config, exempt_at=exempt_at) for kind in FlagKind}
    was_open = _open_counts(session)  # a kind with no open flag has none to resolve
    resolved = {kind: _resolve(session, kind, condition, now) if was_open.get(kind.value) else 0
                for kind, condition in conditions.items()}
    escalated = _escalate(session, now, config) if any(was_open.values()) else 0
    after_id = session.scalar(select(func.coalesce(func.max(FLAGS.c.id), 0)))
    with _keys_checked_once(session) if _bulk(session, was_open) else nullcontext():
        opened = {kind: _open(session, kind, condition, now, _details(kind, today, config))
                  for kind, condition in conditions.items()}
    if sum(opened.values()) > REANALYZE_AFTER:
        refresh_statistics(session, FLAGS)  # else the next scan plans for the empty table it last saw
    counts: dict = {kind.value: {"opened": opened[kind], "kept": was_open.get(kind.value, 0) - resolved[kind],
                                 "resolved": resolved[kind]} for kind in FlagKind}
    counts["escalated"] = escalated
    counts["departments_notified"] = notify_departments(session, after_id=after_id, now=now, channels=channels)
    counts["bureau_notified"] = notify_bureau(session, escalated_at=now, now=now, channels=channels) if escalated else 0
    return counts


def _bulk(session: Session, was_open: dict[str, int]) -> bool:
    """Is this a first scan of a large catalog on PostgreSQL (no flag open, more entries than
    ``BULK_AFTER``), whose flags are opened with their foreign keys checked once?"""
    if session.get_bind().dialect.name != "postgresql" or any(was_open.values()):
        return False
    beyond = select(CatalogEntry.id).where(counted()).offset(BULK_AFTER).limit(1)  # stops reading there
    return session.scalar(beyond) is not None


@contextmanager
def _keys_checked_once(session: Session) -> Iterator[None]:
    """Open flags with the foreign keys of ``flags`` checked once over all rows instead of row by row.

    PostgreSQL checks a foreign key on every inserted row with a query and a row lock on the row it
    references (on a first scan, most of the time of ~800,000 inserts).  Here the keys are dropped
    and added back in the scan's own transaction, as PostgreSQL advises for bulk loads: adding a key
    checks every row in one join, and a row that breaks it fails the scan and rolls it all back,
    so no transaction ever sees the table without its keys.  The tables are locked meanwhile.  A
    database that refuses to drop them (the job's user does not own the table) gets the usual
    row-by-row checks."""
    connection = session.connection()
    keys = sorted((c for c in FLAGS.constraints if isinstance(c, ForeignKeyConstraint)), key=lambda c: c.name)
    dropping = connection.begin_nested()
    try:
        for key in keys:
            connection.execute(DropConstraint(key))
    except DBAPIError:  # e.g. the job's user does not own the table: check row by row, as on any day
        dropping.rollback()
        log.warning("flags' foreign keys could not be dropped for a first scan; checking them row by row")
        yield
        return
    dropping.commit()
    yield
    for key in keys:
        connection.execute(AddConstraint(key))


def _exemptions_in_force(session: Session, now: dt.datetime) -> bool:
    """Any granted exemption not yet ended? (When none, the scan leaves the check out of its SQL.)"""
    stmt = select(Exemption.id).where(Exemption.status == ExemptionStatus.GRANTED, Exemption.ends_at > now)
    return session.scalar(stmt.limit(1)) is not None


def _escalate(session: Session, now: dt.datetime, config: FreshnessConfig) -> int:
    """Mark the flags open longer than the escalation period as escalated to the bureau."""
    due = now - dt.timedelta(days=config.escalation_days)
    stmt = (update(FLAGS).where(FLAGS.c.resolved_at.is_(None), FLAGS.c.escalated_at.is_(None),
                                FLAGS.c.opened_at <= due).values(escalated_at=now))
    return session.connection().execute(stmt).rowcount


def _resolve(session: Session, kind: FlagKind, condition, now: dt.datetime) -> int:
    """Close the open flags whose entry no longer deserves them (fixed, or withdrawn).  A clock set
    back behind a flag's opening resolves it at its opening, never before it."""
    still = select(CatalogEntry.id).where(CatalogEntry.id == FLAGS.c.entry_id, condition)
    at = case((FLAGS.c.opened_at > now, FLAGS.c.opened_at), else_=literal(now, FLAGS.c.resolved_at.type))
    stmt = (update(FLAGS).where(FLAGS.c.kind == kind.value, FLAGS.c.resolved_at.is_(None), ~exists(still))
            .values(resolved_at=at))
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
    """What a flag records of the rule that opened it: for a stale entry the cycle, its cutoff and
    the tolerance; for an inconsistent one the declared update and the observed data change."""
    if kind is FlagKind.INCONSISTENT:
        return json_object(literal("declared_update"), declared_update(),
                           literal("observed_change"), observed_change(),
                           literal("allowed_days"), literal(config.inconsistent_days))
    if kind is not FlagKind.STALE:
        return null()
    notes = {cycle.value: bindparam(None, {"update_cycle": cycle.value, "cutoff": day.isoformat(),
                                           "tolerance": config.tolerance}, type_=JSON)
             for cycle, day in cutoffs(today, config).items()}
    return case(notes, value=CatalogEntry.update_cycle)


def _open_counts(session: Session) -> dict[str, int]:
    """Open flags by kind (before the scan: what it may resolve, and keeps unless it does)."""
    stmt = select(FLAGS.c.kind, func.count()).where(FLAGS.c.resolved_at.is_(None)).group_by(FLAGS.c.kind)
    return {kind: count for kind, count in session.execute(stmt)}


JOBS = {JOB: scan}  # the scheduled jobs by name: (session_factory, *, now) -> JobRun
