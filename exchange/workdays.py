"""Deadlines counted in working days (工作日) on China's official calendar.

The official schedule of public holidays and adjusted working days (调休: a Saturday or Sunday
that is worked) comes from the ``chinese_calendar`` package, which transcribes the State Council's
yearly notices.  The bureau may configure extra holidays and extra working days on top of it.  For
a year the package does not know yet (the notice is published each November), only weekends are
rest days; the calendar logs a warning once per such year and says so through
:meth:`WorkCalendar.is_official`.

A deadline of ``n`` working days after a moment is the end (23:59:59.999999, local time) of the
``n``-th working day after the day of that moment: the starting day never counts, as in
administrative practice (期间开始之日不计算在期间内).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from catalog.errors import ValidationError

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Shanghai"
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class DeadlineConfig:
    """Working-day deadlines of the demand and sharing workflow (practice under 国发〔2016〕51号)."""

    bureau_review_days: int = 2  # the bureau reviews a demand or catalog submission
    provider_answer_days: int = 10  # the provider answers a demand or a conditional application


@dataclass(frozen=True)
class OfficialSchedule:
    """The State Council's schedule: holidays, adjusted working days, and the years it covers."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    years: frozenset[int]


@functools.cache
def official_schedule() -> OfficialSchedule:
    """The schedule the ``chinese_calendar`` package knows (imported on first use)."""
    import chinese_calendar

    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = frozenset(day.year for day in holidays | workdays)
    return OfficialSchedule(holidays, workdays, years)


EMPTY_SCHEDULE = OfficialSchedule(frozenset(), frozenset(), frozenset())


class WorkCalendar:
    """Which days are worked, and deadlines and overdue counts in working days.

    ``holidays`` and ``workdays`` are the bureau's own additions (dates); they override the
    official schedule.  ``use_official=False`` leaves only weekends and those additions.
    """

    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (), *,
                 use_official: bool = True, timezone: str | dt.tzinfo = DEFAULT_TIMEZONE,
                 schedule: OfficialSchedule | None = None):
        self.extra_holidays = frozenset(_as_day(d) for d in holidays)
        self.extra_workdays = frozenset(_as_day(d) for d in workdays)
        _check_disjoint(self.extra_holidays, self.extra_workdays)
        if schedule is None:
            schedule = official_schedule() if use_official else EMPTY_SCHEDULE
        self.schedule = schedule
        self.use_official = use_official
        self.tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self._warned: set[int] = set()

    @classmethod
    def from_settings(cls, settings, **kwargs) -> WorkCalendar:
        """A calendar in the exchange's time zone (``EXCHANGE_TIMEZONE``)."""
        return cls(settings.dates("holidays"), settings.dates("workdays"), timezone=settings.timezone, **kwargs)

    # -- days ------------------------------------------------------------------------------------

    def is_official(self, day: dt.date) -> bool:
        """Whether the official schedule covers this day's year (else: weekends only)."""
        return self.local_day(day).year in self.schedule.years

    def is_workday(self, day: dt.date) -> bool:
        day = self.local_day(day)
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return self._official_workday(day)

    def _official_workday(self, day: dt.date) -> bool:
        if self.use_official and not self.is_official(day):
            self._warn_unknown_year(day.year)
        if day in self.schedule.workdays:
            return True
        return day.weekday() < 5 and day not in self.schedule.holidays

    def _warn_unknown_year(self, year: int) -> None:
        if year not in self._warned:
            self._warned.add(year)
            log.warning("%s 年的法定节假日安排尚未收录，按周末计算工作日", year)

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day = self.local_day(day) + ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    # -- moments ---------------------------------------------------------------------------------

    def local_day(self, moment: dt.date | dt.datetime) -> dt.date:
        """The calendar day of a moment in this calendar's time zone (a date is itself)."""
        if not isinstance(moment, dt.datetime):
            return moment
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime or a date")
        return moment.astimezone(self.tz).date()

    def end_of(self, day: dt.date) -> dt.datetime:
        """The last instant of a day, local time."""
        return dt.datetime.combine(day, dt.time.max, tzinfo=self.tz)

    def add(self, start: dt.date | dt.datetime, n: int) -> dt.datetime:
        """The deadline ``n`` working days after ``start``: the end of that working day.

        ``n == 0`` means the end of the start day if it is worked, else of the next working day.
        """
        if n < 0:
            raise ValueError("n must be zero or more working days")
        day = self.local_day(start)
        if n == 0 and self.is_workday(day):
            return self.end_of(day)
        for _ in range(max(n, 1)):
            day = self.next_workday(day)
        return self.end_of(day)

    def between(self, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> int:
        """Working days after ``start``'s day up to and including ``end``'s day.

        ``between(deadline, now)`` is how many working days a task is overdue;
        ``between(now, deadline)`` how many remain.  Negative when ``end`` comes first.
        """
        first, last = self.local_day(start), self.local_day(end)
        if last < first:
            return -self.between(last, first)
        days = (first + dt.timedelta(days=i) for i in range(1, (last - first).days + 1))
        return sum(1 for day in days if self.is_workday(day))

    def overdue(self, deadline: dt.datetime, now: dt.datetime) -> bool:
        """Whether ``now`` is past the deadline."""
        if deadline.tzinfo is None or now.tzinfo is None:
            raise ValueError("naive datetime: pass aware datetimes")
        return now > deadline


def _as_day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _check_disjoint(holidays: frozenset[dt.date], workdays: frozenset[dt.date]) -> None:
    both = sorted(holidays & workdays)
    if both:
        raise ValidationError("同一日期不能既是节假日又是工作日", code="calendar_conflict",
                              details={"dates": [d.isoformat() for d in both]})
