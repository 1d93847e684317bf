"""The audit trail: an append-only, hash-chained log of who did what to which object, when and
from where.  ``services`` appends, verifies and queries; ``capture`` turns ORM changes into events;
``api`` and ``cli`` are the doors."""
