"""What each figure counts, as SQL: one row per counted thing, ``(department_id, figure, x)``.

The daily snapshot sums these per department; the drill-down lists read the same conditions, so a
number and the list behind it never disagree.  Everything is set-based and portable: dates are
compared with cutoffs computed here from the snapshot's moment; the only date arithmetic in the
database is the answer time (:func:`days_between`) and the whole days between an entry's updates
(:func:`day_number`, :func:`date_number`).

The timely-update rate (更新及时率) counts actual against expected updates.  Each snapshot credits
the full local days since the previous snapshot (normally the one day before its own; at most
:data:`MAX_CATCH_UP` days after a gap), its *window*, with two figures per department:

- ``updates_expected``: for each scheduled entry (published or changed), the window's days ÷ its
  cycle's days (每日 1, 每周 7, 每月 31, 每季度 92, 每半年 183, 每年 366, 每两年 731).  实时 entries
  expect one update a day and are credited it while a mounted resource is live.  不定期 and 不更新
  entries expect none and are counted apart (``unscheduled``).
- ``updates_actual``: for each calendar-scheduled entry updated in the window, min(1, whole days from
  its previous update to its last update in the window ÷ its cycle's days); an entry with no earlier
  update is credited 1.  An update is a published version, a lifecycle step to published or changed,
  a declared last-update or publish date, or an observed change of the data of its live mount.

A period's rate is Σ actual ÷ Σ expected over its snapshots, capped at 1.  Because an update is
credited at most one cycle, an entry updated every day on a monthly cycle earns one update a month,
no more, and cannot make up for another entry never updated.  The one leak is at a period's start:
an entry that catches up after falling behind is credited for its whole gap (up to one cycle) even
where part of the gap lay before the period, so a period can credit an entry at most one update more
than it expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import (Date, Float, Integer, String, and_, case, exists, func, literal, null, or_, select, type_coerce,
                        union_all)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from catalog.models import CatalogEntry, EntryVersion, MountedResource, StatusChange
from catalog.services import is_mounted
from catalog.vocab import EntryStatus, UpdateCycle

from ..demands.models import Demand, DemandMatch, DemandStatus, DemandStep, MatchState
from ..demands.services import is_overdue
from ..freshness.models import Flag
from ..freshness.rules import CALENDAR_CYCLES, FAILED_HEALTH, counted

S = DemandStatus
# Age bands of open flags: (label, lower bound in days, inclusive)
AGE_BANDS = (("0-7", 0), ("8-30", 8), ("31-90", 31), ("90+", 91))
# CALENDAR_CYCLES (rules.py) are judged by the calendar; 实时 by its live mount instead, and
# 不定期 / 不更新 promise no schedule, so they are counted apart and never judged.
UNSCHEDULED = (UpdateCycle.IRREGULAR, UpdateCycle.STATIC)
DECIDED = (S.FULFILLED, S.UNMET, S.CLOSED)
ANSWERS = ("confirm", "decline")
MAX_CATCH_UP = 7  # days a snapshot credits after missed days (a longer gap is credited no further back)
ORIGIN_DAYS = 100_000  # day numbers count from this many days before the window's end (always positive)
UPDATE_STEPS = (EntryStatus.PUBLISHED, EntryStatus.CHANGED)


@dataclass(frozen=True)
class Moment:
    """The instant figures are taken at, and the calendar day it falls on."""

    now: dt.datetime
    timezone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day(self) -> dt.date:
        return self.now.astimezone(self.zone).date()

    def day_start(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), self.zone).astimezone(dt.UTC)

    def cutoff(self, cycle: UpdateCycle) -> dt.date:
        """The oldest update that still keeps an entry of this cycle on time today."""
        return self.day - dt.timedelta(days=cycle.expected_days - 1)


@dataclass(frozen=True)
class Window:
    """The local days whose updates a snapshot credits: ``first`` up to the day before ``end`` (the
    snapshot's own day, whose updates the next snapshot credits)."""

    first: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.first).days


def update_window(day: dt.date, previous: dt.date | None) -> Window:
    """The window of a snapshot taken on ``day`` after one taken on ``previous`` (None: the first)."""
    if previous is None or previous >= day:
        return Window(day - dt.timedelta(days=1), day)
    return Window(max(previous, day - dt.timedelta(days=MAX_CATCH_UP)), day)


def fact(department, figure, x=1):
    return select(department.label("department_id"), type_coerce(figure, String).label("figure"),
                  literal(x, Float).label("x") if isinstance(x, (int, float)) else x.label("x"))


# -- the catalog ----------------------------------------------------------------------------------


def mounted():
    return is_mounted()


def unmounted():
    return ~is_mounted()


def scheduled():
    return CatalogEntry.update_cycle.not_in(UNSCHEDULED)


def timely(moment: Moment):
    """SQL: a scheduled entry shows an update within one cycle of the day (实时: a live mount)."""
    dates = {c.value: literal(moment.cutoff(c), Date) for c in CALENDAR_CYCLES}
    times = {c.value: literal(moment.day_start(moment.cutoff(c)), StatusChange.at.type) for c in CALENDAR_CYCLES}
    date_cut = case(dates, value=CatalogEntry.update_cycle)
    time_cut = case(times, value=CatalogEntry.update_cycle)
    declared = func.coalesce(CatalogEntry.last_updated, CatalogEntry.publish_date) >= date_cut
    versioned = exists().where(EntryVersion.entry_id == CatalogEntry.id, EntryVersion.published_at >= time_cut)
    stepped = exists().where(StatusChange.entry_id == CatalogEntry.id, StatusChange.at >= time_cut,
                             StatusChange.to_status.in_((EntryStatus.PUBLISHED, EntryStatus.CHANGED)))
    data = exists().where(MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None),
                          MountedResource.data_changed_at >= time_cut)
    live = live_mount()
    on_calendar = and_(CatalogEntry.update_cycle.in_(CALENDAR_CYCLES), or_(declared, versioned, stepped, data))
    return or_(on_calendar, and_(CatalogEntry.update_cycle == UpdateCycle.REALTIME, live))


CATALOG_FIGURES = {
    "entries": lambda m: counted(),
    "mounted": lambda m: and_(counted(), mounted()),
    "scheduled": lambda m: and_(counted(), scheduled()),
    "timely": lambda m: and_(counted(), scheduled(), timely(m)),
    "unscheduled": lambda m: and_(counted(), ~scheduled()),
}


def catalog_facts(moment: Moment) -> list:
    return [fact(CatalogEntry.provider_id, literal(name)).where(condition(moment))
            for name, condition in CATALOG_FIGURES.items()]


def _younger_than(moment: Moment, days: int):
    return Flag.opened_at > moment.now - dt.timedelta(days=days)


def age_band(moment: Moment):
    """SQL: the age band of an open flag (whole days since it was opened)."""
    whens = [(_younger_than(moment, AGE_BANDS[i + 1][1]), label) for i, (label, _) in enumerate(AGE_BANDS[:-1])]
    return case(*whens, else_=AGE_BANDS[-1][0])


def age_band_clause(moment: Moment, band: str):
    """SQL: the open flag's age falls in ``band``."""
    labels = [label for label, _ in AGE_BANDS]
    index = labels.index(band)
    clause = ~_younger_than(moment, AGE_BANDS[index][1]) if index else Flag.opened_at <= moment.now
    if index + 1 < len(AGE_BANDS):
        clause = and_(clause, _younger_than(moment, AGE_BANDS[index + 1][1]))
    return clause


def flag_facts(moment: Moment) -> list:
    figure = literal("flags:") + type_coerce(Flag.kind, String) + literal(":") + age_band(moment)
    return [fact(Flag.department_id, figure).where(Flag.resolved_at.is_(None), Flag.opened_at <= moment.now)]


# -- demands and matches --------------------------------------------------------------------------


def filed():
    return Demand.status != S.DRAFT


def suggested():
    return exists().where(DemandMatch.demand_id == Demand.id)


def confirmed_on_mounted():
    mount = exists().where(MountedResource.entry_id == DemandMatch.entry_id, MountedResource.unmounted_at.is_(None))
    return exists().where(DemandMatch.demand_id == Demand.id, DemandMatch.state == MatchState.CONFIRMED, mount)


def satisfied():
    return or_(Demand.status == S.FULFILLED, and_(Demand.status == S.CLOSED, Demand.satisfied.is_(True)))


def unmet():
    return and_(Demand.status.in_((S.UNMET, S.CLOSED)), Demand.unmet_reason.is_not(None))


def overdue_department():
    """Whom an overdue demand is charged to: the provider it waits on, else no one (the bureau)."""
    return case((Demand.status == S.MATCHED, Demand.provider_id), else_=null())


DEMAND_FIGURES = {
    "demands": lambda m: filed(),
    "demands_suggested": lambda m: and_(filed(), suggested()),
    "demands_confirmed_mounted": lambda m: and_(filed(), confirmed_on_mounted()),
    "demands_decided": lambda m: Demand.status.in_(DECIDED),
    "demands_satisfied": lambda m: satisfied(),
}


def demand_facts(moment: Moment) -> list:
    found = [fact(Demand.provider_id, literal(name)).where(condition(moment))
             for name, condition in DEMAND_FIGURES.items()]
    found.append(fact(overdue_department(), literal("overdue")).where(is_overdue(moment.now)))
    found.append(fact(Demand.provider_id, literal("unmet:") + type_coerce(Demand.unmet_reason, String))
                 .where(unmet()))
    found.append(fact(CatalogEntry.provider_id, literal("suggestions:") + type_coerce(DemandMatch.state, String))
                 .select_from(DemandMatch).join(CatalogEntry, CatalogEntry.id == DemandMatch.entry_id))
    answers = answer_times().subquery()
    found.append(fact(answers.c.department_id, literal("answered")))
    return found


# -- updates: expected and actual ----------------------------------------------------------------


def cycle_days():
    """SQL: the entry's update cycle in days (None where no schedule is promised)."""
    return case({c.value: c.expected_days for c in UpdateCycle if c.expected_days}, value=CatalogEntry.update_cycle)


def per_cycle(window_days: int):
    """SQL: the window's days as a share of the entry's cycle (its expected updates in the window)."""
    return case({c.value: literal(window_days / c.expected_days, Float) for c in UpdateCycle if c.expected_days},
                value=CatalogEntry.update_cycle)


def _update_stamps(end: dt.datetime):
    """Every recorded update instant before ``end``: ``(entry_id, at)``."""
    return union_all(
        select(EntryVersion.entry_id.label("entry_id"), EntryVersion.published_at.label("at"))
        .where(EntryVersion.published_at < end),
        select(StatusChange.entry_id, StatusChange.at)
        .where(StatusChange.to_status.in_(UPDATE_STEPS), StatusChange.at < end),
        select(MountedResource.entry_id, MountedResource.data_changed_at)
        .where(MountedResource.unmounted_at.is_(None), MountedResource.data_changed_at < end),
    ).cte("update_stamps", nesting=True)


def _declared(column, window: Window, origin: dt.date, *, inside: bool):
    """SQL: the day number of a declared date inside the window (``inside``) or before it, else null."""
    where = and_(column >= window.first, column < window.end) if inside else column < window.first
    return case((where, date_number(column, literal(origin, Date))), else_=null())


def update_credits(moment: Moment, window: Window):
    """Per calendar-scheduled entry updated in the window: ``(entry_id, provider_id, credit)``."""
    start, end = moment.day_start(window.first), moment.day_start(window.end)
    at = StatusChange.at.type
    origin_at, origin_day = end - dt.timedelta(days=ORIGIN_DAYS), window.end - dt.timedelta(days=ORIGIN_DAYS)
    stamps = _update_stamps(literal(end, at))
    recent = select(stamps.c.entry_id).where(stamps.c.at >= literal(start, at))
    per_entry = (select(stamps.c.entry_id,
                        func.max(case((stamps.c.at >= literal(start, at), stamps.c.at))).label("last_at"),
                        func.max(case((stamps.c.at < literal(start, at), stamps.c.at))).label("prev_at"))
                 .where(stamps.c.entry_id.in_(recent)).group_by(stamps.c.entry_id).subquery())
    origin = literal(origin_at, at)
    dates = (CatalogEntry.last_updated, CatalogEntry.publish_date)
    last = latest(day_number(per_entry.c.last_at, origin), *[_declared(d, window, origin_day, inside=True) for d in dates])
    prev = latest(day_number(per_entry.c.prev_at, origin), *[_declared(d, window, origin_day, inside=False) for d in dates])
    credit = case((prev.is_(None), literal(1.0, Float)), (last - prev >= cycle_days(), literal(1.0, Float)),
                  else_=(last - prev) * per_cycle(1))
    in_window = or_(per_entry.c.entry_id.is_not(None),
                    *[and_(d >= window.first, d < window.end) for d in dates])
    return (select(CatalogEntry.id.label("entry_id"), CatalogEntry.provider_id, credit.label("credit"))
            .outerjoin(per_entry, per_entry.c.entry_id == CatalogEntry.id)
            .where(counted(), CatalogEntry.update_cycle.in_(CALENDAR_CYCLES), in_window))


def live_mount():
    """SQL: an active mount whose last probe did not fail (the flags' rule for 实时 entries)."""
    return exists().where(MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None),
                          MountedResource.health.not_in(FAILED_HEALTH))


def update_facts(moment: Moment, window: Window) -> list:
    credits = update_credits(moment, window).subquery()
    realtime = and_(counted(), CatalogEntry.update_cycle == UpdateCycle.REALTIME, live_mount())
    return [fact(CatalogEntry.provider_id, literal("updates_expected"), per_cycle(window.days))
            .where(counted(), scheduled()),
            fact(credits.c.provider_id, literal("updates_actual"), credits.c.credit),
            fact(CatalogEntry.provider_id, literal("updates_actual"), float(window.days)).where(realtime)]


def all_facts(moment: Moment, window: Window):
    return [*catalog_facts(moment), *flag_facts(moment), *demand_facts(moment), *update_facts(moment, window)]


# -- the time a provider takes to answer ----------------------------------------------------------


def portable(sqlite: str, postgresql: str):
    """Compile a two-argument SQL function from a template per dialect (``{0}``, ``{1}``: its arguments)."""

    def register(cls):
        for template, dialect in ((sqlite, None), (postgresql, "postgresql")):
            def render(element, compiler, template=template, **kw):
                return template.format(*(compiler.process(c, **kw) for c in element.clauses))
            compiles(cls, *([dialect] if dialect else []))(render)
        return cls

    return register


@portable("(julianday({1}) - julianday({0}))", "(EXTRACT(EPOCH FROM ({1}) - ({0})) / 86400.0)")
class days_between(FunctionElement):
    """Days (fractional) from the first datetime to the second."""

    type = Float()
    inherit_cache = True
    name = "days_between"


# on SQLite, 1e-7 days absorbs the floating-point noise of an instant at a midnight
@portable("CAST(julianday({0}) - julianday({1}) + 1e-7 AS INTEGER)",
          "CAST(FLOOR(EXTRACT(EPOCH FROM ({0}) - ({1})) / 86400) AS INTEGER)")
class day_number(FunctionElement):
    """Whole days from the second instant (an origin) to the first: the first's local day number
    when the origin is a local midnight (exact for zones without daylight saving, as China's)."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@portable("CAST(julianday({0}) - julianday({1}) AS INTEGER)", "(({0}) - CAST({1} AS DATE))")
class date_number(FunctionElement):
    """Days from the second date (an origin) to the first."""

    type = Integer()
    inherit_cache = True
    name = "date_number"


class latest(FunctionElement):
    """The greatest of its (non-negative integer) arguments that are not null; null if all are."""

    type = Integer()
    inherit_cache = True
    name = "latest"


@compiles(latest)
def _latest_sqlite(element, compiler, **kw):
    args = ", ".join(f"COALESCE({compiler.process(c, **kw)}, -1)" for c in element.clauses)
    return f"NULLIF(MAX({args}, -1), -1)"


@compiles(latest, "postgresql")
def _latest_postgresql(element, compiler, **kw):
    return f"GREATEST({', '.join(compiler.process(c, **kw) for c in element.clauses)})"


def answer_times():
    """Per answered demand: its provider and the days from its first routing to the first answer."""
    routed = (select(DemandStep.demand_id, func.min(DemandStep.at).label("at"))
              .where(DemandStep.action == "route").group_by(DemandStep.demand_id).subquery())
    answered = (select(DemandStep.demand_id, func.min(DemandStep.at).label("at"))
                .where(DemandStep.action.in_(ANSWERS)).group_by(DemandStep.demand_id).subquery())
    return (select(Demand.id.label("demand_id"), Demand.provider_id.label("department_id"),
                   days_between(routed.c.at, answered.c.at).label("days"))
            .join(routed, routed.c.demand_id == Demand.id).join(answered, answered.c.demand_id == Demand.id)
            .where(answered.c.at >= routed.c.at))
