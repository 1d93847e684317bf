"""The ``resource-probes`` job: probe every active mount, keep each result, update the mounts.

Probing is I/O and loops over the mounts (in a bounded thread pool, see :mod:`.probes`); the
targets are read in a short session of their own, so no transaction stays open while hosts are
waited on.  Writing back is set-based, in the job's one transaction: one multi-row ``INSERT`` of
the results into the probe history, then one ``UPDATE`` of the mounts from each one's latest
result (health, time of the probe, row count and last data change where observed).  A failure
anywhere writes nothing and is recorded as a failed run; the next run probes everything again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import session_scope
from catalog.models import MountedResource

from ..runs import JobRun, Progress, no_progress, run_recorded
from .models import ProbeResult
from .probes import Outcome, Target, probe_all

JOB = "resource-probes"
PROBING = "探测挂接资源"  # the stage reported while probes run
MOUNTS = MountedResource.__table__
RESULTS = ProbeResult.__table__


def targets(session: Session) -> list[Target]:
    """Every active mount, as what its probe needs."""
    stmt = (select(MOUNTS.c.id, MOUNTS.c.kind, MOUNTS.c.url, MOUNTS.c.table_name, MOUNTS.c.change_column,
                   MOUNTS.c.file_key, MOUNTS.c.checksum)
            .where(MOUNTS.c.unmounted_at.is_(None)).order_by(MOUNTS.c.id))
    return [Target(*row) for row in session.execute(stmt)]


def record_outcomes(session: Session, outcomes: Sequence[Outcome], *, now: dt.datetime) -> dict:
    """Store the outcomes as probe results and bring each probed mount up to its latest result."""
    floor = session.scalar(select(func.coalesce(func.max(RESULTS.c.id), 0)))
    if outcomes:
        session.execute(insert(ProbeResult), [_result_row(o, now) for o in outcomes])
        _update_mounts(session, floor, now)
    failed = [o for o in outcomes if not o.ok]
    return {"probed": len(outcomes), "healthy": len(outcomes) - len(failed), "unhealthy": len(failed),
            "timed_out": sum(o.timed_out for o in outcomes)}


def _result_row(outcome: Outcome, now: dt.datetime) -> dict:
    return {"mount_id": outcome.mount_id, "probed_at": now, "ok": outcome.ok, "health": outcome.health,
            "duration_ms": outcome.duration_ms, "row_count": outcome.row_count,
            "data_changed_at": outcome.data_changed_at, "status_code": outcome.status_code,
            "error": outcome.error[:2000] if outcome.error else None}


def _update_mounts(session: Session, floor: int, now: dt.datetime) -> None:
    """One UPDATE: every mount probed in this run takes its latest result's observations."""
    newer = RESULTS.alias("newer")
    latest = select(func.max(newer.c.id)).where(newer.c.mount_id == MOUNTS.c.id).correlate(MOUNTS).scalar_subquery()

    def observed(column):
        return select(column).where(RESULTS.c.id == latest).correlate(MOUNTS).scalar_subquery()

    stmt = (update(MOUNTS).where(MOUNTS.c.id.in_(select(RESULTS.c.mount_id).where(RESULTS.c.id > floor)))
            .values(health=observed(RESULTS.c.health), checked_at=now,
                    row_count=func.coalesce(observed(RESULTS.c.row_count), MOUNTS.c.row_count),
                    data_changed_at=func.coalesce(observed(RESULTS.c.data_changed_at), MOUNTS.c.data_changed_at)))
    session.execute(stmt)


def run_probes(sessions: sessionmaker[Session], *, now: dt.datetime, storage: Path, timeout: float,
               concurrency: int, progress: Progress = no_progress) -> JobRun:
    """Probe every active mount and record the results, as one recorded run of the job
    (``progress`` hears of each probe as it ends: mounts probed of all)."""

    def work(session: Session, *, now: dt.datetime) -> dict:
        with session_scope(sessions) as reading:
            found = targets(reading)
        outcomes = probe_all(found, storage=storage, timeout=timeout, concurrency=concurrency,
                             progress=partial(progress, PROBING))
        return record_outcomes(session, outcomes, now=now)

    return run_recorded(sessions, job=JOB, work=work, now=now, progress=progress)
