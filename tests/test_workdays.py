"""Working-day deadlines on the official calendar (2025 and 2026 State Council schedules)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from catalog.errors import ValidationError
from exchange.config import Settings
from exchange.workdays import DeadlineConfig, WorkCalendar

CST = ZoneInfo("Asia/Shanghai")
D = dt.date


def cst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=CST)


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.mark.parametrize(("day", "worked"), [
    (D(2025, 9, 26), True),    # Friday before the National Day holiday
    (D(2025, 9, 27), False),   # plain Saturday
    (D(2025, 9, 28), True),    # Sunday worked in lieu (调休)
    (D(2025, 10, 1), False),   # National Day
    (D(2025, 10, 8), False),   # last day of the 2025 National Day and Mid-Autumn holiday
    (D(2025, 10, 11), True),   # Saturday worked in lieu
    (D(2025, 10, 12), False),  # Sunday
    (D(2026, 2, 14), True),    # Saturday worked before the Spring Festival
    (D(2026, 2, 16), False),   # Spring Festival, a Monday
    (D(2026, 2, 28), True),    # Saturday worked after the Spring Festival
    (D(2026, 10, 7), False),   # National Day holiday
    (D(2026, 10, 10), True),   # Saturday worked in lieu
])
def test_official_holidays_and_adjusted_workdays(calendar, day, worked):
    assert calendar.is_workday(day) is worked


@pytest.mark.parametrize(("filed", "n", "due"), [
    (cst(2025, 9, 26, 10), 2, D(2025, 9, 29)),     # Friday before National Day; Sunday 9-28 is worked
    (cst(2025, 9, 26, 10), 10, D(2025, 10, 16)),   # across the eight-day holiday, Saturday 10-11 counts
    (cst(2025, 9, 30, 17), 2, D(2025, 10, 10)),    # filed on the eve of the holiday
    (cst(2026, 10, 9, 9), 1, D(2026, 10, 10)),     # the adjusted Saturday is the next working day
    (cst(2026, 2, 13, 9), 2, D(2026, 2, 24)),      # Saturday 2-14 worked, then the Spring Festival
    (cst(2026, 5, 8, 9), 1, D(2026, 5, 9)),        # Saturday 5-9 worked after Labour Day
    (D(2025, 10, 1), 0, D(2025, 10, 9)),           # zero days from a holiday: the next working day
    (D(2025, 9, 26), 0, D(2025, 9, 26)),           # zero days from a working day: that day
    (dt.datetime(2025, 9, 25, 17, tzinfo=dt.UTC), 2, D(2025, 9, 29)),  # already Friday in Shanghai
])
def test_deadline_is_the_end_of_the_nth_working_day(calendar, filed, n, due):
    assert calendar.add(filed, n) == end_of(due)


@pytest.mark.parametrize(("holidays", "workdays", "filed", "n", "due"), [
    ({D(2025, 9, 29)}, (), D(2025, 9, 26), 2, D(2025, 9, 30)),     # an extra holiday shifts it
    ({D(2025, 9, 28)}, (), D(2025, 9, 26), 2, D(2025, 9, 30)),     # the bureau rests on the 调休 day
    ((), {D(2025, 11, 1)}, D(2025, 10, 31), 1, D(2025, 11, 1)),    # an extra working Saturday
    ((), {D(2025, 10, 2)}, D(2025, 9, 30), 1, D(2025, 10, 2)),     # a holiday the bureau works
])
def test_configured_days_override_the_official_schedule(holidays, workdays, filed, n, due):
    calendar = WorkCalendar(holidays=holidays, workdays=workdays)
    assert calendar.add(filed, n) == end_of(due)


@pytest.mark.parametrize(("start", "end", "count"), [
    (end_of(D(2025, 9, 29)), cst(2025, 9, 29, 23), 0),    # not yet past the deadline day
    (end_of(D(2025, 9, 29)), cst(2025, 10, 9, 9), 2),     # 9-30 and 10-9; the holiday is not counted
    (end_of(D(2025, 9, 29)), cst(2025, 10, 13, 9), 5),    # … 10-10, Saturday 10-11, Monday 10-13
    (cst(2025, 10, 13, 9), end_of(D(2025, 9, 29)), -5),   # reversed: working days remaining, negative
    (D(2026, 2, 13), D(2026, 2, 24), 2),                  # the Spring Festival week counts 2-14 and 2-24
])
def test_working_days_between(calendar, start, end, count):
    assert calendar.between(start, end) == count


@pytest.mark.parametrize(("now", "late"), [
    (cst(2025, 9, 29, 23, 59), False),
    (cst(2025, 9, 30, 0, 0, 1), True),
    (dt.datetime(2025, 9, 29, 16, 30, tzinfo=dt.UTC), True),   # 00:30 on 9-30 in Shanghai
    (dt.datetime(2025, 9, 29, 15, 30, tzinfo=dt.UTC), False),  # 23:30 on 9-29 in Shanghai
])
def test_overdue_after_the_end_of_the_deadline_day(calendar, now, late):
    assert calendar.overdue(calendar.add(D(2025, 9, 26), 2), now) is late


def test_default_deadlines_are_two_and_ten_working_days(calendar):
    config = DeadlineConfig()
    filed = cst(2025, 9, 26, 15)
    assert (config.bureau_review_days, config.provider_answer_days) == (2, 10)
    assert calendar.add(filed, config.provider_answer_days) == end_of(D(2025, 10, 16))


def test_a_year_past_the_official_schedule_counts_weekends_only(caplog):
    calendar = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger="exchange.workdays"):
        due = calendar.add(D(2099, 12, 30), 2)  # Wednesday → Thursday 12-31, Friday 1-1
    assert due == end_of(D(2100, 1, 1))
    assert not calendar.is_official(D(2100, 1, 1)) and calendar.is_official(D(2026, 1, 1))
    assert "2100 年的法定节假日安排尚未收录" in caplog.text


def test_without_the_official_schedule_only_weekends_rest():
    calendar = WorkCalendar(use_official=False)
    assert calendar.is_workday(D(2025, 10, 1)) and not calendar.is_workday(D(2025, 9, 28))


def test_a_date_both_holiday_and_workday_is_refused():
    with pytest.raises(ValidationError) as caught:
        WorkCalendar(holidays={D(2025, 9, 29)}, workdays={D(2025, 9, 29)})
    assert caught.value.code == "calendar_conflict"
    assert caught.value.details == {"dates": ["2025-09-29"]}


def test_the_time_zone_comes_from_the_settings():
    calendar = WorkCalendar.from_settings(Settings(timezone="UTC"))
    filed = dt.datetime(2025, 9, 25, 17, tzinfo=dt.UTC)  # still Thursday in UTC
    assert calendar.add(filed, 2) == dt.datetime.combine(D(2025, 9, 28), dt.time.max, tzinfo=dt.UTC)


@pytest.mark.parametrize("call", [
    lambda c: c.add(dt.datetime(2025, 9, 26, 10), 2),
    lambda c: c.add(D(2025, 9, 26), -1),
    lambda c: c.overdue(dt.datetime(2025, 9, 26), cst(2025, 9, 26)),
])
def test_naive_times_and_negative_counts_are_programming_errors(calendar, call):
    with pytest.raises(ValueError):
        call(calendar)
