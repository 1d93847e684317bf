"""Time the freshness scan over synthetic catalogs shaped like the real one; print the figures.

    python bench/freshness_scan.py                                   # SQLite file in a temp folder
    python bench/freshness_scan.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/freshness_scan.py --entries 111440                  # one size only
    python bench/freshness_scan.py --entries 111440 --profile        # and where each scan's time went

For each size (default 111,440, the real catalog, and 1,000,000) the database is emptied
(migrated down to base and up to head) and loaded in bulk from the real catalog's names,
departments and update cycles (../shared/data/catalog_real.csv, repeated as needed), with about
half the scheduled entries past 1.5 cycles and about half with nothing mounted, then settled (see
``settle``).  Then the scan is timed three times: cold (flags opened), again (kept), and after a
tenth of the entries were updated and a tenth of the unmounted ones mounted (resolved).  ``--profile`` adds, per scan, each
SQL statement's time (slowest first), the commit's, and what is left (Python, the ORM, the driver).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

# This checkout first (never an installed copy), with the shared bench modules beside.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import realdata  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from catalog.db import allocate_ids, bulk_insert, make_engine, make_session_factory, refresh_statistics, session_scope  # noqa: E402
from catalog.models import CatalogEntry, Department, MountedResource  # noqa: E402
from catalog.vocab import UpdateCycle  # noqa: E402
from exchange import database  # noqa: E402
from exchange.freshness.scan import scan  # noqa: E402

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
CHUNK = 100_000
MOUNTED_SHARE = 0.53  # the national review's mounted rate
SHARING = (("unconditional", "open", None, None), ("conditional", "conditional", "须说明使用依据", None),
           ("not_shared", "closed", None, "《中华人民共和国个人信息保护法》第十三条"))


def fresh_database(url: str) -> None:
    try:
        database.downgrade(url, "base")
    except Exception:  # a scratch database at a revision this checkout does not know
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    database.upgrade(url, "head")


def shapes() -> list[tuple[str, str, str]]:
    """(provider name, entry name, update cycle value) of every real entry."""
    found = []
    for row in realdata.read_real():
        _, tag = realdata.jurisdiction(row["source"])
        cycle = UpdateCycle.parse(realdata._cycle(row["update_cycle"])).value
        found.append((f"【{tag}】{row['department'].strip() or '未注明部门'}"[:200],
                      row["resource_name"].strip()[:200] or "未命名资源", cycle))
    return found


def load_departments(session, names: list[str]) -> dict[str, int]:
    ids = allocate_ids(session, Department.__table__, len(names))
    bulk_insert(session, Department.__table__, [
        {"id": i, "name": name, "created_at": NOW, "updated_at": NOW} for i, name in zip(ids, names)])
    return dict(zip(names, ids))


def entry_row(entry_id: int, index: int, shape, provider_id: int, rng: random.Random) -> dict:
    _, name, cycle = shape
    sharing, opening, condition, basis = SHARING[0 if rng.random() < 0.7 else 1 if rng.random() < 0.75 else 2]
    days = UpdateCycle(cycle).expected_days or 365
    return {"id": entry_id, "resource_code": f"33{index:08d}/{index:06d}", "code_front": f"33{index:08d}",
            "code_sequence": index, "name": name, "provider_id": provider_id, "summary": name,
            "category": "departmental", "format": "database", "sharing_type": sharing,
            "sharing_condition": condition, "not_shared_basis": basis, "open_attribute": opening,
            "sharing_method": None if basis else "table", "update_cycle": cycle,
            "publish_date": dt.date(2023, 6, 1), "last_updated": TODAY - dt.timedelta(days=int(days * rng.uniform(0, 3))),
            "related_codes": [], "status": "published", "version": 1, "content_hash": f"{index:064d}",
            "lock_version": 1, "created_at": NOW, "updated_at": NOW}


def mount_row(mount_id: int, entry_id: int, gone: bool) -> dict:
    return {"id": mount_id, "entry_id": entry_id, "kind": "api", "url": "https://data.example/api",
            "columns": [], "health": "unknown", "mounted_at": NOW,
            "unmounted_at": NOW - dt.timedelta(days=30) if gone else None}


def load_chunk(session, start: int, size: int, real, departments, rng) -> None:
    ids = allocate_ids(session, CatalogEntry.__table__, size)
    rows = [entry_row(i, start + k, real[(start + k) % len(real)], departments[real[(start + k) % len(real)][0]], rng)
            for k, i in enumerate(ids)]
    bulk_insert(session, CatalogEntry.__table__, rows)
    mounted = [(i, rng.random()) for i in ids]
    chosen = [(i, roll >= MOUNTED_SHARE) for i, roll in mounted if roll < MOUNTED_SHARE or roll > 0.95]
    mount_ids = allocate_ids(session, MountedResource.__table__, len(chosen))
    bulk_insert(session, MountedResource.__table__, [mount_row(m, i, gone) for m, (i, gone) in zip(mount_ids, chosen)])


def load(factory, count: int, real) -> float:
    started = time.perf_counter()
    rng = random.Random(20261102)
    with session_scope(factory) as session:
        departments = load_departments(session, sorted({provider for provider, _, _ in real}))
        for start in range(0, count, CHUNK):
            load_chunk(session, start, min(CHUNK, count - start), real, departments, rng)
        refresh_statistics(session, CatalogEntry.__table__, MountedResource.__table__, Department.__table__)
    return time.perf_counter() - started


def settle(engine) -> None:
    """Leave the loaded catalog as a running system holds it, so the first scan is not charged for
    the bulk load's after-effects: on PostgreSQL vacuumed (what autovacuum does to a freshly
    loaded table within minutes: hint bits and visibility map set) and checkpointed; on SQLite the
    write-ahead log checkpointed into the database file."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM (ANALYZE) catalog_entries, mounted_resources, departments")
            connection.exec_driver_sql("CHECKPOINT")
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def change_a_slice(factory) -> None:
    """A tenth of the entries updated today; a tenth of the unmounted ones get a mount."""
    with session_scope(factory) as session:
        session.execute(text("UPDATE catalog_entries SET last_updated = :today WHERE id % 10 = 0"), {"today": TODAY})
        session.execute(text(
            "INSERT INTO mounted_resources (entry_id, kind, url, columns, health, mounted_at) "
            "SELECT e.id, 'api', 'https://data.example/api', '[]', 'unknown', :now FROM catalog_entries e "
            "WHERE e.id % 10 = 1 AND NOT EXISTS (SELECT 1 FROM mounted_resources m "
            "WHERE m.entry_id = e.id AND m.unmounted_at IS NULL)"),
            {"now": NOW.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else NOW})


class Profile:
    """Wall time per SQL statement and for the commit, from the engine's events."""

    SHOWN = 8  # statements printed per scan

    def __init__(self, engine) -> None:
        self.statements: list[tuple[float, str]] = []
        self.commit = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._before_commit)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((time.perf_counter() - conn.info.pop("started"), " ".join(statement.split())))

    def _before_commit(self, conn) -> None:
        self.commit_started = time.perf_counter()

    def reset(self) -> None:
        self.statements.clear()
        self.commit_started = None

    def report(self, seconds: float, ended: float) -> None:
        sql = sum(s for s, _ in self.statements)
        commit = ended - self.commit_started if self.commit_started else 0.0
        print(f"    SQL {sql:.3f} s in {len(self.statements)} statements, commit and close {commit:.3f} s, "
              f"rest {seconds - sql - commit:.3f} s")
        for spent, statement in sorted(self.statements, reverse=True)[:self.SHOWN]:
            print(f"    {spent:7.3f} s  {statement[:150]}")


def timed_scan(factory, label: str, profile: Profile | None = None) -> None:
    if profile:
        profile.reset()
    started = time.perf_counter()
    run = scan(factory, now=NOW)
    seconds = time.perf_counter() - started
    figures = "  ".join(f"{kind} opened {c['opened']:>7,} kept {c['kept']:>7,} resolved {c['resolved']:>7,}"
                        for kind, c in run.counts.items() if isinstance(c, dict) and any(c.values()))
    others = "  ".join(f"{key} {value:,}" for key, value in run.counts.items() if not isinstance(value, dict))
    print(f"  scan {label:<9} {seconds:6.2f} s  {run.status.value}  {figures}  {others}")
    if run.error:
        print(f"  error: {run.error}")
    if profile:
        profile.report(seconds, started + seconds)


def bench(url: str, count: int, real, *, profiled: bool = False) -> None:
    fresh_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seconds = load(factory, count, real)
    settle(engine)
    print(f"{engine.dialect.name}, {count:,} entries: loaded in {seconds:.1f} s")
    profile = Profile(engine) if profiled else None
    timed_scan(factory, "cold", profile)
    timed_scan(factory, "again", profile)
    change_a_slice(factory)
    timed_scan(factory, "changed", profile)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--entries", type=int, action="append", help="catalog size (repeatable)")
    parser.add_argument("--profile", action="store_true", help="print where each scan's time went")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='exchange-bench-')) / 'bench.db'}"
    real = shapes()
    for count in args.entries or [len(real), 1_000_000]:
        bench(url, count, real, profiled=args.profile)


if __name__ == "__main__":
    main()
