"""Delivery of mounted resources: granted columns only, paging and caps, clear failures, and CSV,
JSON and XLSX that read back to the same rows.  Table sources are a SQLite file, or a scratch table
in the PostgreSQL test database when EXCHANGE_TEST_DATABASE_URL names one; API sources are a
local HTTP server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import os
import time
import uuid
from http.server import BaseHTTPRequestHandler

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from catalog.db import make_engine
from catalog.errors import ValidationError
from catalog.models import MountedResource
from catalog.vocab import MountKind
from exchange.config import Settings
from exchange.delivery import (
    ColumnsMissing,
    DeliveryLimits,
    NothingGranted,
    SourceMissing,
    SourceTimeout,
    SourceTooLarge,
    SourceUnreadable,
    Window,
    deliver,
    open_api,
    open_delivery,
    open_table,
)
from exchange.delivery import writers

from .conftest import http_server

HEADER = ["编号", "姓名", "身份证号", "联系电话", "金额", "备注"]
GRANTED = ["编号", "姓名", "金额", "备注"]
ROWS = [
    (i, f"张{i}", f"33100219900101{i:04d}", f"1380000{i:04d}", i * 100,
     ["普通", "含,逗号", '含"引号"', "两行\n文本", "=SUM(A1)", ""][i % 6])
    for i in range(1, 24)
]
FAST = DeliveryLimits(connect_timeout=1, read_timeout=0.4, total_timeout=1.5, max_bytes=64 * 1024)


def expected(columns=GRANTED, rows=ROWS) -> list[list[str]]:
    picks = [HEADER.index(c) for c in columns]
    return [[str(row[i]) for i in picks] for row in rows]


def as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


def parse(fmt: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """A delivered body back to (header, rows of text)."""
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")
        header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    elif fmt == "json":
        objects = json.loads(data)
        header = list(objects[0]) if objects else []
        rows = [list(o.values()) for o in objects]
    else:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        header, *rows = sheet.to_python()
    return header, [[as_text(v) for v in row] for row in rows]


def drain(delivery) -> bytes:
    return b"".join(delivery.chunks)


# -- sources --------------------------------------------------------------------------------------


def _people_table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata, Column("编号", Integer, primary_key=True),
                 *[Column(c, Text) for c in HEADER[1:4]], Column("金额", Integer), Column("备注", Text))


def _fill(url: str, name: str) -> None:
    engine = make_engine(url)
    table = _people_table(MetaData(), name)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(insert(table), [dict(zip(HEADER, row)) for row in reversed(ROWS)])
    engine.dispose()


@pytest.fixture
def table_source(tmp_path):
    """(url, table): a scratch table in the PostgreSQL test database, else a SQLite file."""
    url = os.environ.get("EXCHANGE_TEST_DATABASE_URL", "")
    name = f"delivery_people_{uuid.uuid4().hex[:8]}"
    if not url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path / 'source.db'}"
    _fill(url, name)
    yield url, name
    engine = make_engine(url)
    with engine.begin() as connection:
        _people_table(MetaData(), name).drop(connection)
    engine.dispose()


def _write_csv(path, encoding="utf-8-sig") -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([HEADER, *ROWS])


def _write_xlsx(path) -> None:
    with xlsxwriter.Workbook(str(path), {"strings_to_formulas": False}) as workbook:
        sheet = workbook.add_worksheet()
        for r, row in enumerate([HEADER, *ROWS]):
            sheet.write_row(r, 0, row)


@pytest.fixture
def storage(tmp_path):
    folder = tmp_path / "files"
    (folder / "ab").mkdir(parents=True)
    _write_csv(folder / "ab" / "people.csv")
    _write_xlsx(folder / "ab" / "people.xlsx")
    return folder


def file_mount(key: str) -> MountedResource:
    return MountedResource(kind=MountKind.FILE, file_key=key, file_name=key.rsplit("/", 1)[-1])


# -- a local API ----------------------------------------------------------------------------------


def _records() -> list[dict]:
    return [dict(zip(HEADER, row)) for row in ROWS]


def _csv_text() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *ROWS])
    return buffer.getvalue()


BODIES = {
    "/people.json": ("application/json", json.dumps(_records(), ensure_ascii=False).encode()),
    "/wrapped.json": ("application/json; charset=utf-8", json.dumps(
        {"code": 0, "meta": {"fields": [{"name": h} for h in HEADER]}, "data": {"list": _records()}},
        ensure_ascii=False).encode()),
    "/people.csv": ("text/csv; charset=utf-8", _csv_text().encode()),
    "/people-gbk.csv": ("text/csv; charset=gbk", _csv_text().encode("gbk")),
    "/page.html": ("text/html", "<html>维护中</html>".encode()),
}


class FakeApi(BaseHTTPRequestHandler):
    """Answers from BODIES, or misbehaves: hangs, trickles, sends too much, fails."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        try:
            getattr(self, "_" + self.path.strip("/").replace("-", "_"), self._body)()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _body(self):
        media, body = BODIES.get(self.path, ("text/plain", b""))
        self._head(200 if self.path in BODIES else 404, media, len(body))
        self.wfile.write(body)

    def _head(self, status: int, media: str, length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", media)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _slow(self):
        time.sleep(2)  # longer than the read timeout, bounded
        self._body()

    def _trickle(self):
        self._head(200, "application/json")
        for _ in range(30):  # a byte every 0.1 s: never silent long enough for the read timeout
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(0.1)

    def _huge(self):
        self._head(200, "application/json")
        self.wfile.write(b"[")
        for _ in range(64):  # 4 MiB at most, far past the 64 KiB limit
            self.wfile.write(b'{"a":"' + b"x" * 65536 + b'"},')

    def _huge_declared(self):
        self._head(200, "application/json", 10 << 30)

    def _broken(self):
        self._head(500, "application/json", 2)
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def api():
    with http_server(FakeApi) as url:
        yield url


# -- every source, every format -------------------------------------------------------------------

SOURCES = ["table", "csv file", "xlsx file", "api json", "api wrapped json", "api csv", "api gbk csv"]
API_PATHS = {"api json": "/people.json", "api wrapped json": "/wrapped.json",
             "api csv": "/people.csv", "api gbk csv": "/people-gbk.csv"}


@pytest.fixture
def mount(request, tmp_path, storage, api):
    """A MountedResource of each kind holding the same rows."""
    kind = request.param
    if kind == "table":
        url, name = request.getfixturevalue("table_source")
        return MountedResource(kind=MountKind.TABLE, url=url, table_name=name)
    if kind.endswith("file"):
        return file_mount("ab/people." + kind.split()[0])
    return MountedResource(kind=MountKind.API, url=api + API_PATHS[kind])


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
@pytest.mark.parametrize("mount", SOURCES, indirect=True)
def test_delivery_reads_back_as_the_granted_columns_of_the_same_rows(mount, fmt, storage):
    delivery = open_delivery(mount, GRANTED, fmt, storage=storage, limits=FAST)
    header, rows = parse(fmt, drain(delivery))
    assert header == GRANTED
    assert rows == expected()


@pytest.mark.parametrize("mount", SOURCES, indirect=True)
def test_columns_not_granted_are_never_delivered(mount, storage):
    data = drain(open_delivery(mount, ["姓名", "编号"], "json", storage=storage, limits=FAST))
    objects = json.loads(data)
    assert {tuple(o) for o in objects} == {("姓名", "编号")}
    assert "3310021990" not in data.decode() and "1380000" not in data.decode()


@pytest.mark.parametrize("mount", SOURCES, indirect=True)
def test_row_limit_caps_the_delivery_and_says_rows_remained(mount, storage):
    delivery = open_delivery(mount, GRANTED, "csv", storage=storage,
                             limits=DeliveryLimits(max_rows=10, batch_rows=4))
    _, rows = parse("csv", drain(delivery))
    assert rows == expected()[:10]
    assert delivery.stats.rows == 10 and delivery.stats.truncated


@pytest.mark.parametrize(("window", "ids", "truncated"), [
    (Window(offset=0, limit=5), ["1", "2", "3", "4", "5"], True),
    (Window(offset=5, limit=5), ["6", "7", "8", "9", "10"], True),
    (Window(offset=20, limit=5), ["21", "22", "23"], False),
    (Window(offset=30, limit=5), [], False),
    (Window(offset=0, limit=0), [], True),
])
@pytest.mark.parametrize("mount", SOURCES, indirect=True)
def test_pages_follow_the_source_order(mount, storage, window, ids, truncated):
    delivery = open_delivery(mount, ["编号"], "json", storage=storage,
                             limits=DeliveryLimits(batch_rows=3), window=window)
    assert [str(o["编号"]) for o in json.loads(drain(delivery))] == ids
    assert delivery.stats.truncated is truncated


@pytest.mark.parametrize("mount", SOURCES, indirect=True)
def test_stats_count_rows_and_bytes(mount, storage):
    delivery = open_delivery(mount, GRANTED, "csv", storage=storage, limits=FAST)
    assert (delivery.stats.rows, delivery.stats.done) == (0, False)
    data = drain(delivery)
    stats = delivery.stats
    assert (stats.rows, stats.bytes, stats.done, stats.truncated, stats.error) == (
        len(ROWS), len(data), True, False, None)


# -- failures -------------------------------------------------------------------------------------


def test_a_vanished_table_is_a_clear_error(table_source):
    url, name = table_source
    with pytest.raises(SourceMissing) as caught:
        open_table(url, name + "_gone", GRANTED)
    assert caught.value.code == "delivery_source_missing"
    assert f"{name}_gone" in caught.value.message


def test_a_vanished_database_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourceMissing):
        open_table(f"sqlite:///{tmp_path / 'gone.db'}", "people", GRANTED)


@pytest.mark.parametrize("mount", SOURCES, indirect=True)
def test_a_granted_column_the_source_lacks_is_named(mount, storage):
    with pytest.raises(ColumnsMissing) as caught:
        open_delivery(mount, ["姓名", "户籍地址", "婚姻状况"], "csv", storage=storage, limits=FAST)
    assert caught.value.code == "delivery_columns_missing"
    assert caught.value.details == {"columns": ["户籍地址", "婚姻状况"]}
    assert "户籍地址" in caught.value.message


def test_a_stored_file_that_is_gone_is_a_clear_error(storage):
    with pytest.raises(SourceMissing) as caught:
        open_delivery(file_mount("cd/gone.csv"), GRANTED, "csv", storage=storage)
    assert "gone.csv" in caught.value.message


def test_a_stored_file_that_is_no_spreadsheet_is_unreadable(storage):
    (storage / "ab" / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(SourceUnreadable) as caught:
        open_delivery(file_mount("ab/broken.xlsx"), GRANTED, "csv", storage=storage)
    assert caught.value.code == "delivery_source_unreadable"


def test_an_unmounted_resource_is_not_delivered(storage):
    mount = file_mount("ab/people.csv")
    mount.unmounted_at = writers.dt.datetime(2026, 1, 5, tzinfo=writers.dt.UTC)
    with pytest.raises(SourceMissing):
        open_delivery(mount, GRANTED, "csv", storage=storage)


@pytest.mark.parametrize(("columns", "fmt", "error", "code"), [
    ([], "csv", NothingGranted, "delivery_no_columns"),
    (GRANTED, "pdf", ValidationError, "delivery_format"),
])
def test_nothing_granted_or_an_unknown_format_is_refused(storage, columns, fmt, error, code):
    with pytest.raises(error) as caught:
        open_delivery(file_mount("ab/people.csv"), columns, fmt, storage=storage)
    assert caught.value.code == code


@pytest.mark.parametrize(("path", "error", "words"), [
    ("/slow", SourceTimeout, "超时"),            # says nothing for 2 s; the read timeout is 0.4 s
    ("/trickle", SourceTimeout, "秒内未传完"),   # a byte every 0.1 s; the whole may take 1.5 s
    ("/huge", SourceTooLarge, "超过上限"),       # streams 4 MiB; the limit is 64 KiB
    ("/huge-declared", SourceTooLarge, "超过上限"),  # announces 10 GiB
    ("/broken", SourceUnreadable, "HTTP 500"),
    ("/page.html", SourceUnreadable, "不是 JSON 或 CSV"),
])
def test_an_api_that_misbehaves_fails_cleanly_and_quickly(api, path, error, words):
    started = time.monotonic()
    with pytest.raises(error) as caught:
        open_api(api + path, GRANTED, limits=FAST)
    assert words in caught.value.message and api.split("//")[1] in caught.value.message
    assert time.monotonic() - started < 2.5


def test_an_api_error_shows_neither_credentials_nor_query(api):
    with pytest.raises(SourceUnreadable) as caught:
        open_api(api.replace("//", "//user:pass-word@") + "/broken?token=s3cret", GRANTED, limits=FAST)
    assert "/broken" in caught.value.message
    assert "s3cret" not in caught.value.message and "pass-word" not in caught.value.message


def test_an_api_nobody_listens_on_fails_cleanly():
    with pytest.raises(SourceUnreadable) as caught:
        open_api("http://127.0.0.1:9/none", GRANTED, limits=FAST)
    assert caught.value.code == "delivery_source_unreadable"


def test_limits_follow_the_settings():
    limits = DeliveryLimits.from_settings(Settings(mount_timeout=3, max_upload_mb=5), max_rows=9)
    assert (limits.connect_timeout, limits.max_bytes, limits.max_rows) == (3, 5 << 20, 9)


# -- writers --------------------------------------------------------------------------------------


def test_a_delivery_closed_early_releases_its_source_and_records_why(table_source):
    source = open_table(*table_source, GRANTED, limits=DeliveryLimits(batch_rows=2))
    delivery = deliver(source, "csv")
    next(delivery.chunks), next(delivery.chunks)
    delivery.chunks.close()
    assert delivery.stats.error == "delivery_interrupted" and not delivery.stats.done
    assert list(source) == []


def test_an_empty_result_is_a_valid_document_in_every_format(table_source):
    for fmt in ("csv", "json", "xlsx"):
        source = open_table(*table_source, GRANTED, window=Window(offset=100))
        header, rows = parse(fmt, drain(deliver(source, fmt)))
        assert rows == [] and header in (GRANTED, [])


def test_xlsx_stops_at_a_worksheets_rows_and_says_so(table_source, monkeypatch):
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 7)
    delivery = deliver(open_table(*table_source, GRANTED), "xlsx")
    _, rows = parse("xlsx", drain(delivery))
    assert rows == expected()[:7] and delivery.stats.truncated
