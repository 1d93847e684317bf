"""The in-app inbox, and the outbox of copies sent by email or webhook."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, vocab
from catalog.vocab import Vocabulary


class SendState(Vocabulary):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class Notification(Base):
    """One message in the inbox of a user, or of every user of a department."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column()

    sends: Mapped[list[NotificationSend]] = relationship(back_populates="notification")


class NotificationSend(Base):
    """A copy of a notification to send by email or webhook, retried with backoff until it goes."""

    __tablename__ = "notification_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    target: Mapped[str] = mapped_column(String(500))
    state: Mapped[SendState] = mapped_column(vocab(SendState, "state"), default=SendState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column()

    notification: Mapped[Notification] = relationship(back_populates="sends", lazy="joined")
