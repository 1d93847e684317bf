"""Engines and sessions: SQLite (the embedded default) and PostgreSQL through psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import enum
import json

from sqlalchemy import (
    BigInteger,
    Boolean,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Let users write ``postgresql://``; we always drive PostgreSQL with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    """Real transactions (explicit BEGIN, savepoints), foreign keys, WAL and a busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        # a pooled connection is checked before use, so a server restarted between two jobs (or
        # requests) costs a reconnect, not a failed run
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def make_session_factory(engine_or_connection) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_or_connection, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on error: the unit of work of CLI commands and jobs."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def savepoint(session: Session, *, keep: bool = True) -> Iterator[None]:
    """All or nothing inside the caller's transaction; ``keep=False`` rolls back even on success
    (a dry run that still checks every database constraint)."""
    nested = session.begin_nested()
    try:
        yield
    except BaseException:
        nested.rollback()
        raise
    if keep:
        nested.commit()
    else:
        nested.rollback()


class contains_text(FunctionElement):
    """``text`` contains ``word`` as a plain substring (no LIKE wildcards to escape): instr() on
    SQLite, strpos() on PostgreSQL; both faster than LIKE '%…%' on a scan."""

    type = Boolean()
    inherit_cache = True
    name = "contains_text"


@compiles(contains_text)
def _contains_text_default(element, compiler, **kw):
    text, word = list(element.clauses)
    return f"instr({compiler.process(text, **kw)}, {compiler.process(word, **kw)}) > 0"


@compiles(contains_text, "postgresql")
def _contains_text_postgresql(element, compiler, **kw):
    text, word = list(element.clauses)
    return f"strpos({compiler.process(text, **kw)}, {compiler.process(word, **kw)}) > 0"


def id_in(session: Session, column, ids: list[int]):
    """``column IN ids`` with one bound value however many ids: a JSON array read by json_each()
    on SQLite, an integer array with ANY() on PostgreSQL (no thousands of bind parameters)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == func.any(bindparam("id_list", list(ids), type_=ARRAY(BigInteger)))
    values = func.json_each(bindparam("id_list", json.dumps(list(ids))))
    return column.in_(select(literal_column("value")).select_from(values))


def allocate_ids(session: Session, table, count: int) -> list[int]:
    """Reserve ``count`` primary keys for a bulk insert that must know its ids up front."""
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        stmt = text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)")
        return list(connection.execute(stmt, {"n": count}).scalars())
    start = (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + count))


def bulk_insert(session: Session, table, rows: list[dict], *, chunk: int = 10_000) -> None:
    """Insert many rows fast: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, rows)
        return
    for start in range(0, len(rows), chunk):
        connection.execute(insert(table), rows[start:start + chunk])


def _copy_rows(connection, table, rows: list[dict]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_copy_value(row[c]) for c in columns])


def _copy_value(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def refresh_statistics(session: Session, *tables) -> None:
    """After a bulk load, let PostgreSQL's planner see the new row counts (no-op elsewhere)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{t.name}"' for t in tables))
