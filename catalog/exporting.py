"""Export the catalog in the national template (so export → import round-trips), and write the
error workbook that tells a department exactly which cells of its file to fix."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .models import Department, InfoItem
from .rules import ITEM_SEPARATOR, ItemData
from .services import EntryFilter, apply_filters, visible_entries
from .templates import CATALOG, Problem, Template, write_sheet

LABELLED = ("sharing_type", "sharing_method", "open_attribute", "update_cycle")


def catalog_frame(session: Session, *, actor: Actor, filters: EntryFilter | None = None) -> pd.DataFrame:
    """Every visible entry as one template row (items joined with ``|``)."""
    entries = apply_filters(visible_entries(actor), filters or EntryFilter(), session=session).subquery()
    e = entries.c
    stmt = (
        select(
            e.id, e.resource_code, e.name, Department.name.label("provider"),
            Department.code.label("provider_code"), e.summary, e.category, e.classification_code,
            e.format, e.format_detail, e.sharing_type, e.sharing_condition, e.not_shared_basis,
            e.sharing_method, e.open_attribute, e.update_cycle, e.publish_date, e.last_updated,
            e.related_codes,
        )
        .join(Department, Department.id == e.provider_id)
        .order_by(e.resource_code)
    )
    rows = session.execute(stmt).mappings().all()
    items = _items_by_entry(session, entries)
    return pd.DataFrame([_template_row(row, items.get(row["id"], [])) for row in rows],
                        columns=[c.field for c in CATALOG.columns])


def _items_by_entry(session: Session, entries) -> dict[int, list[str]]:
    t = InfoItem.__table__.c
    stmt = (
        select(t.entry_id, t.name, t.data_type, t.length)
        .where(t.entry_id.in_(select(entries.c.id)))
        .order_by(t.entry_id, t.position)
    )
    out: dict[int, list[str]] = defaultdict(list)
    for entry_id, name, dtype, length in session.execute(stmt):
        out[entry_id].append(ItemData(name, dtype, length).as_template())
    return out


def _template_row(row, items: list[str]) -> dict:
    values = {c.field: row.get(c.field) for c in CATALOG.columns if c.field in row}
    values["category"] = _joined(row["category"].label, row["classification_code"])
    values["format"] = _joined(row["format"].label, row["format_detail"])
    for name in LABELLED:
        values[name] = row[name].label if row[name] is not None else None
    for name in ("publish_date", "last_updated"):
        values[name] = row[name].isoformat() if row[name] else None
    values["related_codes"] = ITEM_SEPARATOR.join(row["related_codes"] or [])
    values["items"] = ITEM_SEPARATOR.join(items)
    return values


def _joined(label: str, detail: str | None) -> str:
    return f"{label}/{detail}" if detail else label


def export_catalog(session: Session, *, actor: Actor, target: Path | BinaryIO, fmt: str | None = None,
                   filters: EntryFilter | None = None) -> int:
    """Write the visible entries to a file (format from its suffix) or a binary stream (``fmt``)."""
    frame = catalog_frame(session, actor=actor, filters=filters)
    write_sheet(frame, target, template=CATALOG, fmt=fmt)
    return len(frame)


def write_error_workbook(problems: list[Problem], target: Path, *, template: Template, rows=None) -> Path:
    """An xlsx a department can fix from: the list of problems, and its bad rows with the cells marked.

    ``rows`` maps a spreadsheet row number to the row's values keyed by field name.
    """
    with pd.ExcelWriter(target, engine="xlsxwriter") as writer:
        listing = pd.DataFrame(
            [{"行号": p.row, "列": p.column, "单元格内容": p.value, "问题": p.message} for p in problems]
        )
        listing.to_excel(writer, index=False, sheet_name="错误清单")
        writer.sheets["错误清单"].set_column(0, 1, 14)
        writer.sheets["错误清单"].set_column(2, 3, 60)
        if rows:
            _marked_rows(writer, problems, template, rows)
    return target


def _marked_rows(writer, problems: list[Problem], template: Template, rows: dict) -> None:
    numbers = sorted({p.row for p in problems if p.row is not None and p.row in rows})
    headers = ["原行号", *template.headers, "问题"]
    sheet = writer.book.add_worksheet("出错的行")
    bad = writer.book.add_format({"bg_color": "#FFC7CE"})
    sheet.write_row(0, 0, headers)
    by_row: dict[int, list[Problem]] = defaultdict(list)
    for p in problems:
        by_row[p.row].append(p)
    for out_row, number in enumerate(numbers, start=1):
        marked = {p.column for p in by_row[number]}
        sheet.write(out_row, 0, number)
        for col, column in enumerate(template.columns, start=1):
            value = rows[number].get(column.field, "")
            sheet.write(out_row, col, "" if value is None else str(value),
                        bad if column.header in marked else None)
        sheet.write(out_row, len(headers) - 1, "；".join(p.message for p in by_row[number]))
