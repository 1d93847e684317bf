"""Speed and memory of the matcher on the real catalog, and on a synthesised larger one.

Prints: index build time over all real entries, one demand's top-10 latency (median, p99),
the time to re-match many demands, resident memory of the process with the index, and the
median latency over a catalog synthesised from the real vocabulary at ``--large`` entries.

Usage: ``python bench/matching/speed.py [--data DIR] [--demands 10000] [--large 1000000]``
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, read_devset, read_rows, to_record  # noqa: E402

from matching import CatalogIndex, Query, Record  # noqa: E402

SEED = 20261122


def rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_queries(rows: list[dict], count: int, rng: random.Random) -> list[Query]:
    """Demands from the development set, then made from real entries: a title with a word
    dropped and a few of its items, in the catalog's own vocabulary."""
    queries = [Query(d["title"], d["description"], d["items"]) for d in read_devset()]
    while len(queries) < count:
        row = rng.choice(rows)
        title = row["resource_name"]
        cut = rng.randrange(len(title))
        items = [i for i in row["items"].split("|") if i]
        queries.append(Query(title[:cut] + title[cut + 2:], "",
                             rng.sample(items, min(len(items), rng.randint(0, 4)))))
    return queries[:count]


def timed(index: CatalogIndex, queries: list[Query]) -> list[float]:
    laps = []
    for query in queries:
        start = time.perf_counter()
        try:
            index.search(query, 10)
        except Exception:  # a generated query may be empty after normalisation
            pass
        laps.append((time.perf_counter() - start) * 1000)
    return laps


def synthesise(rows: list[dict], size: int, rng: random.Random) -> list[Record]:
    """Records recombining real titles, summaries and item lists under new keys."""
    records = []
    for n in range(size):
        base, other = rng.choice(rows), rng.choice(rows)
        items = [i for i in base["items"].split("|") if i][:6]
        items += [i for i in other["items"].split("|") if i][:3]
        records.append(Record(f"syn-{n}", base["resource_name"], base["summary"], items,
                              other["department"]))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--demands", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000, help="0 to skip")
    args = parser.parse_args()
    rng = random.Random(SEED)
    rows = read_rows(args.data)
    before = rss_mib()
    start = time.perf_counter()
    index = CatalogIndex.build(to_record(r) for r in rows)
    print(f"entries: {len(index):,}  build: {time.perf_counter() - start:.1f} s")
    queries = sample_queries(rows, args.demands, rng)
    timed(index, queries[:50])
    laps = timed(index, queries[:1000])
    print(f"one demand top-10: median {statistics.median(laps):.1f} ms  "
          f"p99 {statistics.quantiles(laps, n=100)[98]:.1f} ms")
    start = time.perf_counter()
    timed(index, queries)
    print(f"{len(queries):,} demands re-matched: {time.perf_counter() - start:.1f} s")
    print(f"resident memory: {rss_mib():.0f} MiB peak ({rss_mib() - before:.0f} MiB over the "
          f"loaded CSV)")
    if args.large:
        del index
        start = time.perf_counter()
        large = CatalogIndex.build(synthesise(rows, args.large, rng))
        print(f"synthesised entries: {len(large):,}  build: {time.perf_counter() - start:.1f} s")
        laps = timed(large, queries[:500])
        print(f"one demand top-10 at {len(large):,}: median {statistics.median(laps):.1f} ms  "
              f"p99 {statistics.quantiles(laps, n=100)[98]:.1f} ms")


if __name__ == "__main__":
    main()
