"""Test fixtures: a real database (a temp SQLite file, or PostgreSQL from
EXCHANGE_TEST_DATABASE_URL) migrated once per session; each test runs inside a transaction that is
rolled back at its end, so tests see each other's nothing."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from catalog.actors import SYSTEM
from catalog.codes import make_uscc
from catalog.db import make_engine, normalise_url
from catalog.services import DepartmentData, create_department
from exchange import create_app, database
from exchange.accounts.services import create_token, create_user

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def database_url_for(tmp_path_factory) -> str:
    url = os.environ.get("EXCHANGE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def reset_schema(engine) -> None:
    """Drop whatever an earlier run left, so every session starts from an empty database."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
            return
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return database_url_for(tmp_path_factory)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    reset_schema(engine)
    database.upgrade(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def sessions(connection) -> sessionmaker[Session]:
    """Sessions whose commits release savepoints inside the test's transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(sessions) -> Session:
    with sessions() as session:
        yield session


# -- a database of a test's own --------------------------------------------------------------------
# The usual tests run inside a transaction rolled back at their end, which work on connections of
# its own (a live server, a job that loses its connection) cannot share.  Such a test gets a freshly
# migrated database of its own: on SQLite a copy of a file migrated once per session; on PostgreSQL
# a schema of its own in the test database, dropped and migrated again for every test.

OWN_SCHEMA = "own_database"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str | None:
    """SQLite: one file migrated per session, copied for each test.  PostgreSQL: nothing."""
    if os.environ.get("EXCHANGE_TEST_DATABASE_URL"):
        return None
    path = tmp_path_factory.mktemp("own-db") / "template.db"
    url = f"sqlite:///{path}"
    database.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:  # fold the write-ahead log into the file before copying it
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


@pytest.fixture
def own_database_url(migrated_template, tmp_path) -> str:
    """A freshly migrated database for one test, committed to for real."""
    base = os.environ.get("EXCHANGE_TEST_DATABASE_URL")
    if not base:
        target = tmp_path / "own.db"
        shutil.copyfile(migrated_template, target)
        return f"sqlite:///{target}"
    engine = make_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {OWN_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {OWN_SCHEMA}"))
    engine.dispose()
    url = make_url(normalise_url(base)).update_query_dict({"options": f"-csearch_path={OWN_SCHEMA}"})
    url = url.render_as_string(hide_password=False)
    database.upgrade(url)
    return url


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def department(session):
    def make(name: str, serial: int = 0, region: str = "331000"):
        data = DepartmentData(name=name, code=make_uscc(region, serial or abs(hash(name)) % 10**8),
                              level="市", region_code=region)
        return create_department(session, actor=SYSTEM, data=data)

    return make


@pytest.fixture
def stats_bureau(department):
    return department("台州市统计局", 101)


@pytest.fixture
def transport(department):
    return department("台州市交通运输局", 102)


@pytest.fixture
def user(session, now):
    """Make a user with a role (and department) and return (user, token)."""

    def make(username: str, role: str, dept=None):
        account = create_user(session, actor=SYSTEM, username=username, password="password-123",
                              role=role, department=dept.id if dept else None)
        _, token = create_token(session, user=account, name="test", now=now)
        return account, token

    return make


@pytest.fixture
def app(sessions, tmp_path, database_url):
    return create_app({"database_url": database_url, "storage_dir": str(tmp_path / "files"),
                       "TESTING": True}, session_factory=sessions)


@pytest.fixture
def client(app):
    return app.test_client()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def http_server(handler):
    """Serve ``handler`` on a free loopback port in a thread; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def failing(connection, statement_start: str, message: str, *, on: int = 1):
    """Make the ``on``-th statement beginning with ``statement_start`` fail (a broken database)."""
    seen = []

    def fail(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(statement_start.upper()):
            seen.append(statement)
            if len(seen) == on:
                raise RuntimeError(message)

    event.listen(connection, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", fail)


def enterprise_table(path: Path, rows: int) -> str:
    """A SQLite file at ``path`` with table ``enterprises`` whose columns are the usual entry's
    three items, ``rows`` rows; its URL, for mounting."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE enterprises ("统一社会信用代码" TEXT, "企业名称" TEXT, "法定代表人" TEXT)')
        connection.executemany("INSERT INTO enterprises VALUES (?, ?, ?)",
                               [(f"9133{i:014d}", f"企业{i}", f"代表{i}") for i in range(rows)])
    return f"sqlite:///{path}"


def entry_fields(**overrides) -> dict:
    """A valid entry's fields as the API and the rules take them."""
    fields = dict(name="企业登记信息", summary="全市企业登记基本信息", format="数据库/MySQL",
                  sharing_type="无条件共享", sharing_method="库表", open_attribute="有条件开放",
                  update_cycle="每月", items="统一社会信用代码:字符型:18|企业名称|法定代表人")
    fields.update(overrides)
    return fields


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under EXCHANGE_NO_SKIP (set by CI) a skipped test is a failure: nothing may go untested."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("EXCHANGE_NO_SKIP") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under EXCHANGE_NO_SKIP: {report.longrepr}"
