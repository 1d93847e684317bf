"""What each figure counts, as SQL: one row per counted thing, ``(department_id, figure, x)``.

The daily snapshot sums these per department; the drill-down lists read the same conditions, so a
number and the list behind it never disagree.  Everything is set-based and portable: dates are
compared with cutoffs computed here from the snapshot's moment, never with date arithmetic in the
database (except the answer time, in :func:`days_between`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, String, and_, case, exists, func, literal, null, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from catalog.models import CatalogEntry, EntryVersion, MountedResource, StatusChange
from catalog.services import is_mounted
from catalog.vocab import EntryStatus, Health, UpdateCycle

from ..demands.models import Demand, DemandMatch, DemandStatus, DemandStep, MatchState
from ..demands.services import is_overdue
from ..freshness.models import Flag
from ..freshness.rules import counted

S = DemandStatus
# Age bands of open flags: (label, lower bound in days, inclusive)
AGE_BANDS = (("0-7", 0), ("8-30", 8), ("31-90", 31), ("90+", 91))
# Cycles whose timeliness is judged by the calendar; 实时 is judged by its live mount instead, and
# 不定期 / 不更新 promise no schedule, so they are counted apart and never judged.
CALENDAR_CYCLES = tuple(c for c in UpdateCycle if c.expected_days is not None and c is not UpdateCycle.REALTIME)
UNSCHEDULED = (UpdateCycle.IRREGULAR, UpdateCycle.STATIC)
DECIDED = (S.FULFILLED, S.UNMET, S.CLOSED)
ANSWERS = ("confirm", "decline")


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
    live = exists().where(MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None),
                          MountedResource.health != Health.UNREACHABLE)
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


def all_facts(moment: Moment):
    return [*catalog_facts(moment), *flag_facts(moment), *demand_facts(moment)]


# -- the time a provider takes to answer ----------------------------------------------------------


class days_between(FunctionElement):
    """Days (fractional) from the first datetime to the second."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end}) - ({start})) / 86400.0)"


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
