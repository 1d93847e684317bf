"""Sharing applications (共享申请), the grants they lead to (授权), every delivery made under a
grant, and objections (异议) raised on entries or deliveries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, CatalogEntry, Department, Timestamped, vocab
from catalog.vocab import Vocabulary


class ApplicationStatus(Vocabulary):
    PENDING = "pending", "待审批"
    GRANTED = "granted", "已授权"
    REFUSED = "refused", "已拒绝"
    WITHDRAWN = "withdrawn", "已撤回"


class ObjectionStatus(Vocabulary):
    OPEN = "open", "待答复"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已关闭"


class SharingApplication(Timestamped, Base):
    __tablename__ = "sharing_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(Text)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # item names asked for
    status: Mapped[ApplicationStatus] = mapped_column(vocab(ApplicationStatus, "status"), index=True)
    deadline: Mapped[dt.datetime | None] = mapped_column()
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)
    requester: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    grant: Mapped[Grant | None] = relationship(back_populates="application", uselist=False)


class Grant(Base):
    """The right of one department to receive the named items of an entry, for a purpose, until
    an expiry.  One application yields at most one grant (a unique key, not a convention)."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("sharing_applications.id"), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    grantee_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[dt.datetime] = mapped_column()
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    application: Mapped[SharingApplication] = relationship(back_populates="grant")
    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)
    grantee: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class Delivery(Base):
    """One delivery of data under a grant: what, how much, to whom, when."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    mount_id: Mapped[int | None] = mapped_column(ForeignKey("mounted_resources.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    format: Mapped[str] = mapped_column(String(10))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="completed")
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(index=True)


class Objection(Timestamped, Base):
    """A requester's report that data is wrong (异议), charged to the providing department."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(vocab(ObjectionStatus, "status"), index=True)
    deadline: Mapped[dt.datetime] = mapped_column()
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column()

    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)
