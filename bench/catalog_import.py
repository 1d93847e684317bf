"""Import, export and list the 111,440 real catalog entries; print the figures.

    python bench/catalog_import.py                       # SQLite file in a temp folder
    python bench/catalog_import.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/catalog_import.py --xlsx                # also time the XLSX import
    python bench/catalog_import.py --profile             # cProfile of the CSV import

The database is emptied first (migrated down to base and up to head).  Peak memory is the
process's resident high-water mark after the CSV import.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

# This checkout first (never an installed copy), with the shared bench modules beside.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import realdata  # noqa: E402

from catalog.actors import SYSTEM  # noqa: E402
from catalog.db import make_engine, make_session_factory, session_scope  # noqa: E402
from catalog.exporting import export_catalog  # noqa: E402
from catalog.importing import import_catalog  # noqa: E402
from catalog.templates import CATALOG, read_sheet  # noqa: E402
from exchange import create_app, database  # noqa: E402
from exchange.accounts.services import create_token, create_user  # noqa: E402

NOW = dt.datetime.now(dt.UTC)


def fresh_database(url: str) -> None:
    database.downgrade(url, "base")
    database.upgrade(url, "head")


def timed_import(factory, path: Path, *, profile: bool = False) -> tuple[float, object]:
    started = time.perf_counter()
    sheet = read_sheet(path, filename=path.name, template=CATALOG, max_bytes=1 << 31)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    with session_scope(factory) as session:
        result = import_catalog(session, actor=SYSTEM, sheet=sheet, now=NOW, create_departments=True)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return time.perf_counter() - started, result


def list_latency(url: str, factory, runs: int = 60) -> dict[str, float]:
    with session_scope(factory) as session:
        user = create_user(session, actor=SYSTEM, username="bench", password="bench-bench", role="bureau")
        _, token = create_token(session, user=user, name="bench", now=NOW)
    app = create_app({"database_url": url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    queries = {
        "filter+text": "/api/v1/entries?sharing_type=unconditional&q=企业&page_size=20",
        "provider+text": "/api/v1/entries?provider_id=100&q=信息&page_size=20",
        "text only": "/api/v1/entries?q=人口&page_size=20",
        "mounted filter": "/api/v1/entries?mounted=false&update_cycle=yearly&page_size=20",
    }
    figures = {}
    for label, path in queries.items():
        client.get(path, headers=headers)  # warm
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.json
        figures[label] = (statistics.median(samples), sorted(samples)[int(runs * 0.95) - 1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--xlsx", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    rows = realdata.read_real()
    csv_path = work / "catalog.csv"
    realdata.write_template(csv_path, rows)
    print(f"database: {make_engine(url).dialect.name}; entries in file: {len(rows):,}")

    fresh_database(url)
    factory = make_session_factory(make_engine(url))
    seconds, result = timed_import(factory, csv_path, profile=args.profile)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CSV import:   {seconds:6.1f} s  {result.created / seconds:7,.0f} entries/s  "
          f"(created {result.created:,}, departments {result.departments_created:,}), peak RSS {peak:,.0f} MiB")

    seconds, result = timed_import(factory, csv_path)
    print(f"CSV re-import (unchanged): {seconds:6.1f} s  unchanged {result.unchanged:,}")

    for suffix in ("csv", "xlsx"):
        target = work / f"export.{suffix}"
        started = time.perf_counter()
        with session_scope(factory) as session:
            count = export_catalog(session, actor=SYSTEM, target=target)
        print(f"export {suffix}:   {time.perf_counter() - started:6.1f} s  {count:,} entries")

    for label, (median, p95) in list_latency(url, factory).items():
        print(f"list API {label:<15} median {median:6.1f} ms  p95 {p95:6.1f} ms")

    if args.xlsx:
        xlsx_path = work / "export.xlsx"
        fresh_database(url)
        seconds, result = timed_import(factory, xlsx_path)
        print(f"XLSX import:  {seconds:6.1f} s  {result.created / seconds:7,.0f} entries/s")


if __name__ == "__main__":
    main()
