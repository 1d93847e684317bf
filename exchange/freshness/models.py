"""Flags on catalog entries (stale, unmounted) and the run record every scheduled job writes.

At most one open flag per entry and kind: a partial unique index over the rows whose
``resolved_at`` is null (both SQLite and PostgreSQL have them), so a rerun of the scan can never
open a duplicate, and a resolved flag stays as history beside the next open one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, CatalogEntry, vocab
from catalog.vocab import Vocabulary

OPEN = text("resolved_at IS NULL")


class FlagKind(Vocabulary):
    STALE = "stale", "未按期更新"
    UNMOUNTED = "unmounted", "未挂接资源"


class JobStatus(Vocabulary):
    OK = "ok", "成功"
    FAILED = "failed", "失败"


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
    details: Mapped[dict | None] = mapped_column(JSON)

    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)


class JobRun(Base):
    """One run of a scheduled job: when, how long, how it ended and what it counted."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column()
    finished_at: Mapped[dt.datetime] = mapped_column()
    duration_ms: Mapped[int] = mapped_column(Integer)
    status: Mapped[JobStatus] = mapped_column(vocab(JobStatus, "status"))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
