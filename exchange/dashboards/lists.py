"""The lists behind the numbers (drill-down) and the entries that block the most demands.

Read live, page by page, with the same conditions the snapshot counts (:mod:`.facts`), so the
entries listed as unmounted for a department are the ones its unmounted count counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from catalog.errors import ValidationError
from catalog.models import CatalogEntry, Department
from catalog.services import MAX_PAGE_SIZE, Page
from catalog.services.common import ordering

from ..demands.models import Demand, DemandMatch, DemandStatus, MatchState
from ..demands.services import is_overdue
from ..freshness.models import Flag
from ..freshness.rules import FreshnessConfig, flagged_clause
from . import facts
from .facts import AGE_BANDS, Moment
from .services import Scope

S = DemandStatus


@dataclass(frozen=True)
class Listing:
    """One drill-down: what it lists and the condition that picks the rows."""

    label: str
    kind: str  # "entries", "flags" or "demands"
    condition: Callable[[Moment], object]


ENTRY_LISTS = {
    "entries": Listing("目录", "entries", facts.CATALOG_FIGURES["entries"]),
    "mounted": Listing("已挂接目录", "entries", facts.CATALOG_FIGURES["mounted"]),
    "unmounted": Listing("未挂接目录", "entries", lambda m: and_(facts.counted(), facts.unmounted())),
    "scheduled": Listing("按周期考核的目录", "entries", facts.CATALOG_FIGURES["scheduled"]),
    "timely": Listing("按期更新的目录", "entries", facts.CATALOG_FIGURES["timely"]),
    "untimely": Listing("未按期更新的目录", "entries",
                        lambda m: and_(facts.counted(), facts.scheduled(), ~facts.timely(m))),
    "unscheduled": Listing("不定期或不更新的目录", "entries", facts.CATALOG_FIGURES["unscheduled"]),
}
DEMAND_LISTS = {
    name: Listing(label, "demands", facts.DEMAND_FIGURES[name]) for name, label in (
        ("demands", "需求"), ("demands_suggested", "有建议匹配的需求"),
        ("demands_confirmed_mounted", "数源确认且已挂接的需求"), ("demands_decided", "已办结需求"),
        ("demands_satisfied", "已满足需求"))
} | {
    "overdue": Listing("逾期需求", "demands", lambda m: is_overdue(m.now)),
    "unmet": Listing("未满足需求", "demands", lambda m: facts.unmet()),
}
FLAG_LISTS = {"flags": Listing("未解决的目录问题", "flags", lambda m: Flag.resolved_at.is_(None))}
LISTS = ENTRY_LISTS | DEMAND_LISTS | FLAG_LISTS


# What each kind of list sorts on (``-name`` descending); the default order is the id's.
SORTS = {
    "entries": {"resource_code": CatalogEntry.resource_code, "name": CatalogEntry.name, "provider": Department.name,
                "update_cycle": CatalogEntry.update_cycle, "last_updated": CatalogEntry.last_updated,
                "status": CatalogEntry.status},
    "demands": {"ref": Demand.ref, "title": Demand.title, "status": Demand.status, "deadline": Demand.deadline,
                "unmet_reason": Demand.unmet_reason},
    "flags": {"kind": Flag.kind, "resource_code": CatalogEntry.resource_code, "name": CatalogEntry.name,
              "department": Department.name, "opened_at": Flag.opened_at},
}
TIEBREAK = {"entries": CatalogEntry.id, "demands": Demand.id, "flags": Flag.id}


def drilldown(session: Session, *, figure: str, scope: Scope, moment: Moment, page: int = 1,
              page_size: int = 20, flag_kind: str | None = None, age: str | None = None,
              unmet_reason: str | None = None, sort: str | None = None) -> Page:
    """The rows behind one number of a scope, as table rows (dicts), one page (by ``sort``, one of
    ``SORTS`` of its kind, or in the order things were added)."""
    listing = LISTS.get(figure)
    if listing is None:
        raise ValidationError("没有这一项的明细", details={"figure": [f"可选：{'、'.join(LISTS)}"]})
    build = {"entries": _entries, "demands": _demands, "flags": _flags}[listing.kind]
    stmt = build(listing.condition(moment), scope, moment)
    if listing.kind == "demands":
        charged = facts.overdue_department() if figure == "overdue" else Demand.provider_id
        stmt = _department_scope(stmt, charged, scope)
    if listing.kind == "flags":
        stmt = _flag_filters(stmt, moment, flag_kind, age)
    if unmet_reason is not None and figure == "unmet":
        stmt = stmt.where(Demand.unmet_reason == unmet_reason)
    if sort:
        stmt = stmt.order_by(None).order_by(*ordering(sort, SORTS[listing.kind], TIEBREAK[listing.kind]))
    return page_rows(session, stmt, page=page, page_size=page_size)


def _department_scope(stmt: Select, column, scope: Scope) -> Select:
    if scope.department_id is not None:
        return stmt.where(column == scope.department_id)
    if scope.level is not None:
        return stmt.where(column.in_(select(Department.id).where(Department.level == scope.level)))
    return stmt


ENTRY_COLUMNS = (CatalogEntry.id.label("entry_id"), CatalogEntry.resource_code, CatalogEntry.name,
                 Department.name.label("provider"), CatalogEntry.update_cycle, CatalogEntry.last_updated,
                 CatalogEntry.status)


def _entries(condition, scope: Scope, moment: Moment) -> Select:
    stmt = (select(*ENTRY_COLUMNS).join(Department, Department.id == CatalogEntry.provider_id)
            .where(condition).order_by(CatalogEntry.id))
    return _department_scope(stmt, CatalogEntry.provider_id, scope)


def _demands(condition, scope: Scope, moment: Moment) -> Select:
    requester = select(Department.name).where(Department.id == Demand.requester_id).scalar_subquery()
    provider = select(Department.name).where(Department.id == Demand.provider_id).scalar_subquery()
    stmt = (select(Demand.id.label("demand_id"), Demand.ref, Demand.title, Demand.status,
                   requester.label("requester"), provider.label("provider"), Demand.deadline, Demand.unmet_reason)
            .where(condition).order_by(Demand.id))
    return stmt  # scoped by the department the figure charges (see drilldown)


def _flags(condition, scope: Scope, moment: Moment) -> Select:
    stmt = (select(Flag.id.label("flag_id"), Flag.kind, CatalogEntry.resource_code, CatalogEntry.name,
                   Department.name.label("department"), Flag.opened_at, facts.age_band(moment).label("age"))
            .join(CatalogEntry, CatalogEntry.id == Flag.entry_id).join(Department, Department.id == Flag.department_id)
            .where(condition, Flag.opened_at <= moment.now).order_by(Flag.opened_at, Flag.id))
    return _department_scope(stmt, Flag.department_id, scope)


def _flag_filters(stmt: Select, moment: Moment, kind: str | None, age: str | None) -> Select:
    if kind is not None:
        stmt = stmt.where(Flag.kind == kind)
    if age is not None:
        if age not in dict(AGE_BANDS):
            raise ValidationError("问题时长分段不正确", details={"age": [f"可选：{'、'.join(dict(AGE_BANDS))}"]})
        stmt = stmt.where(facts.age_band_clause(moment, age))
    return stmt


def page_rows(session: Session, stmt: Select, *, page: int, page_size: int | None) -> Page:
    """One page of a row query as dicts (``page_size`` None: every row, for exports)."""
    if page < 1 or (page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE):
        raise ValidationError("分页参数错误", details={"page_size": [f"每页条数应在1到{MAX_PAGE_SIZE}之间，页码从1开始"]})
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if page_size is not None:
        stmt = stmt.limit(page_size).offset((page - 1) * page_size)
    rows = [_plain(row._asdict()) for row in session.execute(stmt)]
    return Page(items=rows, total=total, page=page, page_size=page_size or max(total, 1))


def _plain(row: dict) -> dict:
    return {key: value.value if hasattr(value, "label") and hasattr(value, "value") else value
            for key, value in row.items()}


# -- the entries that block demands ---------------------------------------------------------------

OPEN_DEMAND = (S.SUBMITTED, S.ACCEPTED, S.MATCHED, S.CONFIRMED, S.DECLINED, S.UNMET)


def waiting_on():
    """SQL parts: the open demands an entry was offered to (a rejected suggestion does not count)."""
    return (DemandMatch.state != MatchState.REJECTED, Demand.status.in_(OPEN_DEMAND))


BLOCKING_SORTS = ("demands", "resource_code", "name", "provider")


def blocking_entries(session: Session, *, scope: Scope, moment: Moment, config: FreshnessConfig,
                     page: int = 1, page_size: int | None = 20, sort: str | None = None) -> Page:
    """Unmounted or stale entries ranked by how many open demands they were offered to: "mount
    (or update) this and N demands can be met" (or by ``sort``, one of ``BLOCKING_SORTS``).
    Counted from the matches (few) outwards."""
    stale = flagged_clause("stale", moment.day, config)
    waiting = waiting_counts().subquery()
    stmt = (select(CatalogEntry.id.label("entry_id"), CatalogEntry.resource_code, CatalogEntry.name,
                   Department.name.label("provider"), facts.unmounted().label("unmounted"), stale.label("stale"),
                   waiting.c.demands)
            .select_from(waiting).join(CatalogEntry, CatalogEntry.id == waiting.c.entry_id)
            .join(Department, Department.id == CatalogEntry.provider_id)
            .where(or_(and_(facts.counted(), facts.unmounted()), stale))
            .order_by(waiting.c.demands.desc(), CatalogEntry.id))
    if sort:
        columns = dict(zip(BLOCKING_SORTS, (waiting.c.demands, CatalogEntry.resource_code, CatalogEntry.name,
                                            Department.name)))
        stmt = stmt.order_by(None).order_by(*ordering(sort, columns, CatalogEntry.id))
    found = page_rows(session, _department_scope(stmt, CatalogEntry.provider_id, scope), page=page,
                      page_size=page_size)
    for row in found.items:
        row["unmounted"], row["stale"] = bool(row["unmounted"]), bool(row["stale"])
    return found


def waiting_counts(entry_ids: list[int] | None = None) -> Select:
    """Per entry, the number of open demands it was offered to (entries with none are left out)."""
    stmt = (select(DemandMatch.entry_id, func.count(distinct(DemandMatch.demand_id)).label("demands"))
            .join(Demand, Demand.id == DemandMatch.demand_id).where(*waiting_on()).group_by(DemandMatch.entry_id))
    return stmt if entry_ids is None else stmt.where(DemandMatch.entry_id.in_(entry_ids))


def demands_waiting(session: Session, *, entry_ids: list[int]) -> dict[int, int]:
    """Per entry, the open demands it was offered to (for "mount this and N demands are met"
    beside a match or an entry); entries with none are left out."""
    return {entry_id: n for entry_id, n in session.execute(waiting_counts(entry_ids))}
