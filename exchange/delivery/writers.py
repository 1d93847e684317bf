"""Writing a :class:`~.readers.RowSource` as CSV, JSON or XLSX: generators of bytes chunks.

Each writer fills a :class:`DeliveryStats` as it runs (rows, bytes, whether rows remained past the
cap, the failure code if one ended it), so the caller can log the delivery once the response is
done.  CSV and JSON send a chunk per batch; XLSX writes its rows to disk (xlsxwriter's
constant-memory mode) and sends the finished workbook from there, so its errors come before its
first byte.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from catalog.errors import CatalogError, ValidationError

from .readers import RowSource

CHUNK = 1 << 20
XLSX_MAX_ROWS = 1_048_575  # a worksheet's 1,048,576 rows less the header


@dataclass
class DeliveryStats:
    """What a delivery sent; complete once ``done`` or ``error`` is set."""

    format: str
    rows: int = 0
    bytes: int = 0
    truncated: bool = False  # rows remained past the row cap
    done: bool = False
    error: str | None = None  # the code of the failure that ended the delivery
    seconds: float = 0.0


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    body: Callable[[RowSource, DeliveryStats], Iterator[bytes]]

    def write(self, source: RowSource, stats: DeliveryStats) -> Iterator[bytes]:
        return tracked(source, stats, self.body(source, stats))


def tracked(source: RowSource, stats: DeliveryStats, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Count the bytes of ``chunks``, record how the delivery ended, release the source."""
    started = time.monotonic()
    try:
        for chunk in chunks:
            stats.bytes += len(chunk)
            yield chunk
        stats.truncated, stats.done = source.truncated, True
    except BaseException as exc:
        stats.error = exc.code if isinstance(exc, CatalogError) else "delivery_interrupted"
        raise
    finally:
        chunks.close()
        source.close()
        stats.seconds = time.monotonic() - started


def counted(source: RowSource, stats: DeliveryStats) -> Iterator[list]:
    for batch in source:
        stats.rows += len(batch)
        yield batch


# -- CSV ------------------------------------------------------------------------------------------


def csv_body(source: RowSource, stats: DeliveryStats) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel reads it as such), a header row of the granted column names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(source.columns)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for batch in counted(source, stats):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)
        yield buffer.getvalue().encode("utf-8")


# -- JSON -----------------------------------------------------------------------------------------


def json_body(source: RowSource, stats: DeliveryStats) -> Iterator[bytes]:
    """One JSON array of objects keyed by the granted column names, sent a batch at a time."""
    columns, opening = source.columns, b"["
    for batch in counted(source, stats):
        objects = [dict(zip(columns, row)) for row in batch]
        text = json.dumps(objects, ensure_ascii=False, separators=(",", ":"), default=json_value)
        yield opening + text[1:-1].encode("utf-8")
        opening = b",\n"
    yield b"[]" if opening == b"[" else b"]"


def json_value(value):
    """Values JSON has no type for: times as ISO 8601, decimals as exact text, bytes as base64."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


# -- XLSX -----------------------------------------------------------------------------------------

XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,  # data, never formulas
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


def xlsx_body(source: RowSource, stats: DeliveryStats) -> Iterator[bytes]:
    """One worksheet, header in the first row; capped at a worksheet's rows (``truncated`` says)."""
    source.cap = min(source.cap, XLSX_MAX_ROWS)
    with tempfile.TemporaryDirectory(prefix="delivery-") as folder:
        path = Path(folder) / "delivery.xlsx"
        _write_workbook(path, folder, source, stats)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


def _write_workbook(path: Path, folder: str, source: RowSource, stats: DeliveryStats) -> None:
    with xlsxwriter.Workbook(str(path), {**XLSX_OPTIONS, "tmpdir": folder}) as workbook:
        sheet = workbook.add_worksheet("数据")
        sheet.write_row(0, 0, source.columns)
        row = 1
        for batch in counted(source, stats):
            for values in batch:
                sheet.write_row(row, 0, [xlsx_value(v) for v in values])
                row += 1


def xlsx_value(value):
    """Numbers stay numbers; everything else is written as the text CSV and JSON would carry."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return json_value(value)


# -- formats --------------------------------------------------------------------------------------

FORMATS = {
    "csv": Format("csv", "text/csv; charset=utf-8", "csv", csv_body),
    "json": Format("json", "application/json", "json", json_body),
    "xlsx": Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "xlsx", xlsx_body),
}


def format_named(name: str) -> Format:
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise ValidationError("不支持的交付格式", code="delivery_format",
                              details={"format": [f"可选：{'、'.join(FORMATS)}"]}) from None
