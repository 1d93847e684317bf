"""The daily snapshot: every figure per department, per level and overall, written set-based.

``snapshot_counts(session, *, now)`` is the job's work: it deletes the day's rows (a rerun
replaces the day), sums the facts of :mod:`.facts` per department in one ``INSERT … SELECT``
(facts charged to no department — demands not yet routed, overdue ones waiting on the bureau — go
to the *unassigned* scope), then derives the level and platform rows from those in two more,
writes the median answer time per department, level and overall from the demands' steps, and
finally each scope's running totals of the flow figures (see :data:`FLOWS`).

Flow figures (the expected and actual updates of :mod:`.facts`) are summed over a period's days.
So that a year costs what a day does, each snapshot also writes ``<flow>:total`` per scope: the
scope's total on the previous snapshot day plus the day's value (carried forward while a scope has
none).  A period's sum is then its last day's total minus the total of the last day before it.
Totals chain from one snapshot day to the next, so snapshots are taken in day order (the job takes
today's; a rerun of the latest day replaces it and its totals).
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import Float, and_, case, cast, delete, func, insert, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from catalog.models import Department

from ..runs import run_recorded
from .facts import Moment, all_facts, answer_times, update_window
from .models import DashboardFigure

JOB = "dashboard-snapshot"
UNASSIGNED = "unassigned"  # the level marker of figures charged to no department
MEDIANS = ("answer_days_median",)
FLOWS = ("updates_expected", "updates_actual")  # summed over a period's days


def total(flow: str) -> str:
    """The figure holding a flow's running total."""
    return f"{flow}:total"

F = DashboardFigure.__table__
COLUMNS = ["day", "department_id", "level", "figure", "value"]


def snapshot(sessions, *, now: dt.datetime, timezone: str = "Asia/Shanghai"):
    """Run the snapshot as a recorded job; returns its run."""
    return run_recorded(sessions, job=JOB, work=partial(snapshot_counts, timezone=timezone), now=now)


def snapshot_counts(session: Session, *, now: dt.datetime, timezone: str = "Asia/Shanghai") -> dict:
    moment = Moment(now, timezone)
    day = moment.day
    previous = session.scalar(select(func.max(F.c.day)).where(F.c.day < day))
    window = update_window(day, previous)
    replaced = _execute(session, delete(F).where(F.c.day == day))
    written = (_departments(session, moment, window) + _rollups(session, day) + _medians(session, day)
               + _totals(session, day, previous))
    return {"day": day.isoformat(), "rows": written, "replaced": replaced, "updates_since": window.first.isoformat()}


def _execute(session: Session, stmt) -> int:
    return session.connection().execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def _day(day: dt.date):
    return literal(day, F.c.day.type)


def _departments(session: Session, moment: Moment, window) -> int:
    facts = union_all(*all_facts(moment, window)).subquery()
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


def _totals(session: Session, day: dt.date, previous: dt.date | None) -> int:
    """Each scope's running total of each flow: the previous snapshot's total plus today's value."""
    written = 0
    for flow in FLOWS:
        parts = [select(F.c.department_id, F.c.level, F.c.value).where(F.c.day == day, F.c.figure == flow)]
        if previous is not None:
            parts.append(select(F.c.department_id, F.c.level, F.c.value)
                         .where(F.c.day == previous, F.c.figure == total(flow)))
        both = union_all(*parts).subquery()
        rows = (select(_day(day), both.c.department_id, both.c.level, literal(total(flow)), func.sum(both.c.value))
                .group_by(both.c.department_id, both.c.level))
        written += _execute(session, insert(F).from_select(COLUMNS, rows))
    return written


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
