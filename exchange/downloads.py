"""Generated files kept on disk for a while, for their user to download: the error workbooks of
failed imports (``<storage>/import-errors/<task id>.xlsx``).  Each is reachable only through the
task that wrote it; whenever a new one is written, those older than ``RETENTION`` are removed, so
the folder does not grow without end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

ERROR_WORKBOOKS = "import-errors"
RETENTION = dt.timedelta(days=1)


def error_workbook(storage: Path, task_id: str) -> Path:
    """Where the error workbook of the import task ``task_id`` is kept."""
    return storage / ERROR_WORKBOOKS / f"{task_id}.xlsx"


def new_error_workbook(storage: Path, task_id: str, *, now: dt.datetime) -> Path:
    """The path to write a new error workbook to, with its folder made and the expired ones removed."""
    path = error_workbook(storage, task_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    prune(path.parent, before=now - RETENTION)
    return path


def prune(folder: Path, *, before: dt.datetime) -> int:
    """Remove the files in ``folder`` last written before ``before``; how many went."""
    cutoff = before.timestamp()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process removed it first
            continue
    return removed
