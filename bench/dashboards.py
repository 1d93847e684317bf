"""Time the dashboard snapshot job and the summary endpoint at the real catalog's size; print the figures.

    python bench/dashboards.py                                   # SQLite file in a temp folder
    python bench/dashboards.py --database-url postgresql://postgres@127.0.0.1:5432/test

The database is emptied and loaded as bench/freshness_scan.py loads it (111,440 entries shaped
like ../shared/data/catalog_real.csv, about half stale, about half unmounted), departments spread
over the five levels, 3,000 demands in every workflow state with three suggested matches each;
the freshness scan runs; the snapshot job is timed (cold and rerun: a rerun replaces the day);
then the day's rows are copied to the 364 days before it, so a year of daily snapshots is stored,
and the dashboard endpoints are timed through the app (median and 95th percentile of 30 calls).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# This checkout first (never an installed copy), with the shared bench modules beside.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import freshness_scan  # noqa: E402
from sqlalchemy import case, delete, func, insert, literal, select, text, update  # noqa: E402

from catalog.actors import SYSTEM  # noqa: E402
from catalog.db import allocate_ids, bulk_insert, make_engine, make_session_factory, refresh_statistics, session_scope  # noqa: E402
from catalog.models import CatalogEntry, Department  # noqa: E402
from exchange import create_app  # noqa: E402
from exchange.accounts.models import User  # noqa: E402
from exchange.accounts.services import create_token, create_user  # noqa: E402
from exchange.dashboards.models import DashboardFigure  # noqa: E402
from exchange.dashboards.snapshot import snapshot  # noqa: E402
from exchange.demands.models import Demand, DemandMatch, DemandStep  # noqa: E402
from exchange.freshness.scan import scan  # noqa: E402

NOW = freshness_scan.NOW
DEMANDS = 3_000
LEVELS = ("national", "provincial", "municipal", "county", "township")
STATES = ("submitted", "accepted", "matched", "confirmed", "declined", "fulfilled", "unmet", "closed")
F = DashboardFigure.__table__


def add_levels(factory) -> None:
    with session_scope(factory) as session:
        for i, level in enumerate(LEVELS):
            session.execute(text(f"UPDATE departments SET level = '{level}' WHERE id % 5 = {i}"))


def add_demands(factory, rng: random.Random) -> None:
    """Demands in every state, routed to the provider of their first match, answered in 0-15 days."""
    with session_scope(factory) as session:
        first, last = session.execute(select(func.min(CatalogEntry.id), func.max(CatalogEntry.id))).one()
        providers = {i: p for i, p in session.execute(select(CatalogEntry.id, CatalogEntry.provider_id))}
        ids = allocate_ids(session, Demand.__table__, DEMANDS)
        demands, matches, steps = [], [], []
        for n, demand_id in enumerate(ids):
            entries = rng.sample(range(first, last + 1), 3)
            status = STATES[n % len(STATES)]
            routed = NOW - dt.timedelta(days=rng.uniform(5, 60))
            demands.append(demand_row(demand_id, n, status, providers[entries[0]], routed, rng))
            matches += [{"demand_id": demand_id, "entry_id": e, "rank": r + 1, "score": 0.8, "explanation": [],
                         "state": "confirmed" if r == 0 and status in ("confirmed", "fulfilled") else "suggested"}
                        for r, e in enumerate(entries)]
            if status not in ("submitted", "accepted"):
                steps.append(step_row(demand_id, "route", "accepted", "matched", routed))
            if status not in ("submitted", "accepted", "matched"):
                steps.append(step_row(demand_id, "confirm", "matched", "confirmed",
                                      routed + dt.timedelta(days=rng.uniform(0, 15))))
        bulk_insert(session, Demand.__table__, demands)
        bulk_insert(session, DemandMatch.__table__, matches)
        bulk_insert(session, DemandStep.__table__, [{"id": i, **s} for i, s in
                                                    zip(allocate_ids(session, DemandStep.__table__, len(steps)), steps)])
        refresh_statistics(session, Demand.__table__, DemandMatch.__table__, DemandStep.__table__)


def demand_row(demand_id: int, n: int, status: str, provider_id: int, routed: dt.datetime, rng) -> dict:
    return {"id": demand_id, "ref": f"XQ-2026-{n:05d}", "title": f"需求{n}", "description": "基准测试需求",
            "requester_id": provider_id, "status": status,
            "provider_id": None if status in ("submitted", "accepted") else provider_id,
            "unmet_reason": "not_mounted" if status in ("unmet", "closed") else None,
            "satisfied": rng.random() < 0.5 if status == "closed" else None,
            "deadline": routed + dt.timedelta(days=14) if status in ("submitted", "matched", "declined") else None,
            "submitted_at": routed, "created_at": routed, "updated_at": routed, "lock_version": 1}


def step_row(demand_id: int, action: str, before: str, after: str, at: dt.datetime) -> dict:
    return {"demand_id": demand_id, "action": action, "from_status": before, "to_status": after, "at": at}


def timed_snapshot(factory, label: str) -> None:
    started = time.perf_counter()
    run = snapshot(factory, now=NOW)
    print(f"  snapshot {label:<6} {time.perf_counter() - started:6.2f} s  {run.status.value}  {run.counts}"
          + (f"  error: {run.error}" if run.error else ""))


def a_year_of_snapshots(factory) -> int:
    """Copy the day's rows to each of the 364 days before it (one INSERT … SELECT a day), the running
    totals of the flows grown day by day as 365 equal days would grow them."""
    today = NOW.date()
    running = F.c.figure.like("%:total")
    with session_scope(factory) as session:
        session.execute(delete(F).where(F.c.day < today))
        for back in range(1, 365):
            value = case((running, F.c.value * (365 - back)), else_=F.c.value)
            rows = select(literal(today - dt.timedelta(days=back), F.c.day.type), F.c.department_id, F.c.level,
                          F.c.figure, value).where(F.c.day == today)
            session.execute(insert(F).from_select(["day", "department_id", "level", "figure", "value"], rows))
        session.execute(update(F).where(F.c.day == today, running).values(value=F.c.value * 365))
        refresh_statistics(session, F)
        return session.scalar(select(func.count()).select_from(F))


def endpoint_latency(url: str, factory, runs: int = 30) -> None:
    with session_scope(factory) as session:
        user = session.scalar(select(User).where(User.username == "bench")) or create_user(
            session, actor=SYSTEM, username="bench", password="bench-bench", role="bureau")
        _, token = create_token(session, user=user, name="bench", now=NOW)
        some_department = session.scalar(select(Department.id).order_by(Department.id).offset(10).limit(1))
    client = create_app({"database_url": url}).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    year = f"start={NOW.date() - dt.timedelta(days=364)}&end={NOW.date()}"
    paths = {
        "summary (30 days)": "/api/v1/dashboards/summary",
        "summary (a year)": f"/api/v1/dashboards/summary?{year}",
        "summary, one department, year": f"/api/v1/dashboards/summary?department_id={some_department}&{year}",
        "summary, one level, year": f"/api/v1/dashboards/summary?level=county&{year}",
        "trends (a year)": f"/api/v1/dashboards/trends?{year}",
        "departments table (page 1)": "/api/v1/dashboards/departments?sort=-entries",
        "departments by -timely_rate, year": f"/api/v1/dashboards/departments?sort=-timely_rate&{year}",
        "departments by satisfaction_rate": "/api/v1/dashboards/departments?sort=satisfaction_rate",
        "scorecards by -mounted_rate": "/api/v1/dashboards/scorecards?sort=-mounted_rate",
        "blocking entries (page 1)": "/api/v1/dashboards/blocking",
        "unmounted list of a department": f"/api/v1/dashboards/lists/unmounted?department_id={some_department}",
    }
    for label, path in paths.items():
        response = client.get(path, headers=headers)  # warm
        assert response.status_code == 200, response.get_json()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
        p95 = sorted(samples)[int(runs * 0.95) - 1]
        print(f"  {label:<34} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--endpoints-only", action="store_true",
                        help="time the endpoints on a database this script loaded before")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='exchange-bench-')) / 'bench.db'}"
    if args.endpoints_only:
        engine = make_engine(url)
        endpoint_latency(url, make_session_factory(engine))
        engine.dispose()
        return
    real = freshness_scan.shapes()
    freshness_scan.fresh_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seconds = freshness_scan.load(factory, len(real), real)
    add_levels(factory)
    add_demands(factory, random.Random(20261122))
    scan(factory, now=NOW)
    with session_scope(factory) as session:
        departments = session.scalar(select(func.count()).select_from(Department))
    print(f"{engine.dialect.name}: {len(real):,} entries, {departments:,} departments, {DEMANDS:,} demands "
          f"(loaded in {seconds:.1f} s)")
    timed_snapshot(factory, "cold")
    timed_snapshot(factory, "rerun")
    print(f"  a year of daily snapshots: {a_year_of_snapshots(factory):,} summary rows")
    endpoint_latency(url, factory)
    engine.dispose()


if __name__ == "__main__":
    main()
