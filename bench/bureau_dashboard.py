"""Time the bureau's dashboard pages over the real catalog's size and a year of snapshots; print them.

    python bench/bureau_dashboard.py                                   # SQLite file in a temp folder
    python bench/bureau_dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The database is loaded as bench/dashboards.py loads it (111,440 entries shaped like the real
catalog, departments over the five levels, 3,000 demands with suggested matches, the freshness
scan run), one snapshot is taken and copied to the 364 days before it, so a year of daily
snapshots is stored.  Then each page is fetched through the app as a signed-in bureau user (its
whole HTML, charts' data included): median and 95th percentile of 20 requests.  The page reads
only the snapshot rows, never the live catalog; the drill-down lists and the blocking entries are
read live, one page at a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import dashboards as loader  # noqa: E402 - the same data as the dashboards benchmark
import freshness_scan  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from catalog.actors import SYSTEM  # noqa: E402
from catalog.db import make_engine, make_session_factory, session_scope  # noqa: E402
from catalog.models import Department  # noqa: E402
from exchange import create_app  # noqa: E402
from exchange.accounts.models import User  # noqa: E402
from exchange.accounts.services import create_user  # noqa: E402
from exchange.dashboards.snapshot import snapshot  # noqa: E402
from exchange.freshness.scan import scan  # noqa: E402

NOW = loader.NOW
RUNS = 20
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def load(url: str) -> str:
    real = freshness_scan.shapes()
    freshness_scan.fresh_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seconds = freshness_scan.load(factory, len(real), real)
    loader.add_levels(factory)
    loader.add_demands(factory, random.Random(20261122))
    scan(factory, now=NOW)
    run = snapshot(factory, now=NOW)
    rows = loader.a_year_of_snapshots(factory)
    with session_scope(factory) as session:
        departments = session.scalar(select(func.count()).select_from(Department))
    engine.dispose()
    return (f"{engine.dialect.name}: {len(real):,} entries, {departments:,} departments, {loader.DEMANDS:,} demands "
            f"(loaded in {seconds:.1f} s); snapshot {run.duration_ms:,} ms; a year of snapshots: {rows:,} rows")


def signed_in(url: str):
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        if session.scalar(select(User).where(User.username == "bench")) is None:
            create_user(session, actor=SYSTEM, username="bench", password="bench-bench", role="bureau")
        department = session.scalar(select(Department.id).order_by(Department.id).offset(10).limit(1))
    engine.dispose()
    app = create_app({"database_url": url})
    client = app.test_client()
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "bench", "password": "bench-bench", "csrf_token": token})
    return client, department


def time_pages(url: str) -> None:
    client, department = signed_in(url)
    year = f"start={NOW.date() - dt.timedelta(days=364)}&end={NOW.date()}"
    pages = {
        "dashboard (30 days)": "/bureau/dashboard",
        "dashboard (a year)": f"/bureau/dashboard?{year}",
        "dashboard, one level, a year": f"/bureau/dashboard?level=county&{year}",
        "dashboard, one department, year": f"/bureau/dashboard?department_id={department}&{year}",
        "dashboard sorted, page 3": "/bureau/dashboard?sort=-mounted_rate&page=3",
        "dashboard sorted by -timely_rate, year": f"/bureau/dashboard?sort=-timely_rate&{year}",
        "scorecards": "/bureau/dashboard/scorecards",
        "scorecards sorted by -stale_rate": "/bureau/dashboard/scorecards?sort=-stale_rate",
        "blocking entries (page 1)": "/bureau/dashboard/blocking",
        "unmounted list (all, page 1)": "/bureau/dashboard/lists/unmounted",
        "unmounted list of a department": f"/bureau/dashboard/lists/unmounted?department_id={department}",
        "departments table as XLSX": "/bureau/dashboard?format=xlsx",
    }
    for label, path in pages.items():
        response = client.get(path)  # warm
        assert response.status_code == 200, (path, response.status_code)
        samples = []
        for _ in range(RUNS):
            started = time.perf_counter()
            client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        p95 = sorted(samples)[int(RUNS * 0.95) - 1]
        print(f"  {label:<34} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   "
              f"{len(response.data) / 1024:6.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--pages-only", action="store_true", help="time the pages on a database loaded before")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='exchange-bench-')) / 'bench.db'}"
    if not args.pages_only:
        print(load(url))
    time_pages(url)


if __name__ == "__main__":
    main()
