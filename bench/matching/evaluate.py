"""Score the matcher and three baselines on the development set, side by side.

Every demand is searched against its own portal only (one index per portal). Prints nDCG@10,
MRR and recall@10 over answerable demands for each system, a per-style nDCG@10 breakdown, and
nDCG@10 per portal, and
for the matcher how often demands without an answer are recognised as unmet and how often
answerable ones are wrongly declared unmet, and how well an unmet demand is routed: each
demand's full answers (grade 2) are hidden from the index and the demand asked again; the
department the matcher then names as the likely owner should be one of theirs.

Usage: ``python bench/matching/evaluate.py [--data DIR] [--devset FILE] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

# This checkout's ``matching`` first, never an installed copy; then the shared bench modules.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

from baselines import TitleWRatioSearch, bm25_bigrams, bm25_words  # noqa: E402
from common import DATA, DEVSET, read_devset, read_rows, rows_by_portal, to_record  # noqa: E402

from matching import CatalogIndex, Query  # noqa: E402
from matching.diagnosis import likely_provider  # noqa: E402
from matching.evaluation import Outcome, answerable, summarise  # noqa: E402

SYSTEMS = ("matcher", "bm25_words", "bm25_bigrams", "wratio_titles")
TOP_K = 10


def matcher_outcome(index: CatalogIndex, demand: dict) -> Outcome:
    result = index.search(Query(demand["title"], demand["description"], demand["items"]), TOP_K)
    return Outcome(demand["judgments"], [c.key for c in result.candidates],
                   result.status == "unmet")


def routed(index: CatalogIndex, records: dict, demand: dict) -> bool | None:
    """Whether the department named for the demand, with its full answers hidden from the
    index, owns one of them (None: the demand has no full answer). The index is left as found."""
    hidden = [key for key, grade in demand["judgments"].items() if grade == 2]
    if not hidden:
        return None
    index.remove(hidden)
    try:
        result = index.search(Query(demand["title"], demand["description"], demand["items"]),
                              TOP_K)
    finally:
        index.upsert(records[key] for key in hidden)
    return likely_provider(result.candidates, index.config) in {records[k].provider
                                                                for k in hidden}


def run_portal(rows: list[dict], demands: list[dict]) -> dict[str, list[tuple[dict, Outcome]]]:
    records = {r["key"]: to_record(r) for r in rows}
    index = CatalogIndex.build(records.values())
    baselines = {"bm25_words": bm25_words(rows), "bm25_bigrams": bm25_bigrams(rows),
                 "wratio_titles": TitleWRatioSearch(rows)}
    found: dict[str, list] = defaultdict(list)
    for demand in demands:
        found["matcher"].append((demand, matcher_outcome(index, demand)))
        for name, system in baselines.items():
            ranked = system.search(demand, TOP_K)
            found[name].append((demand, Outcome(demand["judgments"], ranked)))
    # After every search above: hiding and restoring entries renumbers them, which could
    # reorder exact ties.
    found["routing"] = [(demand, routed(index, records, demand)) for demand in demands]
    return found


def evaluate(data: Path, devset: Path) -> dict[str, list[tuple[dict, Outcome]]]:
    demands = read_devset(devset)
    by_portal: dict[str, list[dict]] = defaultdict(list)
    for demand in demands:
        by_portal[demand["source"]].append(demand)
    portals = rows_by_portal(read_rows(data))
    results: dict[str, list] = defaultdict(list)
    for source, portal_demands in sorted(by_portal.items()):
        for name, pairs in run_portal(portals[source], portal_demands).items():
            results[name].extend(pairs)
    return results


def report(results: dict[str, list[tuple[dict, Outcome]]]) -> dict:
    styles = sorted({d["style"] for d, _ in results["matcher"] if answerable(d["judgments"])})
    portals = sorted({d["source"] for d, _ in results["matcher"]})
    table = {}
    for name in SYSTEMS:
        pairs = results[name]
        overall = summarise(o for _, o in pairs).to_dict()
        overall["by_style"] = {s: summarise(o for d, o in pairs if d["style"] == s).ndcg10
                               for s in styles}
        overall["by_portal"] = {p: summarise(o for d, o in pairs if d["source"] == p).ndcg10
                                for p in portals}
        table[name] = overall
    table["matcher"]["routed_of"] = {
        p: routed_of(ok for d, ok in results["routing"] if d["source"] == p) for p in portals}
    table["matcher"]["routed_of"]["all"] = routed_of(ok for _, ok in results["routing"])
    return table


def routed_of(outcomes) -> list[int]:
    """[demands routed to an owner of their hidden answers, demands with such answers]"""
    asked = [ok for ok in outcomes if ok is not None]
    return [sum(asked), len(asked)]


def print_table(table: dict, demands: int, unanswerable: int) -> None:
    print(f"development set: {demands} demands ({unanswerable} without an answer), top {TOP_K}")
    styles = list(table["matcher"]["by_style"])
    header = f"{'system':<15}{'nDCG@10':>9}{'MRR':>7}{'R@10':>7}" + "".join(
        f"{s[:10]:>12}" for s in styles)
    print(header)
    for name, row in table.items():
        cells = "".join(f"{row['by_style'][s]:>12.3f}" for s in styles)
        print(f"{name:<15}{row['ndcg10']:>9.3f}{row['mrr']:>7.3f}{row['recall10']:>7.3f}{cells}")
    portals = list(table["matcher"]["by_portal"])
    print("nDCG@10 by portal (a change that only helps some portals shows here)")
    print(f"{'system':<15}" + "".join(f"{p.split(':')[-1][:16]:>18}" for p in portals))
    for name, row in table.items():
        print(f"{name:<15}" + "".join(f"{row['by_portal'][p]:>18.3f}" for p in portals))
    matcher = table["matcher"]
    print(f"matcher unmet recognised: {matcher['unmet_recognised']:.3f}   "
          f"answerable wrongly unmet: {matcher['false_unmet']:.3f}")
    hits, asked = matcher["routed_of"]["all"]
    by_portal = ", ".join(f"{p.split(':')[-1]} {h} of {n}"
                          for p, (h, n) in matcher["routed_of"].items() if p != "all")
    print(f"matcher routing: with its full answers hidden, a demand is routed to one of their "
          f"departments {hits / max(asked, 1):.3f} ({hits} of {asked}; {by_portal})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = evaluate(args.data, args.devset)
    table = report(results)
    if args.json:
        print(json.dumps(table, indent=2))
        return
    demands = [d for d, _ in results["matcher"]]
    print_table(table, len(demands), sum(not answerable(d["judgments"]) for d in demands))


if __name__ == "__main__":
    main()
