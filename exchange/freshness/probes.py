"""Probing the resources mounted behind entries: is each one still there, and what does it hold?

- a stored file exists and still has the SHA-256 it was stored under;
- a table is reachable (read-only, as when it was mounted), with its row count and, when the mount
  names a change column, its last change — each read where it can be read in time;
- an API answers a HEAD (or, when HEAD is refused, a GET whose body is never read), with its
  ``Last-Modified`` as the data's last change when it sends one.

Every probe is bounded in time: a dead host fails at its connect timeout, a slow statement is
cancelled (PostgreSQL's ``statement_timeout``, SQLite's progress handler), and a huge table that
cannot be counted in time is still reachable, with its row count unknown.  ``probe_all`` runs the
probes in a thread pool of bounded size and, as a last guard, gives up on any probe still running
well past its time.  Nothing here touches the platform's database.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as PoolTimeout
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
from sqlalchemy import Connection, MetaData, Table, func, select, text
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from catalog.errors import CatalogError
from catalog.sources import as_utc, file_checksum, masked, parse_table_url, read_only_engine
from catalog.vocab import Health, MountKind

from ..delivery.fetch import shown_url

SQLITE_CHECK_EVERY = 10_000  # SQLite virtual-machine steps between two looks at the clock
GUARD_FACTOR = 4  # a probe still running after this many timeouts is abandoned as timed out


@dataclass(frozen=True)
class Target:
    """What a probe needs to know of a mounted resource (detached from any session)."""

    mount_id: int
    kind: str
    url: str | None = None
    table_name: str | None = None
    change_column: str | None = None
    file_key: str | None = None
    checksum: str | None = None


@dataclass
class Outcome:
    """What one probe found: ``ok`` and the health to record, and what it could observe."""

    mount_id: int
    ok: bool
    health: Health
    duration_ms: int = 0
    row_count: int | None = None
    data_changed_at: dt.datetime | None = None
    status_code: int | None = None
    error: str | None = None  # why it failed, or what could not be read in time
    timed_out: bool = False


class ProbeFailed(Exception):
    """The resource did not answer as it should; the message says why, in words for its owner."""

    def __init__(self, message: str, *, health: Health = Health.UNREACHABLE, timed_out: bool = False,
                 status_code: int | None = None):
        super().__init__(message)
        self.health, self.timed_out, self.status_code = health, timed_out, status_code


@dataclass
class Observed:
    row_count: int | None = None
    data_changed_at: dt.datetime | None = None
    status_code: int | None = None
    notes: list[str] = field(default_factory=list)


# -- one probe ------------------------------------------------------------------------------------


def probe(target: Target, *, storage: Path, timeout: float) -> Outcome:
    """Probe one resource within ``timeout`` seconds (an API: per request)."""
    started = time.monotonic()
    deadline = started + timeout
    try:
        observed = PROBES[MountKind(target.kind)](target, storage=storage, timeout=timeout, deadline=deadline)
    except ProbeFailed as exc:
        return Outcome(target.mount_id, False, exc.health, _ms(started), status_code=exc.status_code,
                       error=str(exc), timed_out=exc.timed_out)
    except CatalogError as exc:  # a database that cannot be opened (file gone, no driver, bad URL)
        return Outcome(target.mount_id, False, Health.UNREACHABLE, _ms(started), error=exc.message)
    return Outcome(target.mount_id, True, Health.OK, _ms(started), observed.row_count, observed.data_changed_at,
                   observed.status_code, "；".join(observed.notes) or None)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def probe_file(target: Target, *, storage: Path, deadline: float, **_) -> Observed:
    path = storage / (target.file_key or "")
    if not target.file_key or not path.is_file():
        raise ProbeFailed("挂接的文件已不在存储中")
    try:
        checksum = file_checksum(path, deadline=deadline)
    except TimeoutError as exc:
        raise ProbeFailed(str(exc), timed_out=True) from None
    except OSError as exc:
        raise ProbeFailed(f"无法读取挂接的文件：{exc.strerror or exc}") from None
    if target.checksum and checksum != target.checksum:
        raise ProbeFailed("挂接的文件内容已变化（SHA-256 校验值不符）", health=Health.CHANGED)
    return Observed()


def probe_table(target: Target, *, timeout: float, deadline: float, **_) -> Observed:
    url = parse_table_url(target.url or "")
    engine = read_only_engine(url, timeout=max(1, math.ceil(timeout)))
    name = target.table_name or ""
    try:
        with engine.connect() as connection:
            _cancel_after(connection, deadline)
            schema, _, bare = name.rpartition(".")
            table = Table(bare, MetaData(), schema=schema or None, autoload_with=connection)
            return _observe_table(connection, table, target.change_column, deadline)
    except NoSuchTableError:
        raise ProbeFailed(f"数据库中已没有表“{name}”") from None
    except SQLAlchemyError as exc:
        timed_out = _timed_out(exc)
        reason = "超时" if timed_out else str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ProbeFailed(f"无法访问数据库 {masked(str(url))}：{reason}", timed_out=timed_out) from None
    finally:
        engine.dispose()


def _observe_table(connection: Connection, table: Table, change_column: str | None, deadline: float) -> Observed:
    """The last change (when a change column is named) and the row count, each if read in time."""
    observed = Observed()
    if change_column:
        if change_column not in table.columns:
            raise ProbeFailed(f"表“{table.name}”已没有字段“{change_column}”")
        latest, late = _bounded(connection, select(func.max(table.columns[change_column])), deadline)
        observed.data_changed_at = as_utc(latest)
        if late:
            observed.notes.append("读取最近变化时间超时")
            return observed
    observed.row_count, late = _bounded(connection, select(func.count()).select_from(table), deadline)
    if late:
        observed.notes.append("统计行数超时")
    return observed


def _bounded(connection: Connection, stmt, deadline: float):
    """(value, False), or (None, True) when the statement was cancelled at the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None, True
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}"))
    try:
        return connection.scalar(stmt), False
    except SQLAlchemyError as exc:
        if not _timed_out(exc):
            raise
        connection.rollback()
        return None, True


def _cancel_after(connection: Connection, deadline: float) -> None:
    """SQLite has no statement timeout: interrupt any statement still running at the deadline."""
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, SQLITE_CHECK_EVERY)


def _timed_out(exc: SQLAlchemyError) -> bool:
    original = getattr(exc, "orig", None)
    return getattr(original, "sqlstate", None) == "57014" or "interrupted" in str(original or "")


def probe_api(target: Target, *, timeout: float, **_) -> Observed:
    url, shown = target.url or "", shown_url(target.url or "")
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=5,
                          trust_env=False) as client:
            response = client.head(url)
            if not response.is_success:  # many services refuse HEAD: ask again with a GET, body unread
                with client.stream("GET", url) as streamed:
                    response = streamed
    except httpx.TimeoutException:
        raise ProbeFailed(f"接口 {shown} 超时未响应（{timeout:g} 秒）", timed_out=True) from None
    except httpx.HTTPError as exc:
        raise ProbeFailed(f"无法访问接口 {shown}：{exc}") from None
    if not response.is_success:
        raise ProbeFailed(f"接口 {shown} 返回 HTTP {response.status_code}", status_code=response.status_code)
    return Observed(status_code=response.status_code, data_changed_at=_last_modified(response))


def _last_modified(response: httpx.Response) -> dt.datetime | None:
    try:
        return as_utc(parsedate_to_datetime(response.headers["last-modified"]))
    except (KeyError, TypeError, ValueError):
        return None


PROBES: dict[MountKind, Callable[..., Observed]] = {
    MountKind.FILE: probe_file, MountKind.TABLE: probe_table, MountKind.API: probe_api,
}


# -- many probes ----------------------------------------------------------------------------------


def probe_all(targets: Sequence[Target], *, storage: Path, timeout: float, concurrency: int,
              progress: Callable[[int, int], None] = lambda done, total: None) -> list[Outcome]:
    """Probe every target, ``concurrency`` at a time; one outcome per target, in no set order.
    ``progress(done, total)`` is told as each probe ends."""
    if not targets:
        return []
    rounds = math.ceil(len(targets) / max(1, concurrency))
    guard = GUARD_FACTOR * timeout * rounds + 5  # seconds; only a probe that ignored its timeout hits it
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="probe")
    futures = {pool.submit(probe, t, storage=storage, timeout=timeout): t for t in targets}
    outcomes: list[Outcome] = []
    try:
        for future in as_completed(futures, timeout=guard):
            outcomes.append(future.result())
            progress(len(outcomes), len(targets))
    except PoolTimeout:
        done = {o.mount_id for o in outcomes}
        outcomes += [Outcome(t.mount_id, False, Health.UNREACHABLE, round(guard * 1000),
                             error=f"探测超时（超过 {guard:g} 秒未结束）", timed_out=True)
                     for t in targets if t.mount_id not in done]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return outcomes
