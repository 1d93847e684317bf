"""Delivery of a mounted resource's data, projected to the granted columns, streamed as CSV, JSON
or XLSX with flat memory.

    delivery = open_delivery(resource, grant_columns, "csv", storage=settings.storage_path,
                             limits=DeliveryLimits.from_settings(settings))
    response = Response(delivery.chunks, mimetype=delivery.media_type)
    response.call_on_close(lambda: record(delivery.stats))   # rows, bytes, done / error code

Opening checks the source and reads its first rows, so a missing table or column, an API that
hangs or sends too much, fails with a :class:`DeliveryFailed` before the response starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import (
    ColumnsMissing,
    DeliveryFailed,
    NothingGranted,
    SourceMissing,
    SourceTimeout,
    SourceTooLarge,
    SourceUnreadable,
)
from .readers import DeliveryLimits, RowSource, Window, open_api, open_file, open_resource, open_table
from .writers import FORMATS, DeliveryStats, Format, format_named

__all__ = [
    "ColumnsMissing", "Delivery", "DeliveryFailed", "DeliveryLimits", "DeliveryStats", "FORMATS",
    "Format", "NothingGranted", "RowSource", "SourceMissing", "SourceTimeout", "SourceTooLarge",
    "SourceUnreadable", "Window", "deliver", "format_named", "open_api", "open_delivery",
    "open_file", "open_resource", "open_table",
]


@dataclass
class Delivery:
    chunks: Iterator[bytes]
    stats: DeliveryStats
    media_type: str
    extension: str
    source: RowSource

    def close(self) -> None:
        """Release the source when the chunks will not be read (or not to the end)."""
        self.chunks.close()
        self.source.close()


def deliver(source: RowSource, format_name: str) -> Delivery:
    """Write an opened source in a format."""
    chosen = format_named(format_name)
    stats = DeliveryStats(format=chosen.name)
    return Delivery(chosen.write(source, stats), stats, chosen.media_type, chosen.extension, source)


def open_delivery(resource, columns: Sequence[str], format_name: str, *, storage: Path,
                  limits: DeliveryLimits = DeliveryLimits(), window: Window = Window()) -> Delivery:
    """Open a ``MountedResource`` and write its granted ``columns`` in ``format_name``."""
    format_named(format_name)  # an unknown format fails before the source is touched
    source = open_resource(resource, columns, storage=storage, limits=limits, window=window)
    return deliver(source, format_name)
