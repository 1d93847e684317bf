"""Reading the dashboards: who may see what, the summary, the per-department table and trends.

Everything here reads the snapshot's summary rows (``dashboard_figures``): a period's stock
figures come from its last snapshot day; its flows (expected and actual updates, whence the
timely-update rate) are summed over its days as the difference of two running totals, so a year
costs what a day does.  The per-department table is sorted and cut in SQL (:mod:`.table`); only the
rows shown are derived in full.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from catalog.actors import Actor, Role
from catalog.errors import NotFound, PermissionDenied, ValidationError
from catalog.models import Department
from catalog.vocab import DepartmentLevel

from . import table
from .figures import derive, flat
from .models import DashboardFigure as F
from .snapshot import FLOWS, total

TOTALS = {total(flow): flow for flow in FLOWS}
DEFAULT_DAYS = 30
TREND_WINDOW = 30  # days: a trend's flows on a day are those of the window ending that day
MAX_DAYS = 3660


@dataclass(frozen=True)
class Scope:
    """Whose figures: one department, one level (国家/省/市/县/乡) or the whole platform."""

    department_id: int | None = None
    level: str | None = None

    def clause(self):
        if self.department_id is not None:
            return (F.department_id == self.department_id) & F.level.is_(None)
        if self.level is not None:
            return (F.level == self.level) & F.department_id.is_(None)
        return F.department_id.is_(None) & F.level.is_(None)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def scope_for(session: Session, actor: Actor, *, department_id: int | None = None,
              level: str | None = None) -> Scope:
    """The scope asked for, if the actor may see it: the bureau and admin any; a provider its own."""
    if level is not None:
        try:
            level = DepartmentLevel.parse(level).value
        except ValueError as exc:
            raise ValidationError("层级不正确", details={"level": [str(exc)]}) from None
    if not actor.oversees_all:
        if actor.role is not Role.PROVIDER:
            raise PermissionDenied("只有大数据局、管理员和提供方可以查看统计看板")
        if level is not None or department_id not in (None, actor.department_id):
            raise PermissionDenied(f"{actor.name}只能查看本部门的统计")
        department_id = actor.department_id
    if department_id is not None and session.get(Department, department_id) is None:
        raise NotFound(f"部门 {department_id} 不存在")
    return Scope(department_id=department_id, level=None if department_id is not None else level)


def require_bureau(actor: Actor, what: str) -> None:
    if not actor.oversees_all:
        raise PermissionDenied(f"只有大数据局和管理员可以{what}")


def period_for(session: Session, *, start: dt.date | None = None, end: dt.date | None = None) -> Period:
    """The period asked for; by default the 30 days up to the latest snapshot (or today's)."""
    if end is None:
        end = session.scalar(select(func.max(F.day))) or dt.date.today()
    if start is None:
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationError("统计期间不正确", details={"start": ["开始日期不能晚于结束日期"]})
    if (end - start).days >= MAX_DAYS:
        raise ValidationError("统计期间过长", details={"start": [f"最长 {MAX_DAYS} 天"]})
    return Period(start, end)


def snapshot_day(session: Session, scope: Scope, period: Period) -> dt.date | None:
    """The last day of the period with a snapshot (a scope with no rows that day counts as zero)."""
    return session.scalar(select(func.max(F.day)).where(F.day >= period.start, F.day <= period.end))


def day_before(session: Session, period: Period) -> dt.date | None:
    """The last snapshot day before the period (its running totals are subtracted)."""
    return session.scalar(select(func.max(F.day)).where(F.day < period.start))


def _flow_sum(day: dt.date, before: dt.date | None):
    """SQL: a flow's sum over the period, from its running totals on ``day`` and ``before``."""
    whens = [(F.day == day, F.value)] + ([(F.day == before, -F.value)] if before else [])
    return func.sum(case(*whens))


def _flow_where(day: dt.date, before: dt.date | None):
    return F.day.in_([day] if before is None else [day, before]), F.figure.in_(TOTALS)


def summary(session: Session, *, scope: Scope, period: Period) -> dict:
    day = snapshot_day(session, scope, period)
    stock, flows = {}, {}
    if day:
        stock = _values(session, F.day == day, scope.clause())
        before = day_before(session, period)
        stmt = select(F.figure, _flow_sum(day, before)).where(*_flow_where(day, before), scope.clause()).group_by(F.figure)
        flows = {TOTALS[figure]: value for figure, value in session.execute(stmt)}
    return {"start": period.start, "end": period.end, "snapshot_day": day, **_scope_dict(session, scope),
            "figures": derive(stock, flows)}


def _values(session: Session, *where) -> dict[str, float]:
    stmt = select(F.figure, func.sum(F.value)).where(*where, F.figure.not_in(TOTALS)).group_by(F.figure)
    return {figure: value for figure, value in session.execute(stmt)}


def _scope_dict(session: Session, scope: Scope) -> dict:
    name = session.get(Department, scope.department_id).name if scope.department_id else None
    return {"department_id": scope.department_id, "department": name, "level": scope.level}


# -- the per-department table ---------------------------------------------------------------------

SORTABLE = table.SORTABLE


def _departments(scope: Scope):
    departments = select(Department.id, Department.name, Department.level)
    if scope.department_id is not None:
        return departments.where(Department.id == scope.department_id)
    if scope.level is not None:
        return departments.where(Department.level == scope.level)
    return departments


def _sort_key(sort: str | None) -> tuple[str, bool]:
    key = (sort or "name").lstrip("-") or "name"
    if key not in SORTABLE:
        raise ValidationError("排序字段不正确", details={"sort": [f"可选：{'、'.join(SORTABLE)}"]})
    return key, bool(sort and sort.startswith("-"))


def department_page(session: Session, *, scope: Scope, period: Period, sort: str | None,
                    page: int, page_size: int) -> tuple[list[dict], int]:
    """One page of the table, sorted by a figure or the name, and the number of departments.  The
    page is sorted and cut in SQL; only its departments' figures are read and derived."""
    total_rows = session.scalar(select(func.count()).select_from(_departments(scope).subquery()))
    page_stmt = _ranking(session, scope, period, sort).limit(page_size).offset((page - 1) * page_size)
    ids = [row.id for row in session.execute(page_stmt)]
    return department_rows(session, scope=scope, period=period, only=ids), total_rows


def ranked_ids(session: Session, *, scope: Scope, period: Period, sort: str | None) -> list[int]:
    """Every department of the scope in the table's order (for exports)."""
    return [row.id for row in session.execute(_ranking(session, scope, period, sort))]


def _ranking(session: Session, scope: Scope, period: Period, sort: str | None):
    """The scope's departments in the order of ``sort`` (with no snapshot in the period, by name)."""
    key, descending = _sort_key(sort)
    day = snapshot_day(session, scope, period)
    if day is None and key != "name":
        descending = False
    stmt, value = table.ranked(_departments(scope), key, day, day_before(session, period) if day else None)
    return table.ordered(stmt, value, descending=descending)


def extremes(session: Session, *, scope: Scope, period: Period, figure: str, n: int) -> list[dict]:
    """The ``n`` departments best and the ``n`` worst by a figure (every one when there are no more
    than ``2n`` with a value), best first: ``department_id``, ``department``, ``value``."""
    day = snapshot_day(session, scope, period)
    if day is None:
        return []
    stmt, value = table.ranked(_departments(scope), figure, day, day_before(session, period))
    best = session.execute(table.ordered(stmt.where(value.is_not(None)), value, descending=True).limit(2 * n + 1)).all()
    if len(best) > 2 * n:
        best = best[:n] + session.execute(table.worst_first(stmt, value).limit(n)).all()[::-1]
    return [{"department_id": row.id, "department": row.name, "value": _rounded(figure, row.value)} for row in best]


def _rounded(figure: str, value):
    """A value as :func:`.figures.derive` gives it (rates to four places)."""
    return value if value is None or not figure.endswith("_rate") else round(value, 4)


def department_rows(session: Session, *, scope: Scope, period: Period, only: list[int] | None = None,
                    sort: str | None = None) -> list[dict]:
    """One row per department (of the scope's level, or the one department) with every figure:
    those of ``only`` in that order, else every department in the order of ``sort``."""
    if only is None:
        only = ranked_ids(session, scope=scope, period=period, sort=sort)
    day = snapshot_day(session, scope, period)
    stock, flows = {}, {}
    if day and only:
        stock = _by_department(session, func.sum(F.value), F.day == day, F.department_id.in_(only),
                               F.figure.not_in(TOTALS))
        before = day_before(session, period)
        flows = _by_department(session, _flow_sum(day, before), *_flow_where(day, before),
                               F.department_id.in_(only))
    names = {i: (name, level) for i, name, level in session.execute(_departments(scope).where(Department.id.in_(only)))}
    rows = []
    for department_id in only:
        name, level = names[department_id]
        figures = derive(stock.get(department_id, {}), {TOTALS[k]: v for k, v in flows.get(department_id, {}).items()})
        rows.append({"department_id": department_id, "department": name,
                     "level": level.value if level else None, **flat(figures)})
    return rows


def _by_department(session: Session, value, *where) -> dict[int, dict[str, float]]:
    stmt = select(F.department_id, F.figure, value).where(*where).group_by(F.department_id, F.figure)
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for department_id, name, amount in session.execute(stmt):
        found[department_id][name] = amount
    return found


# -- trends ---------------------------------------------------------------------------------------

TREND_DEFAULT = ["mounted_rate", "timely_rate", "satisfaction_rate", "flags_open", "overdue"]


def trend(session: Session, *, scope: Scope, period: Period, figures: list[str] | None = None) -> list[dict]:
    """Per snapshot day of the period, the figures asked for: each day's counts, and its flows (and
the timely-update rate) over the :data:`TREND_WINDOW` days up to it."""
    figures = figures or TREND_DEFAULT
    if unknown := [f for f in figures if f not in flat(derive({}, {}))]:
        raise ValidationError("指标不存在", details={"figure": unknown})
    floor = session.scalar(select(func.max(F.day)).where(
        F.day <= period.start - dt.timedelta(days=TREND_WINDOW), scope.clause(), F.figure.in_(TOTALS)))
    stmt = (select(F.day, F.figure, F.value)
            .where(F.day >= (floor or period.start), F.day <= period.end, scope.clause()).order_by(F.day))
    days: dict[dt.date, dict[str, float]] = defaultdict(dict)
    for day, figure, value in session.execute(stmt):
        days[day][figure] = value
    totals = sorted((day, {TOTALS[k]: v for k, v in values.items() if k in TOTALS}) for day, values in days.items())
    rows = []
    for day, stock in sorted(days.items()):
        if day < period.start:
            continue
        derived = flat(derive(stock, _trailing(totals, day)))
        rows.append({"day": day, **{f: derived[f] for f in figures}})
    return rows


def _trailing(totals: list[tuple[dt.date, dict]], day: dt.date) -> dict[str, float]:
    """The flows of the :data:`TREND_WINDOW` days up to ``day``, from the running totals."""
    days = [d for d, _ in totals]
    now = totals[bisect_right(days, day) - 1][1]
    at = bisect_right(days, day - dt.timedelta(days=TREND_WINDOW)) - 1
    then = totals[at][1] if at >= 0 else {}
    return {flow: now.get(flow, 0) - then.get(flow, 0) for flow in FLOWS}
