"""The workflow's deadlines, in working days of the exchange's calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .workdays import DeadlineConfig, WorkCalendar

OBJECTION_ANSWER_DAYS = 5


@dataclass(frozen=True)
class Deadlines:
    calendar: WorkCalendar
    config: DeadlineConfig = field(default_factory=DeadlineConfig)
    objection_days: int = OBJECTION_ANSWER_DAYS

    def review(self, now: dt.datetime) -> dt.datetime:
        """When the bureau must have reviewed what was submitted now."""
        return self.calendar.add(now, self.config.bureau_review_days)

    def answer(self, now: dt.datetime) -> dt.datetime:
        """When a provider must have answered a demand or application routed to it now."""
        return self.calendar.add(now, self.config.provider_answer_days)

    def objection(self, now: dt.datetime) -> dt.datetime:
        return self.calendar.add(now, self.objection_days)
