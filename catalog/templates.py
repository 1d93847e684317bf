"""The national templates: catalog, data elements and departments, as CSV or XLSX.

Headers are Chinese as in the templates departments already fill in; English aliases (the
field names, and a few common spellings) are accepted.  A leading ``*`` (required mark) and
surrounding spaces are ignored.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter

from .errors import ImportFailed

SHEET_NAMES = {"catalog": "信息资源目录", "elements": "数据元", "departments": "部门", "demands": "数据需求", "synonyms": "同义词"}


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    kind: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def header_of(self, field_name: str) -> str:
        for column in self.columns:
            if column.field == field_name:
                return column.header
        return field_name

    def lookup(self) -> dict[str, Column]:
        table = {}
        for column in self.columns:
            for key in (column.header, column.field, *column.aliases):
                table[_key(key)] = column
        return table


CATALOG = Template("catalog", (
    Column("resource_code", "信息资源代码", aliases=("code", "resource code", "资源代码")),
    Column("name", "信息资源名称", True, ("resource_name", "title", "资源名称")),
    Column("provider", "信息资源提供方", True, ("department", "provider name", "提供方")),
    Column("provider_code", "信息资源提供方代码", aliases=("provider code", "提供方代码")),
    Column("summary", "信息资源摘要", True, ("description", "摘要")),
    Column("category", "信息资源分类", aliases=("classification", "分类")),
    Column("format", "信息资源格式", True, ("资源格式",)),
    Column("items", "信息项", aliases=("fields", "信息项名称")),
    Column("sharing_type", "共享类型", True, ("sharing", "共享属性")),
    Column("sharing_condition", "共享条件", aliases=("condition",)),
    Column("not_shared_basis", "不予共享依据", aliases=("basis", "not shared basis")),
    Column("sharing_method", "共享方式", aliases=("method",)),
    Column("open_attribute", "开放属性", aliases=("open", "是否向社会开放")),
    Column("update_cycle", "更新周期", True, ("cycle", "update frequency", "更新频率")),
    Column("publish_date", "发布日期", aliases=("published", "publish date")),
    Column("last_updated", "最近更新日期", aliases=("updated", "last updated", "更新日期")),
    Column("related_codes", "关联资源代码", aliases=("related", "related codes")),
))

ELEMENTS = Template("elements", (
    Column("identifier", "标识符", aliases=("id", "内部标识符", "数据元标识符")),
    Column("name", "中文名称", True, ("数据元名称", "名称", "数据项名称")),
    Column("english_name", "英文名称", aliases=("english name",)),
    Column("definition", "定义", aliases=("说明", "备注")),
    Column("data_type", "数据类型", aliases=("datatype", "data type")),
    Column("format", "表示格式", aliases=("格式",)),
    Column("value_domain", "值域", aliases=("value domain",)),
    Column("synonyms", "同义名称", aliases=("同义词", "别名")),
    Column("source", "来源", aliases=("标准", "出处")),
))

DEPARTMENTS = Template("departments", (
    Column("name", "部门名称", True, ("department", "名称", "单位名称")),
    Column("code", "统一社会信用代码", aliases=("uscc", "credit code", "信用代码")),
    Column("level", "层级", aliases=("级别", "行政层级")),
    Column("region_code", "行政区划代码", aliases=("region", "region code", "区划代码")),
    Column("parent", "上级部门", aliases=("parent department", "上级")),
))


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lstrip("*").strip().lower().replace(" ", "").replace("_", "")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an imported file: where (row, column), what was there, and why."""

    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"“{self.column}”列")
        value = f"（值：{self.value[:40]}）" if self.value else ""
        return f"{''.join(where) or '文件'}：{self.message}{value}"


@dataclass
class Sheet:
    """A read template: rows as dicts keyed by field name, with their spreadsheet row numbers."""

    template: Template
    frame: pd.DataFrame
    ignored_headers: list[str] = field(default_factory=list)
    first_row: int = 2

    def records(self):
        """(spreadsheet row number, {field: cell text}) for every row, header being row 1."""
        fields = list(self.frame.columns)
        columns = [self.frame[name].tolist() for name in fields]
        for offset, cells in enumerate(zip(*columns)):
            yield self.first_row + offset, dict(zip(fields, cells))

    def __len__(self) -> int:
        return len(self.frame)


def file_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "xlsx"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ImportFailed("不支持的文件类型", problems=[Problem(f"文件“{filename}”应为 .xlsx 或 .csv")])


def read_sheet(source, *, filename: str, template: Template, max_bytes: int, sheet: str | None = None) -> Sheet:
    """Read a template file into a Sheet, or raise ImportFailed saying what is wrong with it."""
    data = source.read_bytes() if isinstance(source, Path) else source.read()
    if len(data) > max_bytes:
        raise ImportFailed("文件过大", problems=[Problem(f"文件大小超过上限 {max_bytes >> 20} MiB")])
    if not data.strip():
        raise ImportFailed("文件为空", problems=[Problem("文件没有内容")])
    kind = file_format(filename)
    frame = _read_csv(data) if kind == "csv" else _read_xlsx(data, template, sheet)
    return _map_headers(frame, template)


def _read_csv(data: bytes) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ImportFailed("CSV 文件格式错误", problems=[Problem(f"无法解析 CSV：{exc}")]) from None
    raise ImportFailed("无法识别文件编码", problems=[Problem("CSV 文件应为 UTF-8 或 GB18030 编码")])


def _read_xlsx(data: bytes, template: Template, sheet: str | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="calamine")
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types for corrupt files
        raise ImportFailed("Excel 文件无法打开", problems=[Problem(f"不是有效的 xlsx 文件：{exc}")]) from None
    names = [str(n) for n in book.sheet_names]
    preferred = SHEET_NAMES.get(template.kind)
    wanted = sheet or (preferred if preferred in names else names[0])
    if wanted not in names:
        problem = Problem(f"找不到工作表“{wanted}”，文件中有：{'、'.join(names)}")
        raise ImportFailed("工作表不存在", problems=[problem])
    frame = pd.read_excel(book, sheet_name=wanted, dtype=str).fillna("")
    frame.attrs["sheet"] = wanted
    return frame


def _map_headers(frame: pd.DataFrame, template: Template) -> Sheet:
    lookup = template.lookup()
    renames, ignored, seen, problems = {}, [], {}, []
    for header in frame.columns:
        column = lookup.get(_key(header))
        if column is None:
            ignored.append(str(header))
        elif column.field in seen:
            problems.append(Problem(f"列“{header}”与“{seen[column.field]}”重复", column=str(header)))
        else:
            renames[header] = column.field
            seen[column.field] = str(header)
    missing = [c.header for c in template.columns if c.required and c.field not in seen]
    if missing:
        where = f"（工作表“{frame.attrs['sheet']}”）" if "sheet" in frame.attrs else ""
        problems.append(Problem(f"缺少必需的列{where}：{'、'.join(missing)}"))
    if problems:
        raise ImportFailed("表头不符合模板", problems=problems)
    frame = frame[list(renames)].rename(columns=renames)
    return Sheet(template=template, frame=frame, ignored_headers=ignored)


def write_sheet(frame: pd.DataFrame, target, *, template: Template, fmt: str | None = None) -> None:
    """Write rows (keyed by field) under the template's Chinese headers, as CSV or XLSX, to a path
    (format from its suffix) or a binary stream (``fmt``)."""
    out = frame.reindex(columns=[c.field for c in template.columns]).rename(
        columns={c.field: c.header for c in template.columns}
    )
    if (fmt or file_format(target.name)) == "csv":
        out.to_csv(target, index=False, encoding="utf-8-sig")
    else:
        _write_xlsx(out, target, SHEET_NAMES[template.kind])


def _write_xlsx(frame: pd.DataFrame, target, sheet_name: str) -> None:
    """Row by row in xlsxwriter's constant-memory mode: several times faster than DataFrame.to_excel."""
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": not isinstance(target, Path)})
    sheet = book.add_worksheet(sheet_name)
    sheet.write_row(0, 0, list(frame.columns), book.add_format({"bold": True}))
    columns = [frame[c].astype(object).where(frame[c].notna(), "").tolist() for c in frame.columns]
    for number, row in enumerate(zip(*columns), start=1):
        sheet.write_row(number, 0, row)
    book.close()
