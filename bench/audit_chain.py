"""The audit trail's figures: the cost of one append inside a transaction, and the time to verify
a chain of a million events; print them.

    python bench/audit_chain.py                          # SQLite file in a temp folder
    python bench/audit_chain.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/audit_chain.py --events 200000 --appends 500

The database is emptied first (migrated down to base and up to head).  The million events are
chained in Python and bulk-inserted (COPY on PostgreSQL), then ``verify`` walks them all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from catalog.actors import Actor, Role
from catalog.db import bulk_insert, make_engine, make_session_factory, refresh_statistics, session_scope
from exchange import database
from exchange.audit.models import AuditChainHead, AuditEvent
from exchange.audit.services import PAYLOAD, chain_rows, event_values, record, verify

START = dt.datetime(2026, 1, 5, 0, 30, tzinfo=dt.UTC)
ACTORS = [Actor(user_id=i, name=f"用户{i}", role=role, department_id=i % 17 + 1)
          for i, role in enumerate([Role.PROVIDER, Role.REQUESTER, Role.BUREAU, Role.ADMIN] * 5, start=1)]
STEPS = [("draft", "submitted"), ("submitted", "published"), ("published", "changed"), ("changed", "submitted")]
CHUNK = 100_000


def fresh_database(url: str) -> None:
    database.downgrade(url, "base")
    database.upgrade(url, "head")


def event_row(n: int) -> dict:
    """The n-th synthetic event: status changes of catalog entries by twenty actors."""
    before, after = STEPS[n % len(STEPS)]
    return event_values(actor=ACTORS[n % len(ACTORS)], action="catalog_entry.status", object_type="catalog_entry",
                        object_id=n % 50_000 + 1, before={"status": before}, after={"status": after, "version": n % 7},
                        client=f"10.1.{n % 250}.{n % 200 + 1}", now=START + dt.timedelta(seconds=n))


def time_appends(factory, count: int) -> list[float]:
    """Milliseconds per record(), each inside a transaction of its own (the commit not counted)."""
    samples = []
    for n in range(count):
        with session_scope(factory) as session:
            session.execute(select(1))  # the action's transaction is under way at the database
            started = time.perf_counter()
            record(session, **_record_args(n))
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def _record_args(n: int) -> dict:
    before, after = STEPS[n % len(STEPS)]
    return dict(actor=ACTORS[n % len(ACTORS)], action="catalog_entry.status", object_type="catalog_entry",
                object_id=n + 1, before={"status": before}, after={"status": after}, client="127.0.0.1",
                now=dt.datetime.now(dt.UTC))


def build_chain(factory, total: int) -> float:
    """Chain ``total`` events after the head and bulk-insert them; seconds taken."""
    started = time.perf_counter()
    with session_scope(factory) as session:
        head = session.get(AuditChainHead, 1)
        for first in range(0, total, CHUNK):
            rows = chain_rows(map(event_row, range(first, min(first + CHUNK, total))),
                              first_id=head.last_id + 1, prev_hash=head.last_hash)
            bulk_insert(session, AuditEvent.__table__, rows)
            head.last_id, head.last_hash = rows[-1]["id"], rows[-1]["hash"]
            session.flush()
        refresh_statistics(session, AuditEvent.__table__)
    return time.perf_counter() - started


def time_hashing_alone(total: int) -> float:
    """The Python side of verifying, with nothing read: SHA-256 of previous hash + payload."""
    payload = PAYLOAD % (1, "2026-01-05T00:30:00.000000Z", 1, "用户1", "provider", 2, "catalog_entry.status",
                         "catalog_entry", 1, '{"status":"draft"}', '{"status":"submitted","version":0}', "10.1.0.1")
    sha256, prev = hashlib.sha256, "0" * 64
    started = time.perf_counter()
    for _ in range(total):
        prev = sha256((prev + payload).encode()).hexdigest()
    return time.perf_counter() - started


def time_verify(engine, batch: int):
    with engine.connect() as connection:
        started = time.perf_counter()
        result = verify(connection, batch=batch)
        return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=2_000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='exchange-bench-')) / 'bench.db'}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    print(f"database: {engine.dialect.name}")
    fresh_database(url)

    samples = sorted(time_appends(factory, args.appends))
    print(f"append (record) inside a transaction: median {statistics.median(samples):.3f} ms, "
          f"p95 {samples[int(len(samples) * 0.95) - 1]:.3f} ms over {len(samples):,} appends")
    seconds = build_chain(factory, args.events)
    print(f"build: {args.events:,} chained events bulk-inserted in {seconds:.1f} s")
    print(f"hashing alone: {time_hashing_alone(args.events):.2f} s for {args.events:,} payloads")
    for run in (1, 2):
        seconds, result = time_verify(engine, args.batch)
        state = "intact" if result.ok else f"broken at #{result.broken_id} ({result.problem})"
        print(f"verify (run {run}): {result.count:,} events in {seconds:.2f} s "
              f"({result.count / seconds:,.0f} events/s), chain {state}")
    engine.dispose()


if __name__ == "__main__":
    main()
