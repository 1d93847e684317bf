"""Tables as CSV or XLSX (pandas), with Chinese column headers; and workbooks of several sheets."""

from __future__ import annotations

import io
import re

import pandas as pd

from .figures import header

FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
COLUMN_LABELS = {
    "department_id": "部门ID", "department": "部门", "level": "层级", "day": "日期", "start": "开始日期",
    "end": "结束日期", "entry_id": "目录ID", "resource_code": "信息资源代码", "name": "信息资源名称",
    "provider": "提供方", "update_cycle": "更新周期", "last_updated": "最近更新日期", "status": "状态",
    "demand_id": "需求ID", "ref": "需求编号", "title": "需求名称", "requester": "需求部门", "deadline": "办理期限",
    "unmet_reason": "未满足原因", "flag_id": "问题ID", "kind": "问题类型", "opened_at": "发现时间", "age": "已开天数",
    "demands": "等待的需求数", "unmounted": "未挂接", "stale": "未按期更新", "overall": "总评",
    "figure": "指标", "value": "数值", "colour": "颜色",
}
SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def label(column: str) -> str:
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column.endswith("_colour"):
        return f"{header(column.removesuffix('_colour'))}（颜色）"
    return header(column)


def frame(rows: list[dict], columns: list[str] | None = None) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=columns or (list(rows[0]) if rows else None))
    for name in table.columns:  # time zones: Excel keeps none
        if isinstance(table[name].dtype, pd.DatetimeTZDtype):
            table[name] = table[name].dt.tz_convert("UTC").dt.tz_localize(None)
        elif table[name].map(lambda v: getattr(v, "tzinfo", None) is not None).any():
            table[name] = table[name].map(lambda v: v.replace(tzinfo=None) if v is not None else v)
    return table.rename(columns=label)


def table_bytes(rows: list[dict], fmt: str, *, sheet: str = "数据") -> bytes:
    buffer = io.BytesIO()
    if fmt == "csv":
        buffer.write(frame(rows).to_csv(index=False).encode("utf-8-sig"))
    else:
        with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
            frame(rows).to_excel(writer, sheet_name=sheet_name(sheet), index=False)
    return buffer.getvalue()


def sheet_name(text: str, taken: set[str] | None = None) -> str:
    """A valid, unique worksheet name: no []:*?/\\, at most 31 characters."""
    name = SHEET_NAME.sub("_", text)[:31] or "Sheet"
    if taken is not None:
        base, n = name, 2
        while name in taken:
            suffix = f"~{n}"
            name, n = base[:31 - len(suffix)] + suffix, n + 1
        taken.add(name)
    return name
