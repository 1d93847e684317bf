"""Re-matching and synonym edits over the real catalog; prints the figures.

    python bench/rematch.py                                   # SQLite file in a temp folder
    python bench/rematch.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    python bench/rematch.py --demands 10000 --changed 100

Imports all 111,440 real entries (../shared/data/catalog_real.csv) as published and the 242
GB/T 39046 data elements, files
``--demands`` submitted demands made from real entries (a title with two characters dropped and
up to four of its items, in the catalog's own words), then times:

- the matcher's index built from the database (cold);
- the ``rematch`` job's first run (every open demand re-matched, suggestions written);
- a run after ``--changed`` entries changed (only the affected demands);
- a synonym edit: adding a group, then the next refresh (the index rebuilt from the records held
  in memory with the new synonym layer, no reload from the database), and a data-element
  suggestion before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

# This checkout first (never an installed copy), with the shared bench modules beside.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import realdata  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from catalog.actors import SYSTEM  # noqa: E402
from catalog.db import make_engine, make_session_factory, session_scope  # noqa: E402
from catalog.elements import import_elements  # noqa: E402
from catalog.importing import import_catalog  # noqa: E402
from catalog.models import CatalogEntry, Department  # noqa: E402
from catalog.templates import CATALOG, ELEMENTS, read_sheet  # noqa: E402
from catalog.vocab import EntryStatus  # noqa: E402
from exchange import database  # noqa: E402
from exchange.demands.matching import MatchEngine  # noqa: E402
from exchange.demands.models import Demand, DemandItem, DemandStatus  # noqa: E402
from exchange.demands.rematch import rematch  # noqa: E402
from exchange.synonyms import services as synonyms  # noqa: E402
from exchange.synonyms.suggestions import suggest  # noqa: E402

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
SEED = 20261122


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lap(label: str, started: float, extra: str = "") -> float:
    seconds = time.perf_counter() - started
    print(f"{label:<58} {seconds:8.2f} s  {extra}", flush=True)
    return seconds


def load_catalog(factory, work: Path) -> None:
    path = work / "catalog.csv"
    realdata.write_template(path, realdata.read_real())
    sheet = read_sheet(path, filename=path.name, template=CATALOG, max_bytes=1 << 31)
    started = time.perf_counter()
    with session_scope(factory) as session:
        result = import_catalog(session, actor=SYSTEM, sheet=sheet, now=NOW, create_departments=True,
                                status=EntryStatus.PUBLISHED)
    lap("import of the real catalog, published", started, f"{result.created:,} entries")
    elements = read_sheet(realdata.REAL_ELEMENTS, filename="elements.csv", template=ELEMENTS, max_bytes=1 << 26)
    with session_scope(factory) as session:
        import_elements(session, actor=SYSTEM, sheet=elements)
    with session_scope(factory) as session:  # a catalog's entries changed at different times, not one instant
        session.execute(update(CatalogEntry).values(updated_at=NOW - dt.timedelta(days=1)))
        latest = session.scalars(select(CatalogEntry.id).limit(1)).one()
        session.execute(update(CatalogEntry).where(CatalogEntry.id == latest).values(updated_at=NOW))


def demand_texts(count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    rows = realdata.read_real()
    texts = []
    while len(texts) < count:
        row = rng.choice(rows)
        title = row["resource_name"].strip()
        if len(title) < 4:
            continue
        cut = rng.randrange(len(title) - 1)
        items = list(dict.fromkeys(i.strip()[:100] for i in row["items"].split("|") if i.strip()))
        texts.append((title[:cut] + title[cut + 2:], rng.sample(items, min(len(items), rng.randint(0, 4)))))
    return texts


def file_demands(factory, count: int, rng: random.Random) -> None:
    started = time.perf_counter()
    with session_scope(factory) as session:
        requester = session.scalars(select(Department.id)).first()
        for number, (title, items) in enumerate(demand_texts(count, rng)):
            session.add(Demand(ref=f"BENCH-{number:05d}", title=title[:200], description=title, requester_id=requester,
                               status=DemandStatus.SUBMITTED, submitted_at=NOW, created_at=NOW, updated_at=NOW,
                               items=[DemandItem(name=name, position=i) for i, name in enumerate(items)]))
    lap("demands filed (submitted)", started, f"{count:,}")


def touch(factory, count: int, rng: random.Random, when: dt.datetime) -> None:
    with session_scope(factory) as session:
        ids = rng.sample(list(session.scalars(select(CatalogEntry.id))), count)
        session.execute(update(CatalogEntry).where(CatalogEntry.id.in_(ids)).values(updated_at=when))


def timed_run(factory, engine: MatchEngine, when: dt.datetime, label: str) -> None:
    started = time.perf_counter()
    run = rematch(factory, now=when, engine=engine)
    counts = "，".join(f"{k} {v}" for k, v in run.counts.items())
    lap(label, started, f"{run.status.value}；{counts}{'；' + run.error if run.error else ''}")


def synonym_edit(factory, engine: MatchEngine, when: dt.datetime) -> None:
    with session_scope(factory) as session:
        started = time.perf_counter()
        suggest(session, engine=engine, names=["车辆识别代码"], top_k=5)
        lap("element suggestion, first call (element index built)", started)
        started = time.perf_counter()
        suggest(session, engine=engine, names=["车辆识别代码"], top_k=5)
        lap("element suggestion, warm", started)
    with session_scope(factory) as session:
        started = time.perf_counter()
        synonyms.create_synonym(session, actor=SYSTEM, terms=["车辆识别代号", "车辆识别代码"], now=when)
        lap("synonym group added (the write)", started)
    with session_scope(factory) as session:
        started = time.perf_counter()
        engine.refresh(session, when)
        lap("next refresh after the edit (index rebuilt from memory)", started, f"{len(engine.index):,} entries")
        started = time.perf_counter()
        engine.refresh(session, when)
        lap("refresh with nothing changed", started)
        started = time.perf_counter()
        suggest(session, engine=engine, names=["车辆识别代码"], top_k=5)
        lap("element suggestion after the edit (element index rebuilt)", started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--demands", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    rng = random.Random(SEED)
    database.downgrade(url, "base")
    database.upgrade(url, "head")
    factory = make_session_factory(make_engine(url))
    print(f"database: {make_engine(url).dialect.name}")
    load_catalog(factory, work)
    file_demands(factory, args.demands, rng)

    engine = MatchEngine()
    started = time.perf_counter()
    with session_scope(factory) as session:
        engine.refresh(session, NOW)
    lap("matcher index built from the database (cold)", started, f"{len(engine.index):,} entries")
    timed_run(factory, engine, NOW + dt.timedelta(minutes=1), f"rematch, first run ({args.demands:,} demands)")
    touch(factory, args.changed, rng, NOW + dt.timedelta(minutes=2))
    timed_run(factory, engine, NOW + dt.timedelta(minutes=3), f"rematch after {args.changed} entries changed")
    timed_run(factory, engine, NOW + dt.timedelta(minutes=4), "rematch with nothing changed")
    synonym_edit(factory, engine, NOW + dt.timedelta(minutes=5))
    print(f"peak resident memory: {rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
