"""Failures of a delivery, each with a stable ``code``.

They are :class:`catalog.errors.MountFailed` (the resource behind a mount could not be read), so a
caller that handles mount failures handles these too; the code says which failure it was.
"""

from __future__ import annotations

from catalog.errors import MountFailed


class DeliveryFailed(MountFailed):
    code = "delivery_failed"


class NothingGranted(DeliveryFailed):
    code = "delivery_no_columns"


class SourceMissing(DeliveryFailed):
    """The table, file or database behind the mount is gone."""

    code = "delivery_source_missing"


class ColumnsMissing(DeliveryFailed):
    """Granted columns the resource does not have; ``details["columns"]`` names them."""

    code = "delivery_columns_missing"


class SourceUnreadable(DeliveryFailed):
    """The resource answered, but not with data we can read (an error, a non-table body)."""

    code = "delivery_source_unreadable"
    status = 502


class SourceTimeout(DeliveryFailed):
    code = "delivery_timeout"
    status = 504


class SourceTooLarge(DeliveryFailed):
    """The resource sent more than the delivery accepts."""

    code = "delivery_too_large"
    status = 502
