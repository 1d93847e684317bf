"""From stored counts to the figures people read: rates, flags by kind and age, match figures.

Pure functions over ``{figure: value}`` dicts (a snapshot day's counts, and the period's sums of
the daily ``updates_expected`` and ``updates_actual``), so a summary, a department's row, a day of a
trend and a scorecard all derive their figures the same way.  :func:`derive` is the one definition
of every figure; the SQL that sorts departments by a figure (:mod:`.table`) computes the same
ratios, and a test holds the two together.
"""

from __future__ import annotations

from catalog.vocab import Vocabulary

from ..demands.models import MatchState, UnmetReason
from ..freshness.models import FlagKind
from .facts import AGE_BANDS


class Figure(Vocabulary):
    """The figures a dashboard shows, with their Chinese names (column headers of every export)."""

    ENTRIES = "entries", "目录数"
    MOUNTED = "mounted", "已挂接"
    UNMOUNTED = "unmounted", "未挂接"
    MOUNTED_RATE = "mounted_rate", "挂接率"
    SCHEDULED = "scheduled", "按周期考核目录"
    TIMELY = "timely", "按期更新目录"
    UNSCHEDULED = "unscheduled", "不定期/不更新目录"
    UPDATES_EXPECTED = "updates_expected", "应更新次数"
    UPDATES_ACTUAL = "updates_actual", "实际更新次数"
    TIMELY_RATE = "timely_rate", "更新及时率"
    FLAGS_OPEN = "flags_open", "未解决问题"
    STALE_RATE = "stale_rate", "未按期更新占比"
    DEMANDS = "demands", "需求数"
    DEMANDS_SUGGESTED = "demands_suggested", "有建议匹配的需求"
    DEMANDS_CONFIRMED_MOUNTED = "demands_confirmed_mounted", "数源确认且已挂接的需求"
    SUGGESTIONS_CONFIRMED = "suggestions_confirmed", "确认的建议"
    SUGGESTIONS_REJECTED = "suggestions_rejected", "拒绝的建议"
    SUGGESTIONS_PENDING = "suggestions_pending", "待确认的建议"
    DEMANDS_DECIDED = "demands_decided", "已办结需求"
    DEMANDS_SATISFIED = "demands_satisfied", "已满足需求"
    SATISFACTION_RATE = "satisfaction_rate", "需求满足率"
    ANSWERED = "answered", "已答复需求"
    MEDIAN_ANSWER_DAYS = "median_answer_days", "答复时长中位数（天）"
    OVERDUE = "overdue", "逾期需求"


RATES = {Figure.MOUNTED_RATE, Figure.TIMELY_RATE, Figure.STALE_RATE, Figure.SATISFACTION_RATE}


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def capped_ratio(part: float, whole: float) -> float | None:
    """``part / whole`` at most 1 (None when ``whole`` is 0): actual against expected updates."""
    return round(min(1.0, part / whole), 4) if whole else None


KINDS = [kind.value for kind in FlagKind]
BANDS = [band for band, _ in AGE_BANDS]
SUGGESTIONS = {state: f"suggestions:{state.value}" for state in MatchState}
REASONS = [(reason.value, f"unmet:{reason.value}") for reason in UnmetReason]


def derive(stock: dict[str, float], flows: dict[str, float]) -> dict:
    """Every figure from a day's counts (``stock``) and the period's daily sums (``flows``)."""
    n = lambda name: int(stock.get(name, 0))  # noqa: E731
    cells = {(kind, band): n(f"flags:{kind}:{band}") for kind in KINDS for band in BANDS}
    flags = {kind: sum(cells[kind, band] for band in BANDS) for kind in KINDS}
    ages = {band: sum(cells[kind, band] for kind in KINDS) for band in BANDS}
    median = stock.get("answer_days_median")
    figures = {
        "entries": n("entries"), "mounted": n("mounted"), "unmounted": n("entries") - n("mounted"),
        "mounted_rate": ratio(n("mounted"), n("entries")),
        "scheduled": n("scheduled"), "timely": n("timely"), "unscheduled": n("unscheduled"),
        "updates_expected": round(flows.get("updates_expected", 0), 2),
        "updates_actual": round(flows.get("updates_actual", 0), 2),
        "timely_rate": capped_ratio(flows.get("updates_actual", 0), flows.get("updates_expected", 0)),
        "flags_open": sum(flags.values()), "flags_by_kind": flags, "flags_by_age": ages,
        "stale_rate": ratio(flags.get("stale", 0), n("entries")),
        "demands": n("demands"), "demands_suggested": n("demands_suggested"),
        "demands_confirmed_mounted": n("demands_confirmed_mounted"),
        "suggestions_confirmed": n(SUGGESTIONS[MatchState.CONFIRMED]),
        "suggestions_rejected": n(SUGGESTIONS[MatchState.REJECTED]),
        "suggestions_pending": n(SUGGESTIONS[MatchState.SUGGESTED]),
        "demands_decided": n("demands_decided"), "demands_satisfied": n("demands_satisfied"),
        "satisfaction_rate": ratio(n("demands_satisfied"), n("demands_decided")),
        "answered": n("answered"), "median_answer_days": None if median is None else round(median, 2),
        "overdue": n("overdue"),
        "unmet_by_reason": {reason: n(key) for reason, key in REASONS},
    }
    return figures


def flat(figures: dict) -> dict:
    """One level of keys (for a table row): nested counts become ``flags_by_kind.stale`` …"""
    row = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            row.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            row[key] = value
    return row


def header(key: str) -> str:
    """The Chinese column header of a flat figure key."""
    group, _, member = key.partition(".")
    if not member:
        try:
            return Figure(key).label
        except ValueError:
            return key
    labels = {"flags_by_kind": lambda m: f"问题：{FlagKind(m).label}",
              "flags_by_age": lambda m: f"问题已开 {m} 天",
              "unmet_by_reason": lambda m: f"未满足：{UnmetReason(m).label}"}
    return labels[group](member) if group in labels else key
