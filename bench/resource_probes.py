"""Time the resource-probes job: many mounted files, a few tables, and dead hosts; print the figures.

    python bench/resource_probes.py                       # 1,000 files, 20 dead hosts, 10 tables
    python bench/resource_probes.py --files 5000 --dead 50 --concurrency 4 --concurrency 16

A SQLite database in a temp folder gets one department, one published entry per resource, and
the mounts: CSV files (about 40 KiB each) in the file store under their SHA-256, tables in a
SQLite file, and APIs on dead hosts on this machine: half refuse the connection (a closed port),
half accept it and never answer (a silent listener), which costs each one its full timeout.  The
job is run once per concurrency; it prints the run's duration, probes a second and the counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

# This checkout first (never an installed copy), with the shared bench modules beside.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from freshness_scan import entry_row, fresh_database, load_departments  # noqa: E402

from catalog.db import allocate_ids, bulk_insert, make_engine, make_session_factory, session_scope  # noqa: E402
from catalog.models import CatalogEntry, MountedResource  # noqa: E402
from exchange.freshness.probe_job import run_probes  # noqa: E402

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
SHAPE = ("【基准】台州市统计局", "人口统计年鉴", "monthly")


def write_file(storage: Path, index: int) -> dict:
    body = "编号,姓名,金额\n" + "".join(f"{index}-{i},居民{i},{i * 7 % 1000}\n" for i in range(2000))
    data = body.encode()
    checksum = hashlib.sha256(data).hexdigest()
    key = f"{checksum[:2]}/{checksum}.csv"
    (storage / key).parent.mkdir(parents=True, exist_ok=True)
    (storage / key).write_bytes(data)
    return {"kind": "file", "file_key": key, "file_name": f"people-{index}.csv", "checksum": checksum,
            "size_bytes": len(data), "row_count": 2000}


def source_tables(folder: Path, count: int) -> str:
    path = folder / "source.sqlite"
    with sqlite3.connect(path) as connection:
        for t in range(count):
            connection.execute(f"CREATE TABLE t{t} (id INTEGER PRIMARY KEY, changed TEXT)")
            connection.executemany(f"INSERT INTO t{t} (changed) VALUES (?)",
                                   [(f"2026-10-{1 + i % 28:02d}T08:00:00",) for i in range(50_000)])
    return f"sqlite:///{path}"


def dead_hosts() -> tuple[str, socket.socket]:
    """A closed port (refused at once) and a silent listener (accepts, never answers)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = f"http://127.0.0.1:{closed.getsockname()[1]}/data"
    closed.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)
    return refused, silent


def load(factory, storage: Path, folder: Path, files: int, tables: int, dead: int):
    refused, silent = dead_hosts()
    hanging = f"http://127.0.0.1:{silent.getsockname()[1]}/data"
    table_url = source_tables(folder, tables)
    mounts = [write_file(storage, i) for i in range(files)]
    mounts += [{"kind": "table", "url": table_url, "table_name": f"t{t}", "change_column": "changed"}
               for t in range(tables)]
    mounts += [{"kind": "api", "url": refused if i % 2 else hanging} for i in range(dead)]
    rng = random.Random(1)
    with session_scope(factory) as session:
        department = load_departments(session, [SHAPE[0]])[SHAPE[0]]
        ids = allocate_ids(session, CatalogEntry.__table__, len(mounts))
        bulk_insert(session, CatalogEntry.__table__, [entry_row(i, k, SHAPE, department, rng) for k, i in enumerate(ids)])
        mount_ids = allocate_ids(session, MountedResource.__table__, len(mounts))
        blank = dict.fromkeys(["url", "table_name", "change_column", "file_key", "file_name", "checksum",
                                "size_bytes", "row_count"])
        bulk_insert(session, MountedResource.__table__, [
            {"id": m, "entry_id": e, "columns": [], "health": "unknown", "mounted_at": NOW, **blank, **values}
            for m, e, values in zip(mount_ids, ids, mounts)])
    return silent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--tables", type=int, default=10)
    parser.add_argument("--dead", type=int, default=20, help="API mounts on dead hosts")
    parser.add_argument("--timeout", type=float, default=2)
    parser.add_argument("--concurrency", type=int, action="append", help="threads (repeatable)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="exchange-probes-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    fresh_database(url)
    factory = make_session_factory(make_engine(url))
    storage = folder / "files"
    silent = load(factory, storage, folder, args.files, args.tables, args.dead)
    total = args.files + args.tables + args.dead
    print(f"{args.files:,} files, {args.tables} tables of 50,000 rows, {args.dead} dead hosts "
          f"(half silent), timeout {args.timeout:g} s")
    try:
        for concurrency in args.concurrency or [1, 8, 32]:
            started = time.perf_counter()
            run = run_probes(factory, now=NOW, storage=storage, timeout=args.timeout, concurrency=concurrency)
            seconds = time.perf_counter() - started
            print(f"  concurrency {concurrency:>3}: {seconds:6.2f} s  {total / seconds:7.1f} probes/s  "
                  f"{run.status.value}  {run.counts}")
    finally:
        silent.close()


if __name__ == "__main__":
    main()
