"""A large build analyses its records on helper processes too, and many demands are searched
on them; the index and the results are the same as in a single process, and a process with
other threads, or a helper that dies, still gets them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from matching import DEFAULT_CONFIG, CatalogIndex, Query, Record
from matching import workers

from .test_matching_real_slice import DATA

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh single-threaded interpreter: helpers are only forked from such a process,
# and pytest's may hold threads of other tests. Prints what the parent checks.
SCRIPT = r"""
import csv, os, sys
from matching import DEFAULT_CONFIG, CatalogIndex, Query, Record, workers
from matching.analysis import RecordText

with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = [r for r in csv.DictReader(handle) if r["source"] == "cnpds:zhejiang_taizhou"][:3000]
records = [Record(f"row-{n}", r["resource_name"], r["summary"], r["items"].split("|"),
                  r["department"]) for n, r in enumerate(rows)]
workers.CHUNK = 200
from_helpers = []
restore = RecordText.from_flat
RecordText.from_flat = classmethod(lambda cls, parts: from_helpers.append(1) or restore(parts))
def die(chunk):
    os._exit(3)
if sys.argv[2] == "die":  # every helper dies on its first task
    workers._helper_task = die
alone = CatalogIndex.build(records, config=DEFAULT_CONFIG.replace(workers=1))
shared = CatalogIndex.build(records, config=DEFAULT_CONFIG.replace(
    workers=2, parallel_build_min_records=1))
queries = [Query(r["resource_name"][1:], items=r["items"].split("|")[:3]) for r in rows[::len(rows) // 20]]
same = all(alone.candidate_features(q) == shared.candidate_features(q) for q in queries)
print(len(queries), len(from_helpers), same)
"""


def build_in_a_fresh_process(mode: str) -> tuple[int, int, bool]:
    if not DATA.exists():
        pytest.skip(f"real catalog not found at ../shared/data ({DATA.name})")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(DATA), mode], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    queries, from_helpers, same = done.stdout.split()
    return int(queries), int(from_helpers), same == "True"


def test_helpers_analyse_records_and_the_index_is_the_same():
    queries, from_helpers, same = build_in_a_fresh_process("normal")
    assert queries >= 10
    assert from_helpers > 0  # the helpers did take part
    assert same


def test_a_helper_that_dies_leaves_its_records_to_this_process():
    queries, from_helpers, same = build_in_a_fresh_process("die")
    assert from_helpers == 0
    assert same


def test_a_process_with_other_threads_builds_alone(monkeypatch):
    monkeypatch.setattr(workers, "CHUNK", 2)
    monkeypatch.setattr(workers, "ProcessPoolExecutor", None)  # calling it would fail the test
    records = [Record(f"r{n}", f"{place}建设工程施工许可信息", items=["项目名称", "许可证号"])
               for n, place in enumerate(["城东", "城西", "江北", "江南"] * 3)]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not workers.can_fork()
        index = CatalogIndex.build(records, config=DEFAULT_CONFIG.replace(
            workers=2, parallel_build_min_records=1))
    finally:
        stop.set()
        other.join()
    found = index.search(Query("江北施工许可"), top_k=1).candidates
    assert found[0].title == "江北建设工程施工许可信息"


# Many demands searched together: each result (or refusal) as ``search`` gives it, in order,
# some of them found by a helper. Prints what the parent checks.
SEARCH_SCRIPT = r"""
import csv, os, sys
from matching import DEFAULT_CONFIG, CatalogIndex, MatchingError, Query, Record, index, workers

with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = [r for r in csv.DictReader(handle) if r["source"] == "cnpds:zhejiang_taizhou"][:3000]
records = [Record(f"row-{n}", r["resource_name"], r["summary"], r["items"].split("|"),
                  r["department"]) for n, r in enumerate(rows)]
built = CatalogIndex.build(records, config=DEFAULT_CONFIG.replace(
    workers=2, parallel_search_min_queries=1))
index.SEARCH_CHUNK = 5
queries = [Query(r["resource_name"][2:], items=r["items"].split("|")[:2]) for r in rows[::len(rows) // 60]]
queries[3:3] = [Query("。。。！"), Query("企业" * 3000)]  # refused: nothing meaningful, too long
if sys.argv[2] == "die":
    def die(chunk):
        os._exit(3)
    workers._helper_task = die
search = CatalogIndex._search_or_error
CatalogIndex._search_or_error = lambda self, query, top_k: (os.getpid(), search(self, query, top_k))
together = list(built.search_many(queries, top_k=5))
alone = [search(built, q, 5) for q in queries]

def seen(found):
    if isinstance(found, MatchingError):
        return found.to_dict()
    return [found.status, found.unmet_reason, [(c.key, c.score) for c in found.candidates]]

same = [seen(found) for _, found in together] == [seen(found) for found in alone]
refused = [found.code for _, found in together if isinstance(found, MatchingError)]
helped = sum(pid != os.getpid() for pid, _ in together)
print(len(queries), helped, same, ",".join(refused))
"""


def search_in_a_fresh_process(mode: str) -> tuple[int, int, bool, str]:
    if not DATA.exists():
        pytest.skip(f"real catalog not found at ../shared/data ({DATA.name})")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run([sys.executable, "-c", SEARCH_SCRIPT, str(DATA), mode],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    queries, helped, same, refused = done.stdout.split()
    return int(queries), int(helped), same == "True", refused


def test_many_demands_are_searched_on_helpers_with_the_same_results_in_order():
    queries, helped, same, refused = search_in_a_fresh_process("normal")
    assert queries >= 50
    assert helped > 0  # the helpers did take part
    assert same  # every result, score and verdict as a search in this process gives it
    assert refused == "empty_query,query_too_long"  # refusals come back as errors, in place


def test_searches_a_dead_helper_had_are_done_by_this_process():
    queries, helped, same, refused = search_in_a_fresh_process("die")
    assert helped == 0
    assert same
    assert refused == "empty_query,query_too_long"
