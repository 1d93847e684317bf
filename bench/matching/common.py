"""Shared loading for the matching benchmarks: the real catalog as records, the development set.

The data lives beside the repository (``../shared/data`` from the repository root); every script
takes ``--data`` to point elsewhere.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from matching import Record

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset.jsonl"

# Portals kept out of the development set: they are the held-out evaluation.
HELD_OUT = frozenset({"bj-opendata:beijing", "cnpds:hainan_hainan", "cnpds:sichuan_dazhou"})


def entry_key(source: str, row: int) -> str:
    """Stable key of a catalog row: its portal and its position among the CSV's data rows."""
    return f"{source}#{row}"


def read_rows(data: Path = DATA) -> list[dict]:
    """Every row of catalog_real.csv with its ``key`` added."""
    with open(data / "catalog_real.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows):
        row["key"] = entry_key(row["source"], number)
    return rows


def to_record(row: dict) -> Record:
    return Record(key=row["key"], title=row["resource_name"], summary=row["summary"],
                  items=row["items"], provider=row["department"])


def rows_by_portal(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["source"]].append(row)
    return grouped


def read_devset(path: Path = DEVSET) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
