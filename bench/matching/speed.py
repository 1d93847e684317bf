"""Speed and memory of the matcher on the real catalog, and on a synthesised larger one.

Prints (wall-clock and CPU time: on a shared, loaded machine compare the CPU time): index
build time over all real entries (a build this large also analyses records on helper
processes, one per core: their CPU time and memory are shown apart), one demand's top-10
latency (median, p99), the time to re-match many demands (together, on every core, as the
re-matching job does; then one after another), the largest demand the limits allow, resident
memory of the process with the index, and the median latency over a catalog synthesised from
the real vocabulary at ``--large`` entries.

Usage: ``python bench/matching/speed.py [--data DIR] [--demands 10000] [--large 1000000]``
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

# This checkout's ``matching`` first, never an installed copy; then the shared bench modules.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

from common import DATA, read_devset, read_rows, to_record  # noqa: E402

from matching import CatalogIndex, MatchingError, Query, Record  # noqa: E402
from matching.workers import workers_for  # noqa: E402

SEED = 20261122


def rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MiB of this process, or of the largest helper process it
    waited for (``RUSAGE_CHILDREN``); Linux reports KiB."""
    return resource.getrusage(who).ru_maxrss / 1024


def helpers_private_mib() -> float:
    """Memory of this process's live helper processes that they do not share with it (their
    private pages: what forking them cost), in MiB; 0 where /proc does not tell."""
    pid = os.getpid()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total = 0
    for child in children:
        try:
            rollup = Path(f"/proc/{child}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in rollup if line.startswith("Private_"))
    return total / 1024


def helper_cpu() -> float:
    """CPU seconds of the helper processes waited for (those of builds and of ``search_many``)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def largest_demand(rows: list[dict], rng: random.Random) -> Query:
    """The largest demand the limits allow: title and description of 4,000 characters of
    real titles, 300 real item names."""
    text = "".join(rng.choice(rows)["resource_name"] for _ in range(400))[:4000]
    names = sorted({i[:100] for r in rows for i in r["items"].split("|") if i})
    return Query(text, text[::-1], rng.sample(names, 300))


def timed(index: CatalogIndex, queries: list[Query], clock=time.perf_counter) -> list[float]:
    laps = []
    for query in queries:
        start = clock()
        try:
            index.search(query, 10)
        except Exception:  # a generated query may be empty after normalisation
            pass
        laps.append((clock() - start) * 1000)
    return laps


def spent(since: tuple[float, float, float]) -> str:
    """Wall and CPU seconds since ``now()``: on a loaded machine the CPU time is the figure to
    compare. A large build also spends CPU in helper processes, shown apart."""
    helpers = helper_cpu() - since[2]
    return (f"{time.perf_counter() - since[0]:.1f} s wall, "
            f"{time.process_time() - since[1]:.1f} s CPU"
            + (f" + {helpers:.1f} s CPU in helper processes" if helpers > 0.05 else ""))


def now() -> tuple[float, float, float]:
    return time.perf_counter(), time.process_time(), helper_cpu()


def latency(index: CatalogIndex, queries: list[Query]) -> str:
    wall, cpu = timed(index, queries), timed(index, queries, time.process_time)
    return (f"median {statistics.median(wall):.1f} ms  p99 {_p99(wall):.1f} ms wall; "
            f"median {statistics.median(cpu):.1f} ms  p99 {_p99(cpu):.1f} ms CPU")


def _p99(laps: list[float]) -> float:
    return statistics.quantiles(laps, n=100)[98]


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
    start = now()
    index = CatalogIndex.build(to_record(r) for r in rows)
    print(f"entries: {len(index):,}  build: {spent(start)}", flush=True)
    queries = sample_queries(rows, args.demands, rng)
    timed(index, queries[:50])
    print(f"one demand top-10: {latency(index, queries[:1000])}", flush=True)
    start = now()
    refused, private = 0, 0.0
    for done, one in enumerate(index.search_many(queries, 10)):
        refused += isinstance(one, MatchingError)
        if done % 500 == 0:
            private = max(private, helpers_private_mib())
    print(f"{len(queries):,} demands re-matched together (search_many, up to "
          f"{workers_for(index.config.workers)} processes; {refused} refused): {spent(start)}; "
          f"helpers' own memory up to {private:.0f} MiB", flush=True)
    start = now()
    timed(index, queries)
    print(f"{len(queries):,} demands re-matched one after another (search): {spent(start)}",
          flush=True)
    laps = timed(index, [largest_demand(rows, rng) for _ in range(5)], time.process_time)
    print(f"largest allowed demand (4,000-character texts, 300 items): "
          f"median {statistics.median(laps):.0f} ms  max {max(laps):.0f} ms CPU", flush=True)
    print(f"resident memory: {rss_mib():.0f} MiB peak ({rss_mib() - before:.0f} MiB over the "
          f"loaded CSV); largest helper process {rss_mib(resource.RUSAGE_CHILDREN):.0f} MiB",
          flush=True)
    if args.large:
        del index
        start = now()
        large = CatalogIndex.build(synthesise(rows, args.large, rng))
        print(f"synthesised entries: {len(large):,}  build: {spent(start)}", flush=True)
        print(f"one demand top-10 at {len(large):,}: {latency(large, queries[:500])}")


if __name__ == "__main__":
    main()
