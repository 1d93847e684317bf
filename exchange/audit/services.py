"""Append to, verify and query the audit trail.

Appending locks the chain head (one row), takes the next position as the event's id, hashes the
event onto the previous hash and moves the head: all inside the caller's transaction, so an event
commits or rolls back with the change it records.  Nothing here updates or deletes an event.

The hash of an event is ``sha256(previous hash + payload)`` where the payload (encoding ``v1``) is
the fields below, each as text, joined by U+001F: id; time as ISO 8601 UTC with microseconds
(``2026-11-02T09:30:00.000000Z``); actor id; actor name; actor role; department id; action;
object type; object id; before and after summaries as compact sorted-key JSON; client address.
A missing id is written ``None``; text fields carry no control characters.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import operator
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import Connection, Integer, String, bindparam, cast, func, insert, literal, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.expression import FunctionElement

from catalog.actors import Actor, Role
from catalog.errors import CatalogError
from catalog.services import Page, ordering, paginate

from .models import GENESIS, AuditChainHead, AuditEvent

ENCODING = "v1"
SEPARATOR = "\x1f"
PAYLOAD_COLUMNS = ("id", "at", "actor_id", "actor_name", "actor_role", "department_id", "action",
                   "object_type", "object_id", "before", "after", "client")
PAYLOAD = ENCODING + (SEPARATOR + "%s") * len(PAYLOAD_COLUMNS)
EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__
CONTROL = dict.fromkeys([*range(32), 127])
LIMITS = {"actor_name": 100, "actor_role": 20, "action": 64, "object_type": 64, "client": 64}
ANONYMOUS = {"actor_id": None, "actor_name": "匿名", "actor_role": "anonymous", "department_id": None}
ATTRIBUTES = {"before": "before_text", "after": "after_text"}  # column → mapped attribute, where they differ


# -- encoding ------------------------------------------------------------------------------------


def canonical_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload_fields(row: dict) -> tuple:
    """An event's hashed fields, in payload order, from its column values."""
    return tuple(iso_utc(row[name]) if name == "at" else row[name] for name in PAYLOAD_COLUMNS)


def chain_hash(prev_hash: str, fields: tuple) -> str:
    return hashlib.sha256((prev_hash + PAYLOAD % fields).encode()).hexdigest()


def chain_rows(rows: Iterable[dict], *, first_id: int, prev_hash: str) -> list[dict]:
    """Number and hash event rows (column values without id and hashes) onto a chain."""
    chained = []
    for position, row in enumerate(rows, start=first_id):
        row = {**row, "id": position, "prev_hash": prev_hash}
        row["hash"] = prev_hash = chain_hash(prev_hash, payload_fields(row))
        chained.append(row)
    return chained


# -- appending -----------------------------------------------------------------------------------


def event_values(
    *, actor: Actor | None, action: str, object_type: str, object_id: int | None = None,
    before: dict | None = None, after: dict | None = None, client: str = "", now: dt.datetime,
) -> dict:
    """The column values of one event (everything but its id and hashes), cleaned for the chain."""
    values = dict(ANONYMOUS) if actor is None else {
        "actor_id": actor.user_id, "actor_name": actor.name,
        "actor_role": Role(actor.role).value, "department_id": actor.department_id,
    }
    values.update(action=action, object_type=object_type, client=client or "")
    for name, limit in LIMITS.items():
        values[name] = str(values[name]).translate(CONTROL)[:limit]
    values.update(at=now.astimezone(dt.UTC), object_id=None if object_id is None else int(object_id),
                  before=canonical_json(before), after=canonical_json(after))
    return values


def append(session: Session, rows: Sequence[dict]) -> list[dict]:
    """Chain and insert event rows (from :func:`event_values`) after the head, under its lock.

    Safe inside a flush: it works on the session's connection, not through the ORM."""
    if not rows:
        return []
    connection = session.connection()
    last_id, last_hash = _lock_head(connection, len(rows))
    chained = chain_rows(rows, first_id=last_id + 1, prev_hash=last_hash)
    _store(connection, chained)
    return chained


def _lock_head(connection: Connection, count: int) -> tuple[int, str]:
    """Lock the chain head and read it: SELECT … FOR UPDATE on PostgreSQL; on SQLite an UPDATE,
    which takes the writer lock before reading (a transaction that read first could fail to write)."""
    if connection.dialect.name == "postgresql":
        stmt = select(HEAD.c.last_id, HEAD.c.last_hash).where(HEAD.c.id == 1).with_for_update()
        return tuple(connection.execute(stmt).one())
    stmt = (update(HEAD).where(HEAD.c.id == 1).values(last_id=HEAD.c.last_id + count)
            .returning(HEAD.c.last_id, HEAD.c.last_hash))
    last_id, last_hash = connection.execute(stmt).one()
    return last_id - count, last_hash


MOVE_HEAD = update(HEAD).where(HEAD.c.id == 1).values(last_id=bindparam("head_id"), last_hash=bindparam("head_hash"))
# PostgreSQL: one event and the head's move in one round trip (a data-modifying CTE); bound
# parameters keep its compiled form cached
APPEND_ONE = MOVE_HEAD.add_cte(
    insert(EVENTS).values({c.name: bindparam(f"event_{c.name}", type_=c.type) for c in EVENTS.c}).cte("appended")
)


def _store(connection: Connection, chained: list[dict]) -> None:
    head = {"head_id": chained[-1]["id"], "head_hash": chained[-1]["hash"]}
    if connection.dialect.name == "postgresql" and len(chained) == 1:
        connection.execute(APPEND_ONE, {**{f"event_{k}": v for k, v in chained[0].items()}, **head})
        return
    connection.execute(insert(EVENTS), chained)
    connection.execute(MOVE_HEAD, head)


def record(
    session: Session, *, actor: Actor | None, action: str, object_type: str,
    object_id: int | None = None, before: dict | None = None, after: dict | None = None,
    client: str | None = None, now: dt.datetime,
) -> AuditEvent:
    """Append one event in the caller's transaction.  ``actor`` None is an anonymous caller;
    ``client`` defaults to the session's ``info["client"]`` (set by the request or the CLI)."""
    if client is None:
        client = session.info.get("client", "")
    values = event_values(actor=actor, action=action, object_type=object_type, object_id=object_id,
                          before=before, after=after, client=client, now=now)
    (row,) = append(session, [values])
    event = AuditEvent(**{ATTRIBUTES.get(name, name): value for name, value in row.items()})
    make_transient_to_detached(event)
    return event


OBJECT_TYPES = {"entry": "catalog_entry", "mount": "mounted_resource", "element": "data_element"}


def refusal_target(ids: dict) -> tuple[str, int | None]:
    """The object a refused request aimed at, from its identifiers (``{"entry_id": 5}`` → a catalog
    entry); a request naming none is about no object in particular."""
    for name, value in ids.items():
        if name.endswith("_id") and isinstance(value, int):
            kind = name.removesuffix("_id")
            return OBJECT_TYPES.get(kind, kind), value
    return "request", None


def record_refusal(
    session: Session, *, actor: Actor | None, error: CatalogError, request: str, ids: dict,
    client: str | None = None, now: dt.datetime,
) -> AuditEvent:
    """A refused request (403, or 401 for an unknown caller).  Call it after rolling back the
    request's own transaction, and commit it on its own."""
    object_type, object_id = refusal_target(ids)
    after = {"request": request, "code": error.code, "message": error.message[:200]}
    return record(session, actor=actor, action=f"refusal.{error.code}", object_type=object_type,
                  object_id=object_id, after=after, client=client, now=now)


def record_import(
    session: Session, *, actor: Actor | None, kind: str, file_name: str, counts: dict,
    client: str | None = None, now: dt.datetime,
) -> AuditEvent:
    """One summary event for a bulk import (which writes past the ORM, so nothing else sees it)."""
    summary = {k: v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
    return record(session, actor=actor, action=f"{kind}.import", object_type=kind,
                  after={"file": file_name, **summary}, client=client, now=now)


# -- verifying -----------------------------------------------------------------------------------


class iso_utc_text(FunctionElement):
    """SQL: a stored UTC timestamp as the payload's ISO text, formatted by the database (so
    verifying never builds a Python datetime per event)."""

    type = String()
    inherit_cache = True
    name = "iso_utc_text"


@compiles(iso_utc_text)
def _iso_utc_sqlite(element, compiler, **kw):  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
    return f"replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || 'Z'"


@compiles(iso_utc_text, "postgresql")
def _iso_utc_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@dataclass
class Verification:
    """The outcome: how many events hold together, and the first broken one with the reason."""

    count: int
    broken_id: int | None = None
    problem: str | None = None  # missing | relinked | altered | head
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


PROBLEMS = {
    "missing": "事件缺失（被删除）",
    "relinked": "与前一事件的哈希不衔接（前面的事件被改动或删除）",
    "altered": "内容与哈希不符（事件被改动）",
    "head": "链尾与链头记录不符（末尾的事件被删除或改动）",
}


def _payload_column(name: str):
    """SQL: one payload field as the text :data:`PAYLOAD` makes of it."""
    column = EVENTS.c[name]
    if name == "at":
        return iso_utc_text(column)
    if isinstance(column.type, Integer):
        as_text = cast(column, String)
        return func.coalesce(as_text, literal("None", String)) if column.nullable else as_text
    return column


def _payload_sql(dialect: str):
    """SQL: the payload text, built by the database exactly as :data:`PAYLOAD` builds it, so a
    verification reads four columns an event instead of fourteen (printf() is faster on SQLite)."""
    fields = [_payload_column(name) for name in PAYLOAD_COLUMNS]
    if dialect == "sqlite":
        return func.printf(literal(PAYLOAD, String), *fields)
    parts = [literal(ENCODING, String)]
    for field in fields:
        parts += [literal(SEPARATOR, String), field]
    return functools.reduce(operator.add, parts)


def _chain_select(dialect: str, last_id: int):
    c = EVENTS.c
    return select(c.prev_hash, c.hash, c.id, _payload_sql(dialect)).where(c.id <= last_id).order_by(c.id)


def _broken(count: int, event_id: int, problem: str) -> Verification:
    return Verification(count=count, broken_id=event_id, problem=problem, message=PROBLEMS[problem])


def _walk(rows) -> tuple[int, str, Verification | None]:
    """Check every row against the one before; the hot loop of verification."""
    sha256, expected, prev = hashlib.sha256, 1, GENESIS
    for row in rows:
        prev_hash, stored, event_id, payload = row
        if event_id != expected or prev_hash != prev or sha256((prev + payload).encode()).hexdigest() != stored:
            return expected, prev, _diagnose(row, expected, prev)
        prev = stored
        expected += 1
    return expected, prev, None


def _diagnose(row, expected: int, prev: str) -> Verification:
    count = expected - 1
    if row[2] != expected:
        return _broken(count, expected, "missing")
    return _broken(count, expected, "relinked" if row[0] != prev else "altered")


def _rows(connection: Connection, last_id: int, batch: int):
    """The chain's rows in id order, straight from the driver's cursor (no result-row objects).

    PostgreSQL streams them in chunks of ``batch`` while Python hashes: the server keeps working
    instead of waiting for each FETCH of a server-side cursor, which took twice as long."""
    stmt = _chain_select(connection.dialect.name, last_id)
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        from psycopg import capabilities

        with raw.cursor() as cursor:
            yield from cursor.stream(sql, size=batch if capabilities.has_stream_chunked() else 1)
        return
    cursor = raw.cursor()
    try:
        yield from cursor.execute(sql)
    finally:
        cursor.close()


def verify(bind: Session | Connection, *, batch: int = 2_000) -> Verification:
    """Walk the chain in id order, streamed, up to the head read first (events appended meanwhile
    do not disturb it).  Runs in the caller's transaction: one snapshot on SQLite."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    last_id, last_hash = connection.execute(select(HEAD.c.last_id, HEAD.c.last_hash)).one()
    with closing(_rows(connection, last_id, batch)) as rows:
        expected, prev, broken = _walk(rows)
    if broken:
        return broken
    if expected <= last_id:
        return _broken(expected - 1, expected, "missing")
    if prev != last_hash:
        return _broken(last_id - 1, last_id, "head")
    return Verification(count=last_id)


# -- querying ------------------------------------------------------------------------------------


def query(
    session: Session, *, actor: Actor, object_type: str | None = None, object_id: int | None = None,
    actor_id: int | None = None, action: str | None = None, since: dt.datetime | None = None,
    until: dt.datetime | None = None, sort: str = "-id", page: int = 1, page_size: int = 50,
) -> Page:
    """Events, newest first (or by any of ``EVENT_SORTS``), by object, actor, action and time
    (``since`` ≤ at < ``until``).  Only the bureau and the admin read the trail."""
    actor.require_role(Role.BUREAU, Role.ADMIN, action="查看审计日志")
    stmt = select(AuditEvent)
    equal = {AuditEvent.object_type: object_type, AuditEvent.object_id: object_id,
             AuditEvent.actor_id: actor_id, AuditEvent.action: action}
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    return paginate(session, stmt.order_by(*ordering(sort, EVENT_SORTS, AuditEvent.id)), page=page, page_size=page_size)


EVENT_SORTS = {"id": AuditEvent.id, "at": AuditEvent.at, "actor": AuditEvent.actor_name, "action": AuditEvent.action,
               "object": AuditEvent.object_type}
