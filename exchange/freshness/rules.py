"""When an entry deserves a flag: one rule per kind, in SQL for the scan (and in Python for staleness).

An entry is stale when its update cycle promises a calendar interval and its last update (or,
lacking one, its publish date) plus the interval times the tolerance is before today.  Only the
calendar cycles (每日 … 每两年) go stale.  A real-time (实时) entry promises live data, not dated
updates: it never goes stale by its declared date and is judged by its live mount instead, by the
kinds that look at mounts (nothing mounted is *unmounted*; a mount whose last probe failed is
*unreachable*), as the dashboards judge it timely while a mount is live.  Irregular (不定期) and
static (不更新) entries promise no schedule and never go stale.  An entry with neither date cannot be
judged and is not flagged.  Only published and changed entries count.  The SQL form compares the
entry's date with one cutoff per calendar cycle computed here from ``today``, so the same
statement runs on SQLite and PostgreSQL with no date arithmetic in the database.

The other kinds: *unmounted* when no active mount is behind the entry; *unreachable* when an
active mount's last probe failed; *demand_waiting* when
nothing is mounted and a demand waits on the entry (an open demand matched to it, or an unmet one
whose root cause is "not mounted"); *inconsistent* when the declared update and the observed last
change of the mounted data are more than ``inconsistent_days`` apart, either way.  An entry exempt
from a kind (a granted exemption not yet ended) gets no flag of it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Date, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float

from catalog.models import CatalogEntry, MountedResource
from catalog.services import VISIBLE_TO_ALL
from catalog.vocab import Health, MountKind, UpdateCycle

from ..demands.models import Demand, DemandMatch, DemandStatus, MatchState, UnmetReason
from .models import Exemption, ExemptionStatus, FlagKind


@dataclass(frozen=True)
class FreshnessConfig:
    tolerance: float = 1.5  # stale past 1.5 update cycles without an update
    timezone: str = "Asia/Shanghai"  # whose calendar "today" is
    escalation_days: int = 30  # an open flag older than this is escalated to the bureau
    inconsistent_days: int = 7  # declared update and observed data change further apart than this disagree

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(ZoneInfo(self.timezone)).date()


DEFAULT = FreshnessConfig()


# The cycles judged by the calendar: a schedule of dated updates (not 实时, 不定期 or 不更新).
CALENDAR_CYCLES = tuple(c for c in UpdateCycle if c.expected_days is not None and c is not UpdateCycle.REALTIME)


def cutoffs(today: dt.date, config: FreshnessConfig = DEFAULT) -> dict[UpdateCycle, dt.date]:
    """Per calendar cycle, the date an entry's last update must not be before.

    Ages are whole days, so "age > days × tolerance" is "age > floor(days × tolerance)"."""
    return {cycle: today - dt.timedelta(days=math.floor(cycle.expected_days * config.tolerance))
            for cycle in CALENDAR_CYCLES}


def is_stale(entry: CatalogEntry, today: dt.date, config: FreshnessConfig = DEFAULT) -> bool:
    cutoff = cutoffs(today, config).get(entry.update_cycle)
    reference = entry.last_updated or entry.publish_date
    return cutoff is not None and reference is not None and reference < cutoff


def counted():
    """Entries the scan judges: published or changed (withdrawn ones lose their flags)."""
    return CatalogEntry.status.in_(VISIBLE_TO_ALL)


def stale_clause(today: dt.date, config: FreshnessConfig = DEFAULT):
    """SQL: the entry's reference date is before its cycle's cutoff (no cutoff, as for 实时, 不定期
    and 不更新: never stale)."""
    limits = {cycle.value: literal(day, Date) for cycle, day in cutoffs(today, config).items()}
    cutoff = case(limits, value=CatalogEntry.update_cycle)
    return func.coalesce(CatalogEntry.last_updated, CatalogEntry.publish_date) < cutoff


FAILED_HEALTH = (Health.UNREACHABLE.value, Health.CHANGED.value)  # the last probe failed
# demands still waiting for an answer, whose matched entries they wait on
WAITING_DEMANDS = (DemandStatus.SUBMITTED, DemandStatus.ACCEPTED, DemandStatus.MATCHED, DemandStatus.CONFIRMED)


def unmounted_clause():
    """SQL: no active mount (a mounted resource whose unmounted_at is null) behind the entry."""
    active = select(MountedResource.id).where(MountedResource.entry_id == CatalogEntry.id,
                                              MountedResource.unmounted_at.is_(None))
    return ~exists(active)


def _with_active_mount(*conditions):
    """SQL: the entry has an active mount meeting the conditions (the mounts drive the search:
    there are fewer of them than entries, and fewer still that meet the conditions)."""
    mounts = select(MountedResource.entry_id).where(MountedResource.unmounted_at.is_(None), *conditions)
    return CatalogEntry.id.in_(mounts)


def unreachable_clause():
    """SQL: an active mount whose last probe failed (unreachable, or a stored file that changed)."""
    return _with_active_mount(MountedResource.health.in_(FAILED_HEALTH))


def demand_waiting_clause():
    """SQL: nothing mounted, and a demand waits on the entry through a match."""
    waiting = or_(Demand.status.in_(WAITING_DEMANDS),
                  and_(Demand.status == DemandStatus.UNMET, Demand.unmet_reason == UnmetReason.NOT_MOUNTED))
    matched = (select(DemandMatch.entry_id).join(Demand, Demand.id == DemandMatch.demand_id)
               .where(DemandMatch.state != MatchState.REJECTED, waiting))
    return and_(CatalogEntry.id.in_(matched), unmounted_clause())


def portable_function(name: str, type_, *, sqlite: str, postgresql: str) -> type[FunctionElement]:
    """A SQL function spelt per dialect: ``{}`` in each template stands for the arguments."""
    function = type(name, (FunctionElement,), {"type": type_, "inherit_cache": True})
    for dialect, template in (("sqlite", sqlite), ("postgresql", postgresql)):
        compiles(function, dialect)(
            lambda element, compiler, _t=template, **kw: _t.format(compiler.process(element.clauses, **kw)))
    return function


# days since an epoch, fractional, of a date or UTC timestamp (for differences only)
day_number = portable_function("day_number", Float(), sqlite="julianday({})",
                               postgresql="(EXTRACT(EPOCH FROM {}) / 86400.0)")
# the UTC calendar date of a timestamp
utc_date = portable_function("utc_date", Date(), sqlite="date({})",
                             postgresql="CAST(({}) AT TIME ZONE 'UTC' AS DATE)")
# a JSON object from alternating keys and values
json_object = portable_function("json_object", JSON(), sqlite="json_object({})", postgresql="json_build_object({})")


def declared_update():
    """The entry's declared last update: its last update date, else its publish date."""
    return func.coalesce(CatalogEntry.last_updated, CatalogEntry.publish_date)


def observed_change(*, uploads: bool = True):
    """The UTC date of the latest observed change of the data behind the entry's active mounts
    (``uploads=False``: leaving out stored files, whose observed change is their own upload)."""
    mounts = [MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None)]
    if not uploads:
        mounts.append(MountedResource.kind != MountKind.FILE)
    return select(utc_date(func.max(MountedResource.data_changed_at))).where(*mounts).scalar_subquery()


def inconsistent_clause(config: FreshnessConfig = DEFAULT):
    """SQL: declared update and observed data change known, and further apart than allowed.  Either
    the catalog says updated and the data has not moved, or the data moved and the catalog was not
    updated; an uploaded file only counts for the first (its upload is no sign the data moved)."""
    known = _with_active_mount(MountedResource.data_changed_at.is_not(None))
    declared = day_number(declared_update())
    catalog_ahead = declared - day_number(observed_change()) > config.inconsistent_days
    data_ahead = day_number(observed_change(uploads=False)) - declared > config.inconsistent_days
    return and_(known, declared_update().is_not(None), or_(catalog_ahead, data_ahead))


def exempt_clause(kind: str, now: dt.datetime):
    """SQL: a granted exemption from this kind, not yet ended, covers the entry."""
    granted = select(Exemption.id).where(
        Exemption.entry_id == CatalogEntry.id, Exemption.kind == kind,
        Exemption.status == ExemptionStatus.GRANTED, Exemption.ends_at > now)
    return exists(granted)


def kind_clause(kind: str, today: dt.date, config: FreshnessConfig = DEFAULT):
    """SQL: what makes an entry deserve a flag of this kind (before status and exemptions)."""
    return {
        FlagKind.STALE: lambda: stale_clause(today, config),
        FlagKind.UNMOUNTED: unmounted_clause,
        FlagKind.UNREACHABLE: unreachable_clause,
        FlagKind.DEMAND_WAITING: demand_waiting_clause,
        FlagKind.INCONSISTENT: lambda: inconsistent_clause(config),
    }[FlagKind(kind)]()


def flagged_clause(kind: str, today: dt.date, config: FreshnessConfig = DEFAULT, *,
                   exempt_at: dt.datetime | None = None):
    """SQL: the entry deserves an open flag of this kind (``exempt_at``: leave out exempt entries)."""
    condition = and_(counted(), kind_clause(kind, today, config))
    return condition if exempt_at is None else and_(condition, ~exempt_clause(kind, exempt_at))
