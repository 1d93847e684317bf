"""The audit trail's tables: the events, and the one-row chain head appends lock in turn.

An event's ``id`` is its position in the chain (1, 2, 3 … with no gap), handed out from the head
under its lock, so the order of ids is the order of the chain.  ``hash`` is SHA-256 over the
previous event's hash and the event's canonical encoding (see ``services.encode``).  The
migration adds database triggers that refuse UPDATE and DELETE of events.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Base

GENESIS = "0" * 64  # the "previous hash" of the first event


class AuditEvent(Base):
    """One appended event: actor (as they were), action, object, short before/after summaries."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no foreign key: the log outlives rows
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer)
    before_text: Mapped[str] = mapped_column("before", Text)  # canonical JSON ("null" when none)
    after_text: Mapped[str] = mapped_column("after", Text)
    client: Mapped[str] = mapped_column(String(64))  # IP address, "cli", or "" when unknown
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def before(self) -> dict | None:
        return json.loads(self.before_text)

    @property
    def after(self) -> dict | None:
        return json.loads(self.after_text)


class AuditChainHead(Base):
    """The end of the chain: its length and last hash.  Every append locks this one row first,
    so concurrent transactions append one after another."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
