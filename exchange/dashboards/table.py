"""Departments ranked by a figure, in SQL: what a sorted table page and a top/bottom N chart need.

A department's figures over a period are its counts on the period's last snapshot day (stock) and
its flows summed over the period (the difference of two running totals, see
:mod:`.snapshot`).  Here they are pivoted from the long-form ``dashboard_figures`` rows with
conditional aggregation, one column per count the sort needs, and the rates computed as ratios in
SQL exactly as :func:`.figures.derive` computes them (null when the denominator is 0, sorted last
both ways).  So a sorted page or the best and worst N are ``ORDER BY … LIMIT``, and only the rows
shown are derived in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, func, literal, null, or_, select

from ..demands.models import MatchState
from .figures import BANDS, KINDS, REASONS, SUGGESTIONS, Figure
from .models import DashboardFigure as F
from .snapshot import FLOWS, total

# counts stored under their own name on a snapshot day
PLAIN = ("entries", "mounted", "scheduled", "timely", "unscheduled", "demands", "demands_suggested",
         "demands_confirmed_mounted", "demands_decided", "demands_satisfied", "answered", "overdue")
SUGGESTION_KEYS = {"suggestions_confirmed": MatchState.CONFIRMED, "suggestions_rejected": MatchState.REJECTED,
                   "suggestions_pending": MatchState.SUGGESTED}


def _stock_conditions() -> dict[str, object]:
    found = {name: F.figure == name for name in PLAIN}
    found |= {key: F.figure == SUGGESTIONS[state] for key, state in SUGGESTION_KEYS.items()}
    found["flags_open"] = F.figure.like("flags:%")
    found |= {f"flags_by_kind.{kind}": F.figure.like(f"flags:{kind}:%") for kind in KINDS}
    found |= {f"flags_by_age.{band}": F.figure.like(f"flags:%:{band}") for band in BANDS}
    found |= {f"unmet_by_reason.{reason}": F.figure == key for reason, key in REASONS}
    found["median_answer_days"] = F.figure == "answer_days_median"
    return found


STOCK = _stock_conditions()
NULLABLE = {"median_answer_days"}  # no answers: no median (not zero)


def ratio(part, whole):
    """SQL: ``part / whole``, null when ``whole`` is 0 (as :func:`.figures.ratio`)."""
    return case((whole > 0, part * literal(1.0) / whole), else_=null())


def capped_ratio(part, whole):
    """SQL: ``part / whole`` at most 1, null when ``whole`` is 0 (as :func:`.figures.capped_ratio`)."""
    return case((whole > 0, case((part >= whole, literal(1.0)), else_=part * literal(1.0) / whole)), else_=null())


@dataclass(frozen=True)
class Derived:
    needs: tuple[str, ...]
    sql: Callable


DERIVED = {
    "unmounted": Derived(("entries", "mounted"), lambda c: c["entries"] - c["mounted"]),
    "mounted_rate": Derived(("mounted", "entries"), lambda c: ratio(c["mounted"], c["entries"])),
    "stale_rate": Derived(("flags_by_kind.stale", "entries"), lambda c: ratio(c["flags_by_kind.stale"], c["entries"])),
    "satisfaction_rate": Derived(("demands_satisfied", "demands_decided"),
                                 lambda c: ratio(c["demands_satisfied"], c["demands_decided"])),
    "timely_rate": Derived(FLOWS[::-1], lambda c: capped_ratio(c["updates_actual"], c["updates_expected"])),
}
SORTABLE = ["name", *dict.fromkeys([f.value for f in Figure] + list(STOCK))]


def needs(key: str) -> tuple[str, ...]:
    """The stored counts a figure is computed from."""
    if key in DERIVED:
        return DERIVED[key].needs
    if key in STOCK or key in FLOWS:
        return (key,)
    raise KeyError(key)


def pivot(keys: tuple[str, ...], day: dt.date, before: dt.date | None):
    """Per department, the counts ``keys``: stock ones on ``day``, flows summed over the snapshot
    days after ``before`` up to ``day`` (``before`` None: from the first)."""
    columns, wanted = [], []
    for key in keys:
        if key in FLOWS:
            condition = F.figure == total(key)
            whens = [(and_(F.day == day, condition), F.value)]
            if before is not None:
                whens.append((and_(F.day == before, condition), -F.value))
        else:
            condition = STOCK[key]
            whens = [(and_(F.day == day, condition), F.value)]
        columns.append(func.sum(case(*whens)).label(key))
        wanted.append(condition)
    days = [day] if before is None else [day, before]
    return (select(F.department_id, *columns)
            .where(F.day.in_(days), F.department_id.is_not(None), or_(*wanted))
            .group_by(F.department_id).subquery())


def ranked(departments: Select, key: str, day: dt.date | None, before: dt.date | None) -> tuple[Select, object]:
    """``departments`` (id, name, level) with the figure ``key`` as a column ``value``, and that column
    (with no snapshot day, the name)."""
    listed = departments.subquery()
    if key == "name" or day is None:  # no snapshot in the period: every figure is empty, in name order
        return select(listed.c.id, listed.c.name, listed.c.name.label("value")), listed.c.name
    counts = pivot(needs(key), day, before)
    c = {name: counts.c[name] if name in NULLABLE else func.coalesce(counts.c[name], 0) for name in needs(key)}
    value = DERIVED[key].sql(c) if key in DERIVED else c[key]
    stmt = (select(listed.c.id, listed.c.name, value.label("value"))
            .outerjoin(counts, counts.c.department_id == listed.c.id))
    return stmt, value


def ordered(stmt: Select, value, *, descending: bool) -> Select:
    """Sorted by the value (empty values last either way), then by name and id."""
    names = stmt.selected_columns
    return stmt.order_by(value.is_(None), value.desc() if descending else value.asc(), names.name, names.id)


def worst_first(stmt: Select, value) -> Select:
    """The reverse of :func:`ordered` descending, among non-empty values."""
    names = stmt.selected_columns
    return stmt.where(value.is_not(None)).order_by(value.asc(), names.name.desc(), names.id.desc())
