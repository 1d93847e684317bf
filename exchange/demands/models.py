"""Demands (数据需求) with their requested items, workflow history and suggested matches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, CatalogEntry, Department, Timestamped, vocab
from catalog.vocab import SharingMethod, UpdateCycle, Vocabulary


class DemandStatus(Vocabulary):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "已受理"
    MATCHED = "matched", "已匹配"
    CONFIRMED = "confirmed", "数源已确认"
    DECLINED = "declined", "数源已拒绝"
    FULFILLED = "fulfilled", "已满足"
    UNMET = "unmet", "未满足"
    CLOSED = "closed", "已关闭"


class UnmetReason(Vocabulary):
    NO_ENTRY = "no_entry", "目录中无此数据"
    NOT_MOUNTED = "not_mounted", "目录未挂接资源"
    STALE = "stale", "资源未按期更新"
    REFUSED = "refused", "共享申请被拒绝"
    NOT_SHARED = "not_shared", "数据不予共享"


class MatchState(Vocabulary):
    SUGGESTED = "suggested", "建议"
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "已拒绝"


class Demand(Timestamped, Base):
    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)  # 需求编号
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    requester_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    legal_basis: Mapped[str | None] = mapped_column(Text)  # 使用依据
    scenario: Mapped[str | None] = mapped_column(Text)  # 应用场景 / 政务服务事项
    desired_cycle: Mapped[UpdateCycle | None] = mapped_column(vocab(UpdateCycle, "desired_cycle"))
    desired_method: Mapped[SharingMethod | None] = mapped_column(vocab(SharingMethod, "desired_method"))
    needed_by: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[DemandStatus] = mapped_column(vocab(DemandStatus, "status"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    unmet_reason: Mapped[UnmetReason | None] = mapped_column(vocab(UnmetReason, "unmet_reason"))
    diagnosis: Mapped[dict | None] = mapped_column(JSON)  # the matcher's last verdict on the demand
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    deadline: Mapped[dt.datetime | None] = mapped_column(index=True)  # of the step now awaited
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    feedback: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    requester: Mapped[Department] = relationship(foreign_keys=[requester_id], lazy="joined", innerjoin=True)
    provider: Mapped[Department | None] = relationship(foreign_keys=[provider_id], lazy="joined")
    items: Mapped[list[DemandItem]] = relationship(
        order_by="DemandItem.position", cascade="all, delete-orphan", passive_deletes=True
    )
    matches: Mapped[list[DemandMatch]] = relationship(
        back_populates="demand", order_by="DemandMatch.rank", cascade="all, delete-orphan",
        passive_deletes=True,
    )


class DemandItem(Base):
    """A field the requester asks for, in its own words (需求信息项)."""

    __tablename__ = "demand_items"
    __table_args__ = (UniqueConstraint("demand_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))


class DemandStep(Base):
    """One workflow step of a demand: who moved it from what to what, when and why."""

    __tablename__ = "demand_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[DemandStatus | None] = mapped_column(vocab(DemandStatus, "from_status"))
    to_status: Mapped[DemandStatus] = mapped_column(vocab(DemandStatus, "to_status"))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column()


class DemandMatch(Base):
    """A catalog entry offered as the answer to a demand, and the provider's verdict on it."""

    __tablename__ = "demand_matches"
    __table_args__ = (UniqueConstraint("demand_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[MatchState] = mapped_column(vocab(MatchState, "state"), default=MatchState.SUGGESTED)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column()

    demand: Mapped[Demand] = relationship(back_populates="matches")
    entry: Mapped[CatalogEntry] = relationship(lazy="joined", innerjoin=True)
