"""The monthly assessment workbook (考核): a sheet per figure, a scorecard sheet per department,
and the lists of stale, unmounted and overdue items.

Figures come from the month's snapshots (stock figures from its last snapshot day, the
timely-update rate from all its days); the lists are as they stand when the report is made.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from catalog.errors import CatalogError, ValidationError

from ..freshness.models import FlagKind
from . import lists, scorecards, services
from .exporting import frame, label, sheet_name
from .facts import Moment
from .figures import flat
from .services import Period, Scope

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIGURE_SHEETS = {
    "挂接率": ["entries", "mounted", "unmounted", "mounted_rate"],
    "更新及时率": ["scheduled", "timely", "unscheduled", "updates_expected", "updates_actual", "timely_rate"],
    "目录问题": ["flags_open", "flags_by_kind.", "flags_by_age.", "stale_rate"],
    "供需对接": ["demands", "demands_suggested", "demands_confirmed_mounted", "suggestions_confirmed",
                 "suggestions_rejected", "suggestions_pending"],
    "需求满足率": ["demands_decided", "demands_satisfied", "satisfaction_rate"],
    "答复时长": ["answered", "median_answer_days"],
    "逾期需求": ["overdue"],
    "未满足原因": ["unmet_by_reason."],
}
LISTS = (("未按期更新目录", "flags", {"flag_kind": FlagKind.STALE.value}), ("未挂接目录", "unmounted", {}),
         ("逾期需求清单", "overdue", {}))


class ReportFailed(CatalogError):
    code = "report_failed"


def month_period(month: str | None, *, today: dt.date) -> Period:
    """``YYYY-MM`` as a period; by default the month before ``today``'s."""
    if month is None:
        last = today.replace(day=1) - dt.timedelta(days=1)
        return Period(last.replace(day=1), last)
    found = MONTH.match(month.strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise ValidationError(f"月份“{month}”不正确，应为 YYYY-MM，如 2026-10", details={"month": ["格式为 YYYY-MM"]})
    first = dt.date(int(found[1]), int(found[2]), 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))


def write_report(session: Session, *, target: Path, period: Period, moment: Moment) -> dict:
    """Write the workbook to ``target``; the counts of what it holds."""
    if target.suffix.lower() != ".xlsx":
        raise ReportFailed(f"报告须为 .xlsx 文件：{target}")
    if services.snapshot_day(session, Scope(), period) is None:
        raise ReportFailed(f"{period.start:%Y-%m} 没有每日快照，无法生成考核报告"
                           "（快照由 dashboard-snapshot 任务每日生成，也可运行 exchange jobs run dashboard-snapshot）")
    sheets = _sheets(session, period, moment)
    try:
        with pd.ExcelWriter(target, engine="xlsxwriter") as writer:
            taken: set[str] = set()
            for name, table in sheets:
                title = sheet_name(name, taken)
                table.to_excel(writer, sheet_name=title, index=False)
                _colour_cells(writer, writer.sheets[title], table)
    except OSError as exc:
        raise ReportFailed(f"无法写入 {target}：{exc.strerror or exc}") from None
    return {"sheets": len(sheets), "departments": sum(1 for name, _ in sheets if name.startswith("考核-"))}


def _sheets(session: Session, period: Period, moment: Moment) -> list[tuple[str, pd.DataFrame]]:
    overall = flat(services.summary(session, scope=Scope(), period=period)["figures"])
    rows = services.department_rows(session, scope=Scope(), period=period)
    limits = scorecards.thresholds(session)
    sheets = [("总览", _overview(overall, period))]
    for name, keys in FIGURE_SHEETS.items():
        columns = ["department", "level"] + [k for k in (rows[0] if rows else {}) if _wanted(k, keys)]
        sheets.append((name, frame(rows, columns)))
    scored = [_labelled(scorecards.score(row, limits)) for row in rows]
    sheets.append(("考核总表", frame(scored)))
    sheets += [(f"考核-{row['department']}", _scorecard(row, limits)) for row in rows]
    for name, figure, options in LISTS:
        page = lists.drilldown(session, figure=figure, scope=Scope(), moment=moment, page_size=None, **options)
        sheets.append((name, frame(page.items)))
    return sheets


CELL_COLOURS = {"红": "#F4B6B6", "黄": "#FCE8A6", "绿": "#B9E4C1"}


def _labelled(row: dict) -> dict:
    """Colours as the sheet shows them: 红, 黄, 绿, 无数据."""
    return {k: scorecards.COLOUR_LABELS.get(v, v) if k.endswith("_colour") or k == "overall" else v
            for k, v in row.items()}


def _colour_cells(writer, sheet, table: pd.DataFrame) -> None:
    """Fill the cells that say 红, 黄 or 绿 with their colour."""
    if table.empty:
        return
    for text, colour in CELL_COLOURS.items():
        sheet.conditional_format(1, 0, len(table), len(table.columns) - 1, {
            "type": "cell", "criteria": "==", "value": f'"{text}"',
            "format": writer.book.add_format({"bg_color": colour})})


def _wanted(key: str, keys: list[str]) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in keys)


def _overview(figures: dict, period: Period) -> pd.DataFrame:
    rows = [{"figure": "统计期间", "value": f"{period.start} 至 {period.end}"}]
    rows += [{"figure": label(key), "value": value} for key, value in figures.items()]
    return frame(rows)


def _scorecard(row: dict, limits: list) -> pd.DataFrame:
    lines = [{"figure": t.label, "value": row.get(t.figure), "green": t.green, "yellow": t.yellow,
              "colour": scorecards.COLOUR_LABELS[t.colour(row.get(t.figure))]} for t in limits]
    overall = scorecards.score(row, limits)["overall"]
    lines.append({"figure": "总评", "value": None, "green": None, "yellow": None,
                  "colour": scorecards.COLOUR_LABELS[overall]})
    return frame(lines).rename(columns={"green": "绿灯阈值", "yellow": "黄灯阈值"})
