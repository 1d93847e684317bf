"""Reading a mounted resource's rows, projected to the granted columns, in batches.

Every reader checks its source when it is opened (the table or file is there, every granted column
exists, the API answered with data) and reads the first batch, so a failure is raised before a
response starts; the remaining rows are read lazily, a batch at a time, so memory stays flat:

- a table through a read-only SQLAlchemy engine, with a server-side cursor (``yield_per``),
  ordered by its primary key, paged with offset/limit;
- a stored CSV in pandas chunks, a stored XLSX row by row (openpyxl's read-only mode, which
  still keeps an emptied element per row read: ~100 bytes a row, at most 1,048,576 rows);
- an API's JSON (an array of objects, bare or under a key such as ``data``) or CSV, spooled by
  :mod:`.fetch` within time and size limits, then parsed incrementally (ijson).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO
from zipfile import BadZipFile, is_zipfile

import ijson
import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException
from python_calamine import CalamineError, CalamineWorkbook
from sqlalchemy import Engine, column, inspect, select
from sqlalchemy import table as sql_table
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from catalog.errors import MountFailed, ValidationError
from catalog.sources import parse_table_url, read_only_engine
from catalog.vocab import MountKind

from .errors import ColumnsMissing, NothingGranted, SourceMissing, SourceUnreadable
from .fetch import FetchLimits, download

MIB = 1 << 20
RECORD_KEYS = {"data", "rows", "records", "items", "list", "result", "results", "datalist", "content"}


@dataclass(frozen=True)
class DeliveryLimits:
    """How much one delivery may read, and how long it may wait for its source."""

    max_rows: int = 1_000_000
    batch_rows: int = 5_000
    connect_timeout: float = 10
    read_timeout: float = 30
    total_timeout: float = 300
    max_bytes: int = 200 * MIB  # largest API response accepted

    @classmethod
    def from_settings(cls, settings, **overrides) -> DeliveryLimits:
        """Timeouts from ``EXCHANGE_MOUNT_TIMEOUT``, the API size cap from ``EXCHANGE_MAX_UPLOAD_MB``."""
        base = cls(connect_timeout=settings.mount_timeout, max_bytes=settings.max_upload_mb * MIB)
        return replace(base, **overrides)

    @property
    def fetch(self) -> FetchLimits:
        return FetchLimits(self.connect_timeout, self.read_timeout, self.total_timeout, self.max_bytes)


@dataclass(frozen=True)
class Window:
    """Which rows: skip ``offset``, then at most ``limit`` (and never more than ``max_rows``)."""

    offset: int = 0
    limit: int | None = None

    def cap(self, limits: DeliveryLimits) -> int:
        if self.offset < 0 or (self.limit is not None and self.limit < 0):
            raise ValidationError("分页参数不能为负数", details={"offset": [self.offset], "limit": [self.limit]})
        return limits.max_rows if self.limit is None else min(self.limit, limits.max_rows)


class RowSource:
    """The granted columns and their rows in batches (lists of tuples), at most ``cap`` rows.

    ``truncated`` turns true when rows remained past the cap.  Iterate once; ``close()`` releases
    the connection or file early (iterating to the end releases it too).
    """

    def __init__(self, columns: list[str], batches: Iterator[list], *, cap: int):
        self.columns, self.cap, self.truncated = columns, cap, False
        self._batches = batches
        self._first = next(batches, [])  # opens the source: its errors are raised here

    def __iter__(self) -> Iterator[list]:
        left = self.cap
        try:
            for batch in itertools.chain([self._first], self._batches):
                if len(batch) > left:
                    self.truncated = True
                    yield from ([batch[:left]] if left else [])
                    return
                left -= len(batch)
                yield from ([batch] if batch else [])
        finally:
            self.close()

    def close(self) -> None:
        self._first = []
        self._batches.close()


def open_resource(resource, columns: Sequence[str], *, storage: Path,
                  limits: DeliveryLimits = DeliveryLimits(), window: Window = Window()) -> RowSource:
    """Open a ``MountedResource`` (table, stored file or API) for delivery of ``columns``."""
    if resource.unmounted_at is not None:
        raise SourceMissing("该资源已撤销挂接")
    options = {"limits": limits, "window": window}
    if resource.kind == MountKind.TABLE:
        return open_table(resource.url, resource.table_name, columns, **options)
    if resource.kind == MountKind.FILE:
        path = storage / (resource.file_key or "")
        return open_file(path, columns, name=resource.file_name, **options)
    return open_api(resource.url, columns, **options)


# -- tables ---------------------------------------------------------------------------------------


def open_table(url: str, table: str, columns: Sequence[str], *, limits: DeliveryLimits = DeliveryLimits(),
               window: Window = Window()) -> RowSource:
    granted, cap = granted_columns(columns), window.cap(limits)
    engine = _engine(url, limits)
    try:
        return RowSource(granted, _table_batches(engine, table, granted, window, limits), cap=cap)
    except BaseException:
        engine.dispose()
        raise


def _engine(url: str, limits: DeliveryLimits) -> Engine:
    parsed = parse_table_url(url)
    try:
        return read_only_engine(parsed, timeout=max(1, round(limits.connect_timeout)))
    except MountFailed as exc:  # a database file that is gone, or a database we cannot drive
        error = SourceMissing if parsed.get_backend_name() == "sqlite" else SourceUnreadable
        raise error(exc.message) from None


def _table_batches(engine: Engine, name: str, granted: list[str], window: Window,
                   limits: DeliveryLimits) -> Iterator[list]:
    try:
        with engine.connect() as connection:
            table, keys = _reflect(connection, name)
            check_columns(granted, list(table.columns.keys()), f"表“{name}”")
            query = _select(table, keys, granted, window.offset, window.cap(limits) + 1)
            result = connection.execution_options(yield_per=limits.batch_rows).execute(query)
            yield from result.partitions()
    except SQLAlchemyError as exc:
        raise SourceUnreadable(f"读取数据表“{name}”失败：{_reason(exc)}") from None
    finally:
        engine.dispose()


def _reflect(connection, name: str) -> tuple[TableClause, list[str]]:
    """The table's columns and primary key (nothing more is reflected)."""
    schema, _, bare = name.rpartition(".")
    inspector = inspect(connection)
    try:
        names = [c["name"] for c in inspector.get_columns(bare, schema=schema or None)]
        keys = inspector.get_pk_constraint(bare, schema=schema or None)["constrained_columns"]
    except NoSuchTableError:
        raise SourceMissing(f"数据库中已没有表“{name}”") from None
    return sql_table(bare, *[column(n) for n in names], schema=schema or None), keys


def _select(table: TableClause, keys: list[str], granted: list[str], offset: int, limit: int):
    """The granted columns in primary-key order (a stable order makes pages stable)."""
    query = select(*[table.c[name] for name in granted]).order_by(*[table.c[k] for k in keys])
    return query.offset(offset).limit(limit)


def _reason(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0]


# -- stored files ---------------------------------------------------------------------------------


def open_file(path: Path, columns: Sequence[str], *, name: str | None = None,
              limits: DeliveryLimits = DeliveryLimits(), window: Window = Window()) -> RowSource:
    """A stored CSV or XLSX (by its suffix); ``name`` is the file's name shown to users."""
    granted, cap = granted_columns(columns), window.cap(limits)
    if not path.is_file():
        raise SourceMissing(f"文件“{name or path.name}”已不在存储中")
    reader = _csv_batches if path.suffix.lower() == ".csv" else _xlsx_batches
    return RowSource(granted, reader(path, granted, window, limits.batch_rows), cap=cap)


def _csv_batches(source: Path | IO[bytes], granted: list[str], window: Window, size: int) -> Iterator[list]:
    options = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    try:
        header = pd.read_csv(source, nrows=0, **options).columns
        check_columns(granted, list(header), "文件")
        _rewind(source)
        skip = range(1, window.offset + 1)
        with pd.read_csv(source, usecols=granted, skiprows=skip, chunksize=size, **options) as chunks:
            for chunk in chunks:
                yield list(chunk[granted].fillna("").itertuples(index=False, name=None))
    except (ValueError, pd.errors.ParserError) as exc:
        raise SourceUnreadable(f"CSV 数据无法读取：{exc}") from None


def _rewind(source) -> None:
    if hasattr(source, "seek"):
        source.seek(0)


def _xlsx_batches(path: Path, granted: list[str], window: Window, size: int) -> Iterator[list]:
    with _worksheet_rows(path) as rows:
        header = [_text(v) for v in next(rows, ())]
        check_columns(granted, header, "文件")
        picks = [header.index(name) for name in granted]
        for batch in batched(itertools.islice(rows, window.offset, None), size):
            yield [tuple(_text(row[i]) if i < len(row) else "" for i in picks) for row in batch]


@contextmanager
def _worksheet_rows(path: Path) -> Iterator[Iterator[Sequence]]:
    """The first worksheet's rows, streamed by openpyxl's read-only mode; a legacy .xls (at most
    65,536 rows, not a zip) is read whole by calamine."""
    if not is_zipfile(path):
        yield _legacy_rows(path)
        return
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise SourceUnreadable(f"XLSX 文件无法读取：{exc}") from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read every row
        yield sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _legacy_rows(path: Path) -> Iterator[list]:
    try:
        with path.open("rb") as handle:
            return iter(CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0).to_python())
    except CalamineError as exc:
        raise SourceUnreadable(f"表格文件无法读取：{exc}") from None


def _text(value) -> str:
    """A spreadsheet cell as the text it shows (whole numbers without “.0”, dates without 00:00)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return "" if value is None else str(value)


# -- APIs -----------------------------------------------------------------------------------------


def open_api(url: str, columns: Sequence[str], *, limits: DeliveryLimits = DeliveryLimits(),
             window: Window = Window(), records: str | None = None) -> RowSource:
    """An API's response; ``records`` is the ijson path of the record array when it is not found
    by itself (a bare array, or an array under ``data``/``rows``/``records``/``list`` …)."""
    granted, cap = granted_columns(columns), window.cap(limits)
    fetched = download(url, limits.fetch)
    if fetched.kind == "csv":
        batches = _csv_batches(fetched.body, granted, window, limits.batch_rows)
    else:
        batches = _json_batches(fetched.body, granted, window, limits.batch_rows, records)
    try:
        return RowSource(granted, _closing(batches, fetched.body), cap=cap)
    except BaseException:
        fetched.body.close()
        raise


def _closing(batches: Iterator[list], body: IO[bytes]) -> Iterator[list]:
    try:
        yield from batches
    finally:
        batches.close()
        body.close()


def _json_batches(body: IO[bytes], granted: list[str], window: Window, size: int,
                  path: str | None) -> Iterator[list]:
    try:
        items = ijson.items(body, path or _records_path(body), use_float=True)
        first = next(items, None)
        if first is not None:
            check_columns(granted, list(_record(first)), "接口数据")
        records = itertools.islice(itertools.chain([first] if first is not None else [], items),
                                   window.offset, None)
        for batch in batched(records, size):
            yield [_project(_record(item), granted) for item in batch]
    except ijson.JSONError as exc:
        raise SourceUnreadable(f"接口返回的 JSON 格式错误：{exc}") from None


def _records_path(body: IO[bytes]) -> str:
    """Where the records are: the first array at the top or under a record key, else the first
    array of objects; the body is rewound after the scan."""
    fallback = None
    try:
        for prefix, event, _ in ijson.parse(body):
            if event == "start_array" and (not prefix or prefix.rsplit(".", 1)[-1].lower() in RECORD_KEYS):
                return f"{prefix}.item" if prefix else "item"
            if event == "start_map" and prefix.rpartition(".")[2] == "item" and fallback is None:
                fallback = prefix
    finally:
        body.seek(0)
    if fallback is None:
        raise SourceUnreadable("接口返回的 JSON 中没有数据记录（对象数组）")
    return fallback


def _record(item) -> dict:
    if not isinstance(item, dict):
        raise SourceUnreadable("接口返回的数据记录不是 JSON 对象")
    return item


def _project(record: dict, granted: list[str]) -> tuple:
    return tuple(_flat(record.get(name)) for name in granted)


def _flat(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


# -- shared ---------------------------------------------------------------------------------------


def granted_columns(columns: Iterable[str]) -> list[str]:
    """The granted column names, each once, in the order granted."""
    granted = list(dict.fromkeys(c for c in columns if c))
    if not granted:
        raise NothingGranted("授权中没有可交付的字段")
    return granted


def check_columns(granted: Sequence[str], available: Sequence[str], where: str) -> None:
    present = set(available)
    missing = [name for name in granted if name not in present]
    if missing:
        names = "、".join(f"“{name}”" for name in missing)
        raise ColumnsMissing(f"{where}中没有授权的字段 {names}", details={"columns": missing})


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
