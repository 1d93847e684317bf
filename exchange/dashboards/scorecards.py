"""Scorecards: the bureau's thresholds turn each department's figures red, yellow or green.

Thresholds live in ``scorecard_thresholds``; a figure the bureau never set uses the default here.
Higher is better for the rates of mounting, timely updates and satisfaction; lower is better for
the share of stale entries and the number of overdue demands.  A department's overall colour is
its worst figure's; a figure with nothing to judge (no entries, no decided demands) is grey.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.actors import Actor
from catalog.errors import Conflict, NotFound, ValidationError

from .figures import RATES, Figure
from .models import ScorecardThreshold
from .services import require_bureau

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"
COLOUR_LABELS = {GREEN: "绿", YELLOW: "黄", RED: "红", GREY: "无数据"}
RANK = {GREEN: 0, GREY: 0, YELLOW: 1, RED: 2}


@dataclass(frozen=True)
class Threshold:
    figure: str
    green: float
    yellow: float
    higher_is_better: bool
    lock_version: int = 0  # 0: the default, never set by the bureau

    @property
    def label(self) -> str:
        return Figure(self.figure).label

    def colour(self, value: float | None) -> str:
        if value is None:
            return GREY
        better = (lambda a, b: a >= b) if self.higher_is_better else (lambda a, b: a <= b)
        return GREEN if better(value, self.green) else YELLOW if better(value, self.yellow) else RED

    def as_dict(self) -> dict:
        return {"figure": self.figure, "label": self.label, "green": self.green, "yellow": self.yellow,
                "higher_is_better": self.higher_is_better, "lock_version": self.lock_version}


DEFAULTS = {t.figure: t for t in (
    Threshold("mounted_rate", 0.9, 0.6, True),
    Threshold("timely_rate", 0.9, 0.7, True),
    Threshold("satisfaction_rate", 0.8, 0.6, True),
    Threshold("stale_rate", 0.05, 0.2, False),
    Threshold("overdue", 0, 2, False),
)}


def thresholds(session: Session) -> list[Threshold]:
    stored = {row.figure: row for row in session.scalars(select(ScorecardThreshold))}
    return [Threshold(name, row.green, row.yellow, default.higher_is_better, row.lock_version)
            if (row := stored.get(name)) else default for name, default in DEFAULTS.items()]


def set_threshold(session: Session, *, actor: Actor, figure: str, green: float, yellow: float,
                  lock_version: int, now: dt.datetime) -> Threshold:
    """Change one figure's thresholds (the bureau); ``lock_version`` is the one read (0: the default)."""
    require_bureau(actor, "设置考核阈值")
    default = DEFAULTS.get(figure)
    if default is None:
        raise NotFound(f"没有可考核的指标“{figure}”", details={"figure": list(DEFAULTS)})
    _check(default, green, yellow)
    row = session.get(ScorecardThreshold, figure)
    current = row.lock_version if row else 0
    if lock_version != current:
        raise Conflict("阈值已被他人修改，请刷新后重试", details={"lock_version": current}, code="stale_version")
    if row is None:
        row = ScorecardThreshold(figure=figure)
        session.add(row)
    row.green, row.yellow, row.updated_at, row.updated_by = green, yellow, now, actor.user_id
    session.flush()
    return Threshold(figure, green, yellow, default.higher_is_better, row.lock_version)


def _check(default: Threshold, green: float, yellow: float) -> None:
    problems = {}
    if Figure(default.figure) in RATES:
        for name, value in (("green", green), ("yellow", yellow)):
            if not 0 <= value <= 1:
                problems[name] = ["比率阈值应在 0 到 1 之间"]
    elif min(green, yellow) < 0:
        problems["green"] = ["阈值不能为负"]
    if default.higher_is_better and green < yellow:
        problems["yellow"] = ["越高越好的指标，黄灯阈值不能高于绿灯阈值"]
    if not default.higher_is_better and green > yellow:
        problems["yellow"] = ["越低越好的指标，黄灯阈值不能低于绿灯阈值"]
    if problems:
        raise ValidationError("考核阈值不正确", details=problems)


def score(row: dict, limits: list[Threshold]) -> dict:
    """A department's row with a colour per judged figure and its overall colour (the worst)."""
    colours = {t.figure: t.colour(row.get(t.figure)) for t in limits}
    judged = [c for c in colours.values() if c != GREY]
    overall = max(judged, key=RANK.__getitem__) if judged else GREY
    return {"department_id": row.get("department_id"), "department": row.get("department"),
            "level": row.get("level"), **{t.figure: row.get(t.figure) for t in limits},
            **{f"{name}_colour": colour for name, colour in colours.items()}, "overall": overall}
