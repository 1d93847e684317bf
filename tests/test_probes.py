"""Probes of mounted resources: files against their checksum, tables with rows and last change,
APIs with HEAD then GET; every probe bounded in time, results kept, mounts updated set-based, and
a run that fails half way writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import socket
import sqlite3
import time
from http.server import BaseHTTPRequestHandler

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from catalog import mounts
from catalog.actors import SYSTEM
from catalog.models import MountedResource
from catalog.vocab import Health
from cli import main
from exchange.freshness.models import ProbeResult
from exchange.freshness.probe_job import run_probes
from exchange.freshness.probes import Target, probe, probe_all

from exchange.freshness.scan import scan

from .conftest import failing, http_server
from .test_freshness import flags_of, published_entry

LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


class FakeApi(BaseHTTPRequestHandler):
    """/ok answers HEAD; /get-only refuses HEAD (405) and answers GET; /gone is a 404."""

    def do_HEAD(self):  # noqa: N802 - the name http.server calls
        self._answer({"/ok": 200, "/get-only": 405}.get(self.path, 404))

    def do_GET(self):  # noqa: N802
        self._answer({"/ok": 200, "/get-only": 200}.get(self.path, 404), body=b"[]")

    def _answer(self, status: int, body: bytes = b""):
        self.send_response(status)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def api():
    with http_server(FakeApi) as url:
        yield url


@pytest.fixture
def silent_host():
    """A host that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def closed_port():
    probe_socket = socket.socket()
    probe_socket.bind(("127.0.0.1", 0))
    port = probe_socket.getsockname()[1]
    probe_socket.close()
    return port


@pytest.fixture
def source_db(tmp_path):
    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, updated TEXT)")
        connection.executemany("INSERT INTO people (name, updated) VALUES (?, ?)",
                               [(f"居民{i}", f"2026-10-{i + 1:02d}T08:00:00") for i in range(5)])
    return path


@pytest.fixture
def storage(tmp_path):
    return tmp_path / "files"


def run(sessions, storage, now, timeout=5):
    return run_probes(sessions, now=now, storage=storage, timeout=timeout, concurrency=4)


def mount_of(session, mount_id: int) -> MountedResource:
    session.expire_all()
    return session.get(MountedResource, mount_id)


def test_a_table_is_probed_for_its_rows_and_last_change(session, sessions, stats_bureau, source_db, storage, now):
    entry = published_entry(session, stats_bureau, now, mounted=False)
    mount = mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=f"sqlite:///{source_db}",
                               table="people", change_column="updated", now=now)
    session.commit()
    with sqlite3.connect(source_db) as connection:
        connection.execute("INSERT INTO people (name, updated) VALUES ('新居民', '2026-11-01T09:00:00')")
    later = now + dt.timedelta(hours=1)
    result = run(sessions, storage, later)
    probed = mount_of(session, mount.id)
    assert result.counts == {"probed": 1, "healthy": 1, "unhealthy": 0, "timed_out": 0}
    assert (probed.health, probed.row_count, probed.checked_at) == (Health.OK, 6, later)
    assert probed.data_changed_at == dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


def test_a_stored_file_is_checked_against_its_checksum(session, sessions, stats_bureau, storage, now):
    entry = published_entry(session, stats_bureau, now, mounted=False)
    mount = mounts.mount_file(session, actor=SYSTEM, entry_id=entry.id, stream=io.BytesIO("姓名\n张三\n".encode()),
                              filename="people.csv", storage=storage, max_bytes=1 << 20, now=now)
    session.commit()
    assert run(sessions, storage, now).counts["healthy"] == 1
    (storage / mount.file_key).write_bytes("姓名\n李四\n".encode())
    assert run(sessions, storage, now).counts["unhealthy"] == 1
    assert mount_of(session, mount.id).health == Health.CHANGED
    (storage / mount.file_key).unlink()
    run(sessions, storage, now)
    latest = session.scalars(select(ProbeResult).order_by(ProbeResult.id.desc())).first()
    assert (latest.ok, latest.health, latest.error) == (False, Health.UNREACHABLE, "挂接的文件已不在存储中")


def test_an_api_is_asked_with_head_then_get_when_head_is_refused(api):
    for path in ("/ok", "/get-only"):
        outcome = probe(Target(1, "api", url=api + path), storage=None, timeout=5)
        assert (outcome.ok, outcome.status_code) == (True, 200)
        assert outcome.data_changed_at == dt.datetime(2026, 10, 21, 7, 28, tzinfo=dt.UTC)
    gone = probe(Target(1, "api", url=api + "/gone"), storage=None, timeout=5)
    assert (gone.ok, gone.health, gone.status_code) == (False, Health.UNREACHABLE, 404)
    assert "HTTP 404" in gone.error


def test_dead_hosts_fail_within_their_timeout(silent_host, closed_port):
    targets = [Target(1, "api", url=f"http://{silent_host}/data"),
               Target(2, "api", url=f"http://127.0.0.1:{closed_port}/data"),
               Target(3, "table", url=f"postgresql://reader:secret@{silent_host}/db", table_name="t"),
               Target(4, "table", url=f"postgresql://reader:secret@127.0.0.1:{closed_port}/db", table_name="t")]
    started = time.monotonic()
    outcomes = {o.mount_id: o for o in probe_all(targets, storage=None, timeout=1, concurrency=4)}
    assert time.monotonic() - started < 6
    assert all(not o.ok and o.health == Health.UNREACHABLE for o in outcomes.values())
    assert outcomes[1].timed_out and "超时" in outcomes[1].error
    assert "secret" not in outcomes[3].error + outcomes[4].error


def test_a_huge_table_is_reachable_but_its_count_is_given_up_at_the_timeout(tmp_path):
    path = tmp_path / "huge.sqlite"
    with sqlite3.connect(path) as connection:  # a billion rows, as a view over a cross join
        connection.execute("CREATE TABLE t (x INTEGER)")
        connection.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
        connection.execute("CREATE VIEW huge AS SELECT a.x FROM t a, t b, t c")
    started = time.monotonic()
    outcome = probe(Target(1, "table", url=f"sqlite:///{path}", table_name="huge"), storage=None, timeout=1)
    assert time.monotonic() - started < 3
    assert (outcome.ok, outcome.health, outcome.row_count) == (True, Health.OK, None)
    assert outcome.error == "统计行数超时"


def test_a_probe_run_failing_half_way_writes_nothing_and_the_next_run_repairs(
        session, sessions, connection, stats_bureau, api, storage, now):
    entry = published_entry(session, stats_bureau, now, mounted=False)
    mount = mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url=api + "/gone", now=now)
    session.commit()
    with failing(connection, "UPDATE MOUNTED_RESOURCES", "数据库连接中断"):
        failed = run(sessions, storage, now)
    assert (failed.status.value, failed.counts) == ("failed", {}) and "数据库连接中断" in failed.error
    assert session.scalar(select(func.count()).select_from(ProbeResult)) == 0
    assert mount_of(session, mount.id).health == Health.UNKNOWN
    repaired = run(sessions, storage, now)
    assert repaired.status.value == "ok" and mount_of(session, mount.id).health == Health.UNREACHABLE


def test_an_entry_whose_probe_fails_is_flagged_unreachable_until_a_probe_succeeds(
        session, sessions, stats_bureau, api, storage, now):
    entry = published_entry(session, stats_bureau, now, mounted=False, last_updated=now.date())
    mount = mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url=api + "/gone", now=now)
    session.commit()
    run(sessions, storage, now)
    scan(sessions, now=now)
    assert flags_of(session, entry.id, "unreachable") == [(stats_bureau.id, None)]
    mount_of(session, mount.id).url = api + "/ok"
    session.commit()
    later = now + dt.timedelta(days=1)
    run(sessions, storage, later)
    assert scan(sessions, now=later).counts["unreachable"]["resolved"] == 1
    assert flags_of(session, entry.id, "unreachable") == [(stats_bureau.id, later)]


def test_the_probe_job_runs_by_hand(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", f"sqlite:///{tmp_path / 'exchange.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    ran = runner.invoke(main, ["jobs", "run", "resource-probes"])
    assert ran.exit_code == 0 and "探测 0" in ran.stdout
    assert "resource-probes\t" in runner.invoke(main, ["jobs", "list"]).stdout
