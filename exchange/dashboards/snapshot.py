"""The daily snapshot: every figure per department, per level and overall, written set-based.

``snapshot_counts(session, *, now)`` is the job's work: it deletes the day's rows (a rerun
replaces the day), sums the facts of :mod:`.facts` per department in one ``INSERT … SELECT``
(facts charged to no department — demands not yet routed, overdue ones waiting on the bureau — go
to the *unassigned* scope), then derives the level and platform rows from those in two more, and
writes the median answer time per department, level and overall from the demands' steps.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import Float, and_, case, cast, delete, func, insert, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from catalog.models import Department

from ..freshness.runs import run_recorded
from .facts import Moment, all_facts, answer_times
from .models import DashboardFigure

JOB = "dashboard-snapshot"
UNASSIGNED = "unassigned"  # the level marker of figures charged to no department
MEDIANS = ("answer_days_median",)
F = DashboardFigure.__table__
COLUMNS = ["day", "department_id", "level", "figure", "value"]


def snapshot(sessions, *, now: dt.datetime, timezone: str = "Asia/Shanghai"):
    """Run the snapshot as a recorded job; returns its run."""
    return run_recorded(sessions, job=JOB, work=partial(snapshot_counts, timezone=timezone), now=now)


def snapshot_counts(session: Session, *, now: dt.datetime, timezone: str = "Asia/Shanghai") -> dict:
    moment = Moment(now, timezone)
    day = moment.day
    replaced = _execute(session, delete(F).where(F.c.day == day))
    written = _departments(session, moment) + _rollups(session, day) + _medians(session, day)
    return {"day": day.isoformat(), "rows": written, "replaced": replaced}


def _execute(session: Session, stmt) -> int:
    return session.connection().execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def _day(day: dt.date):
    return literal(day, F.c.day.type)


def _departments(session: Session, moment: Moment) -> int:
    facts = union_all(*all_facts(moment)).subquery()
    level = case((facts.c.department_id.is_(None), literal(UNASSIGNED)), else_=null())
    rows = (select(_day(moment.day), facts.c.department_id, level, facts.c.figure, cast(func.sum(facts.c.x), Float))
            .group_by(facts.c.department_id, facts.c.figure))
    return _execute(session, insert(F).from_select(COLUMNS, rows))


def _rollups(session: Session, day: dt.date) -> int:
    """Each level's rows and the platform's, summed from the day's department rows."""
    mine = and_(F.c.day == day, F.c.figure.not_in(MEDIANS))
    by_level = (select(_day(day), null(), Department.level, F.c.figure, func.sum(F.c.value))
                .join(Department, Department.id == F.c.department_id)
                .where(mine, Department.level.is_not(None)).group_by(Department.level, F.c.figure))
    overall = (select(_day(day), null(), null(), F.c.figure, func.sum(F.c.value))
               .where(mine, or_(F.c.department_id.is_not(None), F.c.level == UNASSIGNED)).group_by(F.c.figure))
    return (_execute(session, insert(F).from_select(COLUMNS, by_level))
            + _execute(session, insert(F).from_select(COLUMNS, overall)))


def _medians(session: Session, day: dt.date) -> int:
    times = answer_times().subquery()
    tagged = (select(times.c.department_id, Department.level, times.c.days)
              .outerjoin(Department, Department.id == times.c.department_id).subquery())
    scopes = ([tagged.c.department_id], [tagged.c.level], [])
    return sum(_execute(session, insert(F).from_select(COLUMNS, median_rows(tagged, keys, day))) for keys in scopes)


def median_rows(tagged, keys: list, day: dt.date):
    """The median of ``days`` per group of ``keys`` (none: over all), by row numbers — portable,
    where SQLite has no percentile function."""
    ranked = select(*keys, tagged.c.days,
                    func.row_number().over(partition_by=keys or None, order_by=tagged.c.days).label("rn"),
                    func.count().over(partition_by=keys or None).label("n")
                    ).where(*[k.is_not(None) for k in keys]).subquery()
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    picked = [ranked.c[k.name] for k in keys]
    department = ranked.c.department_id if "department_id" in ranked.c else null()
    level = ranked.c.level if "level" in ranked.c else null()
    return (select(_day(day), department, level, literal(MEDIANS[0]), cast(func.avg(ranked.c.days), Float))
            .where(middle).group_by(*picked).having(func.count() > 0))
