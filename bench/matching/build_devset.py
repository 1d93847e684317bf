"""Build the labelled development set ``devset.jsonl`` from ``devset_spec.py``.

How the set is made:

1. Each demand in ``devset_spec.py`` was written by hand the way a requesting agency words a
   demand (paraphrase, synonyms, abbreviations, typos, a bare field list, or something the
   portal does not hold), scoped to one portal. Demands of style ``traditional`` are written in
   simplified characters there and converted here with OpenCC ``s2t``.
2. Each demand carries grading rules (regular expressions over an entry's title, summary and
   items) saying which entries satisfy it fully (grade 2) or partly (grade 1). The rules are
   applied to EVERY entry of the portal, so the judgments do not depend on any search system.
3. To find entries the rules miss, the top 20 of four searches are pooled: this matcher,
   BM25 over jieba words, BM25 over character bigrams, and a substring grep of the demand's
   words in titles. Pooled entries the rules leave ungraded are written to
   ``pool_review.tsv``; a reviewer reads them and either widens the rules or lists keys under
   ``add1`` / ``add2`` / ``drop`` in the spec. Re-run until the review holds nothing relevant.

Usage: ``python bench/matching/build_devset.py [--data DIR] [--no-pool]``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

# This checkout's ``matching`` first, never an installed copy; then the shared bench modules.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

from common import DATA, DEVSET, HELD_OUT, HERE, read_rows, rows_by_portal, to_record  # noqa: E402
from devset_spec import DEMANDS  # noqa: E402

POOL_DEPTH = 20
REVIEW = HERE / "pool_review.tsv"
FIELDS = {"t": ("resource_name",), "s": ("resource_name", "summary"), "i": ("items",),
          "x": ("resource_name", "summary", "items")}


def condition_holds(condition: str, row: dict) -> bool:
    """``t:regex`` title, ``s:`` title+summary, ``i:`` items, ``x:`` all; ``!`` negates."""
    negate = condition.startswith("!")
    field, _, pattern = condition.lstrip("!").partition(":")
    text = " ".join(row[name] for name in FIELDS[field])
    return bool(re.search(pattern, text)) != negate


def rule_holds(rule: str, row: dict) -> bool:
    """Alternatives joined by ``||``, each a conjunction of conditions joined by ``&&``."""
    return any(all(condition_holds(c.strip(), row) for c in alternative.split("&&"))
               for alternative in rule.split("||") if alternative.strip())


def holds_every_field(items: str, row: dict) -> bool:
    """Whether the entry lists every field a bare field list asks for, by name: such a
    demand names nothing else, so that entry answers it at least partly."""
    wanted = {_field(name) for name in items.split("|") if name.strip()}
    return bool(wanted) and wanted <= {_field(name) for name in row["items"].split("|")}


def _field(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


def judge(spec: dict, rows: list[dict]) -> dict[str, int]:
    grades = {}
    for row in rows:
        if spec.get("g2") and rule_holds(spec["g2"], row):
            grades[row["key"]] = 2
        elif spec.get("g1") and rule_holds(spec["g1"], row):
            grades[row["key"]] = 1
    if spec["style"] == "fields":
        for row in rows:
            if holds_every_field(spec["items"], row):
                grades.setdefault(row["key"], 1)
    grades.update({key: 2 for key in spec.get("add2", ())})
    grades.update({key: 1 for key in spec.get("add1", ())})
    for key in spec.get("drop", ()):
        grades.pop(key, None)
    return grades


def to_traditional(texts: list[str]) -> list[str]:
    import opencc

    converter = opencc.OpenCC("s2t")
    return [converter.convert(text) for text in texts]


def demand_record(number: int, spec: dict, grades: dict[str, int]) -> dict:
    title, description = spec.get("title", ""), spec.get("desc", "")
    items = [i for i in spec.get("items", "").split("|") if i]
    if spec["style"] == "traditional":
        title, description, *items = to_traditional([title, description, *items])
    return {"id": f"D{number:03d}", "source": spec["source"], "style": spec["style"],
            "title": title, "description": description, "items": items,
            "judgments": dict(sorted(grades.items()))}


class Pooler:
    """The four searches over one portal, built on first use."""

    def __init__(self, rows: list[dict]) -> None:
        from baselines import bm25_bigrams, bm25_words, jieba_words
        from matching import CatalogIndex, Query

        self._query = Query
        self._rows = rows
        self._words = jieba_words
        self._index = CatalogIndex.build(to_record(r) for r in rows)
        self._bm25 = {"bm25_words": bm25_words(rows), "bm25_bigrams": bm25_bigrams(rows)}

    def pool(self, demand: dict) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        query = self._query(demand["title"], demand["description"], demand["items"])
        for candidate in self._index.search(query, POOL_DEPTH).candidates:
            found[candidate.key].add("matcher")
        for name, system in self._bm25.items():
            for key in system.search(demand, POOL_DEPTH):
                found[key].add(name)
        for key in self._grep(demand):
            found[key].add("grep")
        return found

    def _grep(self, demand: dict) -> list[str]:
        words = {w for w in self._words(demand["title"] + " " + " ".join(demand["items"]))
                 if len(w) >= 2}
        hits = [(sum(w in r["resource_name"] for w in words), r["key"]) for r in self._rows]
        return [key for n, key in sorted(hits, key=lambda h: -h[0])[:POOL_DEPTH] if n]


def review_lines(demand: dict, pooled: dict[str, set[str]], rows: dict[str, dict]) -> list[str]:
    lines = []
    for key, systems in sorted(pooled.items(), key=lambda kv: -len(kv[1])):
        if key not in demand["judgments"]:
            row = rows[key]
            lines.append("\t".join((demand["id"], key, ",".join(sorted(systems)),
                                    row["resource_name"], row["items"][:80])))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-pool", action="store_true", help="skip the pooled review")
    args = parser.parse_args()
    portals = rows_by_portal(read_rows(args.data))
    by_key = {row["key"]: row for rows in portals.values() for row in rows}
    demands, review, poolers = [], [], {}
    for number, spec in enumerate(DEMANDS, start=1):
        if spec["source"] in HELD_OUT:
            raise SystemExit(f"demand {number} uses a held-out portal: {spec['source']}")
        rows = portals[spec["source"]]
        demand = demand_record(number, spec, judge(spec, rows))
        demands.append(demand)
        if not args.no_pool:
            pooler = poolers.get(spec["source"]) or poolers.setdefault(spec["source"],
                                                                        Pooler(rows))
            review.extend(review_lines(demand, pooler.pool(demand), by_key))
    DEVSET.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in demands),
                      encoding="utf-8")
    if not args.no_pool:
        REVIEW.write_text("id\tkey\tfound_by\ttitle\titems\n" + "\n".join(review) + "\n",
                          encoding="utf-8")
    print(f"{len(demands)} demands written to {DEVSET.name}")


if __name__ == "__main__":
    main()
