"""Reading the dashboards: who may see what, the summary, the per-department table and trends.

Everything here reads the snapshot's summary rows (``dashboard_figures``): a period's stock
figures come from its last snapshot day, its timely-update rate from the sum of its days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.actors import Actor, Role
from catalog.errors import NotFound, PermissionDenied, ValidationError
from catalog.models import Department
from catalog.vocab import DepartmentLevel

from .figures import Figure, derive, flat
from .models import DashboardFigure as F

FLOWS = ("scheduled", "timely")  # summed over the period's days
DEFAULT_DAYS = 30
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


def summary(session: Session, *, scope: Scope, period: Period) -> dict:
    day = snapshot_day(session, scope, period)
    stock = _values(session, F.day == day, scope.clause()) if day else {}
    flows = _values(session, F.day >= period.start, F.day <= period.end, scope.clause(), F.figure.in_(FLOWS))
    return {"start": period.start, "end": period.end, "snapshot_day": day, **_scope_dict(session, scope),
            "figures": derive(stock, flows)}


def _values(session: Session, *where) -> dict[str, float]:
    stmt = select(F.figure, func.sum(F.value)).where(*where).group_by(F.figure)
    return {figure: value for figure, value in session.execute(stmt)}


def _scope_dict(session: Session, scope: Scope) -> dict:
    name = session.get(Department, scope.department_id).name if scope.department_id else None
    return {"department_id": scope.department_id, "department": name, "level": scope.level}


# -- the per-department table ---------------------------------------------------------------------

SORTABLE = [f.value for f in Figure] + ["name"]


def _departments(scope: Scope):
    departments = select(Department.id, Department.name, Department.level)
    if scope.department_id is not None:
        return departments.where(Department.id == scope.department_id)
    if scope.level is not None:
        return departments.where(Department.level == scope.level)
    return departments


def department_page(session: Session, *, scope: Scope, period: Period, sort: str | None,
                    page: int, page_size: int) -> tuple[list[dict], int]:
    """One page of the table and the number of departments.  In name order the page is cut in
    SQL and only its departments' figures are read; sorted by a figure, every row is needed."""
    if sort and sort.lstrip("-") != "name":
        rows = sort_rows(department_rows(session, scope=scope, period=period), sort)
        return rows[(page - 1) * page_size: page * page_size], len(rows)
    order = Department.name.desc() if sort == "-name" else Department.name
    departments = _departments(scope)
    total = session.scalar(select(func.count()).select_from(departments.subquery()))
    ids = list(session.scalars(departments.with_only_columns(Department.id).order_by(order, Department.id)
                               .limit(page_size).offset((page - 1) * page_size)))
    return department_rows(session, scope=scope, period=period, only=ids, order=order), total


def department_rows(session: Session, *, scope: Scope, period: Period, only: list[int] | None = None,
                    order=Department.name) -> list[dict]:
    """One row per department (of the scope's level, or the one department) with every figure."""
    day = snapshot_day(session, scope, period)
    departments = _departments(scope)
    if only is not None:
        departments = departments.where(Department.id.in_(only))
    ids = departments.with_only_columns(Department.id).scalar_subquery()
    stock = _by_department(session, F.day == day, F.department_id.in_(ids)) if day else {}
    flows = _by_department(session, F.day >= period.start, F.day <= period.end, F.figure.in_(FLOWS),
                           F.department_id.in_(ids))
    rows = []
    for department_id, name, level in session.execute(departments.order_by(order, Department.id)):
        figures = derive(stock.get(department_id, {}), flows.get(department_id, {}))
        rows.append({"department_id": department_id, "department": name,
                     "level": level.value if level else None, **flat(figures)})
    return rows


def _by_department(session: Session, *where) -> dict[int, dict[str, float]]:
    stmt = select(F.department_id, F.figure, func.sum(F.value)).where(*where).group_by(F.department_id, F.figure)
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for department_id, figure, value in session.execute(stmt):
        found[department_id][figure] = value
    return found


def sort_rows(rows: list[dict], sort: str | None) -> list[dict]:
    """Sort by a figure (``-mounted_rate`` descending); empty values last either way."""
    if not sort:
        return rows
    key = sort.lstrip("-")
    if key not in SORTABLE and not (rows and key in rows[0]):
        raise ValidationError("排序字段不正确", details={"sort": [f"可选：{'、'.join(SORTABLE)}"]})
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    return sorted(present, key=lambda r: r[key], reverse=sort.startswith("-")) + missing


# -- trends ---------------------------------------------------------------------------------------

TREND_DEFAULT = ["mounted_rate", "timely_rate", "satisfaction_rate", "flags_open", "overdue"]


def trend(session: Session, *, scope: Scope, period: Period, figures: list[str] | None = None) -> list[dict]:
    """Per snapshot day of the period, the figures asked for (each day's rate is that day's)."""
    figures = figures or TREND_DEFAULT
    if unknown := [f for f in figures if f not in flat(derive({}, {}))]:
        raise ValidationError("指标不存在", details={"figure": unknown})
    stmt = (select(F.day, F.figure, F.value).where(F.day >= period.start, F.day <= period.end, scope.clause())
            .order_by(F.day))
    days: dict[dt.date, dict[str, float]] = defaultdict(dict)
    for day, figure, value in session.execute(stmt):
        days[day][figure] = value
    rows = []
    for day, stock in sorted(days.items()):
        derived = flat(derive(stock, {name: stock.get(name, 0) for name in FLOWS}))
        rows.append({"day": day, **{f: derived[f] for f in figures}})
    return rows
