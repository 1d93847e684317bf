"""When an entry is stale or unmounted: one rule, in Python for one entry and in SQL for the scan.

An entry is stale when its update cycle promises an interval and its last update (or, lacking one,
its publish date) plus the interval times the tolerance is before today.  Irregular and static
entries never go stale by the calendar; an entry with neither date cannot be judged and is not
flagged.  Only published and changed entries count.  The SQL form compares the entry's date with
one cutoff per cycle computed here from ``today``, so the same statement runs on SQLite and
PostgreSQL with no date arithmetic in the database.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, exists, func, literal, select

from catalog.models import CatalogEntry, MountedResource
from catalog.services import VISIBLE_TO_ALL
from catalog.vocab import UpdateCycle


@dataclass(frozen=True)
class FreshnessConfig:
    tolerance: float = 1.5  # stale past 1.5 update cycles without an update
    timezone: str = "Asia/Shanghai"  # whose calendar "today" is

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(ZoneInfo(self.timezone)).date()


DEFAULT = FreshnessConfig()


def cutoffs(today: dt.date, config: FreshnessConfig = DEFAULT) -> dict[UpdateCycle, dt.date]:
    """Per cycle with a schedule, the date an entry's last update must not be before.

    Ages are whole days, so "age > days × tolerance" is "age > floor(days × tolerance)"."""
    return {cycle: today - dt.timedelta(days=math.floor(cycle.expected_days * config.tolerance))
            for cycle in UpdateCycle if cycle.expected_days is not None}


def is_stale(entry: CatalogEntry, today: dt.date, config: FreshnessConfig = DEFAULT) -> bool:
    cutoff = cutoffs(today, config).get(entry.update_cycle)
    reference = entry.last_updated or entry.publish_date
    return cutoff is not None and reference is not None and reference < cutoff


def counted():
    """Entries the scan judges: published or changed (withdrawn ones lose their flags)."""
    return CatalogEntry.status.in_(VISIBLE_TO_ALL)


def stale_clause(today: dt.date, config: FreshnessConfig = DEFAULT):
    """SQL: the entry's reference date is before its cycle's cutoff (no cutoff: never stale)."""
    limits = {cycle.value: literal(day, Date) for cycle, day in cutoffs(today, config).items()}
    cutoff = case(limits, value=CatalogEntry.update_cycle)
    return func.coalesce(CatalogEntry.last_updated, CatalogEntry.publish_date) < cutoff


def unmounted_clause():
    """SQL: no active mount (a mounted resource whose unmounted_at is null) behind the entry."""
    active = select(MountedResource.id).where(
        MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None))
    return ~exists(active)


def flagged_clause(kind: str, today: dt.date, config: FreshnessConfig = DEFAULT):
    """SQL: the entry deserves an open flag of this kind."""
    condition = stale_clause(today, config) if kind == "stale" else unmounted_clause()
    return and_(counted(), condition)
