"""Flags on catalog entries, probes of mounted resources and exemptions from a kind of flag.

At most one open flag per entry and kind: a partial unique index over the rows whose
``resolved_at`` is null (both SQLite and PostgreSQL have them), so a rerun of the scan can never
open a duplicate, and a resolved flag stays as history beside the next open one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, CatalogEntry, vocab
from catalog.vocab import Health, Vocabulary

OPEN = text("resolved_at IS NULL")
REQUESTED = text("status = 'requested'")


class FlagKind(Vocabulary):
    STALE = "stale", "未按期更新"
    UNMOUNTED = "unmounted", "未挂接资源"
    UNREACHABLE = "unreachable", "资源不可访问"
    DEMAND_WAITING = "demand_waiting", "需求等待挂接"
    INCONSISTENT = "inconsistent", "更新日期与数据不符"


class Flag(Base):
    """An open (or resolved) finding on an entry, charged to the entry's provider department."""

    __tablename__ = "flags"
    __table_args__ = (
        Index("uq_flags_open_entry_kind", "entry_id", "kind", unique=True,
              sqlite_where=OPEN, postgresql_where=OPEN),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"))
    kind: Mapped[FlagKind] = mapped_column(vocab(FlagKind, "kind"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    opened_at: Mapped[dt.datetime] = mapped_column()
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    escalated_at: Mapped[dt.datetime | None] = mapped_column()  # handed to the bureau: open too long
    details: Mapped[dict | None] = mapped_column(JSON)

    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)


class ProbeResult(Base):
    """One probe of a mounted resource: did it answer, how long it took, what it observed."""

    __tablename__ = "probe_results"
    __table_args__ = (Index("ix_probe_results_mount_probed", "mount_id", "probed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mount_id: Mapped[int] = mapped_column(ForeignKey("mounted_resources.id", ondelete="CASCADE"))
    probed_at: Mapped[dt.datetime] = mapped_column(index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    health: Mapped[Health] = mapped_column(vocab(Health, "health"))
    duration_ms: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    data_changed_at: Mapped[dt.datetime | None] = mapped_column()
    status_code: Mapped[int | None] = mapped_column(Integer)  # an API's HTTP status
    error: Mapped[str | None] = mapped_column(Text)


class ExemptionStatus(Vocabulary):
    REQUESTED = "requested", "待审核"
    GRANTED = "granted", "已批准"
    REFUSED = "refused", "已拒绝"


class Exemption(Base):
    """A provider's request that an entry be exempt from one kind of flag, and the bureau's decision.

    While granted and before ``ends_at`` the scan opens no flag of that kind on the entry."""

    __tablename__ = "flag_exemptions"
    __table_args__ = (
        Index("uq_flag_exemptions_requested", "entry_id", "kind", unique=True,
              sqlite_where=REQUESTED, postgresql_where=REQUESTED),
        Index("ix_flag_exemptions_entry_kind_status", "entry_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"))
    kind: Mapped[FlagKind] = mapped_column(vocab(FlagKind, "kind"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExemptionStatus] = mapped_column(vocab(ExemptionStatus, "status"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    ends_at: Mapped[dt.datetime | None] = mapped_column()
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column()
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)
