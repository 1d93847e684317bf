"""Notifications: an in-app inbox per user and department, plus optional email and webhook copies.

``notify`` writes the inbox row (in the caller's transaction, so it exists exactly when the event
does) and queues the outside copies; ``dispatch`` sends the queue with retries and backoff.  A
failed email or webhook never touches the inbox copy.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import Select, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from catalog.actors import Actor
from catalog.errors import NotFound
from catalog.services import Page, paginate

from ..accounts.models import User
from .models import Notification, NotificationSend, SendState

BACKOFF = (60, 300, 1800, 7200, 21600)  # seconds before the 2nd, 3rd … attempt
MAX_ATTEMPTS = len(BACKOFF) + 1
SEND_TIMEOUT = 10
BATCH = 100


@dataclass(frozen=True)
class Channels:
    """Where copies go: an SMTP server (smtp://user:password@host:port/sender) and a webhook URL."""

    smtp_url: str = ""
    webhook_url: str = ""


def notify(session: Session, *, kind: str, title: str, body: str, now: dt.datetime, channels: Channels,
           department_id: int | None = None, user_id: int | None = None,
           object_type: str | None = None, object_id: int | None = None) -> Notification:
    note = Notification(department_id=department_id, user_id=user_id, kind=kind, title=title, body=body,
                        object_type=object_type, object_id=object_id, created_at=now)
    session.add(note)
    for channel, target in _targets(session, note, channels):
        note.sends.append(NotificationSend(channel=channel, target=target, next_attempt_at=now))
    return note


def _targets(session: Session, note: Notification, channels: Channels) -> list[tuple[str, str]]:
    targets = [("webhook", channels.webhook_url)] if channels.webhook_url else []
    if channels.smtp_url:
        stmt = select(User.email).where(User.active.is_(True), User.email.is_not(None))
        stmt = stmt.where(User.id == note.user_id) if note.user_id else stmt.where(User.department_id == note.department_id)
        targets += [("email", address) for address in session.scalars(stmt) if address]
    return targets


def notify_many(session: Session, *, notes: list[dict], now: dt.datetime, channels: Channels) -> int:
    """Many notifications at once (each a dict of ``notify``'s fields): one multi-row INSERT for the
    inbox rows and one for their copies, for jobs that tell thousands of departments at a time."""
    if not notes:
        return 0
    rows = [{"department_id": None, "user_id": None, "object_type": None, "object_id": None, **note,
             "created_at": now} for note in notes]
    if not (channels.smtp_url or channels.webhook_url):  # no copies to queue: no ids needed back
        session.execute(insert(Notification), rows)
        return len(rows)
    stmt = insert(Notification).returning(Notification.id, sort_by_parameter_order=True)
    ids = session.scalars(stmt, rows).all()
    emails = _emails_by_recipient(session) if channels.smtp_url else {}
    sends = [{"notification_id": note_id, "channel": channel, "target": target, "next_attempt_at": now}
             for note_id, row in zip(ids, rows) for channel, target in _copies(row, channels, emails)]
    if sends:
        session.execute(insert(NotificationSend), sends)
    return len(ids)


NOTE_COLUMNS = ("department_id", "kind", "title", "body", "object_type", "created_at")
SEND_COLUMNS = ("notification_id", "channel", "target", "state", "attempts", "next_attempt_at")


def notify_select(session: Session, *, rows: Select, kind: str, now: dt.datetime, channels: Channels) -> int:
    """Department notifications from a query, set-based: one ``INSERT … SELECT`` for the inbox rows
    (``rows`` yields department id, title, body and object type, in the order they get their ids)
    and one per channel for their copies.  For jobs whose notes are computed from thousands of rows."""
    connection = session.connection()
    after_id = connection.execute(select(func.coalesce(func.max(Notification.id), 0))).scalar_one()
    department, title, body, object_type = rows.selected_columns
    filled = rows.with_only_columns(department, literal(kind), title, body, object_type,
                                    literal(now, Notification.created_at.type), maintain_column_froms=True)
    stmt = insert(Notification.__table__).from_select(NOTE_COLUMNS, filled)
    told = connection.execute(stmt.execution_options(preserve_rowcount=True)).rowcount
    new = (select(Notification.id, Notification.department_id)
           .where(Notification.id > after_id, Notification.kind == kind).subquery())
    for copies in _copies_of_new(new, channels, now):
        connection.execute(insert(NotificationSend.__table__).from_select(SEND_COLUMNS, copies))
    return told


def _copies_of_new(new, channels: Channels, now: dt.datetime) -> list[Select]:
    """Per channel, the copies of the new department notifications: one to the webhook, one to each
    active user of the department with an address (what ``_copies`` does row by row)."""
    queued = (literal(SendState.PENDING.value), literal(0), literal(now, NotificationSend.next_attempt_at.type))
    found = []
    if channels.webhook_url:
        found.append(select(new.c.id, literal("webhook"), literal(channels.webhook_url), *queued))
    if channels.smtp_url:
        found.append(select(new.c.id, literal("email"), User.email, *queued)
                     .join_from(new, User, User.department_id == new.c.department_id)
                     .where(User.active.is_(True), User.email != ""))
    return found


def _emails_by_recipient(session: Session) -> dict[tuple[str, int], list[str]]:
    """Active users' addresses by ("user", id) and by ("department", id)."""
    found: dict[tuple[str, int], list[str]] = {}
    stmt = select(User.id, User.department_id, User.email).where(User.active.is_(True), User.email.is_not(None))
    for user_id, department_id, address in session.execute(stmt):
        if address:
            found.setdefault(("user", user_id), []).append(address)
            found.setdefault(("department", department_id), []).append(address)
    return found


def _copies(row: dict, channels: Channels, emails: dict) -> list[tuple[str, str]]:
    key = ("user", row["user_id"]) if row["user_id"] else ("department", row["department_id"])
    webhook = [("webhook", channels.webhook_url)] if channels.webhook_url else []
    return webhook + [("email", address) for address in emails.get(key, [])]


# -- the inbox ------------------------------------------------------------------------------------


def inbox(actor: Actor):
    return select(Notification).where(or_(
        Notification.user_id == actor.user_id,
        (Notification.department_id == actor.department_id) & Notification.user_id.is_(None),
    ))


def list_inbox(session: Session, *, actor: Actor, unread: bool | None = None, page: int = 1,
               page_size: int = 20) -> Page:
    stmt = inbox(actor)
    if unread is not None:
        stmt = stmt.where(Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None))
    return paginate(session, stmt.order_by(Notification.id.desc()), page=page, page_size=page_size)


def mark_read(session: Session, *, actor: Actor, notification_id: int, now: dt.datetime) -> Notification:
    note = session.scalar(inbox(actor).where(Notification.id == notification_id))
    if note is None:
        raise NotFound(f"通知 {notification_id} 不存在")
    note.read_at = note.read_at or now
    return note


# -- sending copies -------------------------------------------------------------------------------

Sender = Callable[[NotificationSend], None]


def dispatch(session: Session, *, now: dt.datetime, channels: Channels, senders: dict[str, Sender] | None = None) -> dict:
    """Send what is due; a failure is retried later with backoff, and given up after MAX_ATTEMPTS."""
    senders = senders or {"email": lambda send: send_email(send, channels.smtp_url),
                          "webhook": send_webhook}
    due = session.scalars(
        select(NotificationSend).where(NotificationSend.state == SendState.PENDING,
                                       NotificationSend.next_attempt_at <= now)
        .order_by(NotificationSend.id).limit(BATCH)
    ).all()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for send in due:
        counts[_attempt(send, senders[send.channel], now)] += 1
    return counts


def _attempt(send: NotificationSend, sender: Sender, now: dt.datetime) -> str:
    send.attempts += 1
    try:
        sender(send)
    except Exception as exc:  # noqa: BLE001 - any failure of an outside system is retried
        send.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if send.attempts >= MAX_ATTEMPTS:
            send.state = SendState.FAILED
            return "failed"
        send.next_attempt_at = now + dt.timedelta(seconds=BACKOFF[send.attempts - 1])
        return "retrying"
    send.state, send.sent_at, send.last_error = SendState.SENT, now, None
    return "sent"


def send_email(send: NotificationSend, smtp_url: str) -> None:
    parts = urlsplit(smtp_url)
    message = EmailMessage()
    message["Subject"] = send.notification.title
    message["From"] = unquote(parts.path.lstrip("/")) or f"exchange@{parts.hostname}"
    message["To"] = send.target
    message.set_content(send.notification.body)
    server = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with server(parts.hostname, parts.port or 25, timeout=SEND_TIMEOUT) as smtp:
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def send_webhook(send: NotificationSend) -> None:
    note = send.notification
    payload = {"id": note.id, "kind": note.kind, "title": note.title, "body": note.body,
               "department_id": note.department_id, "user_id": note.user_id,
               "object": {"type": note.object_type, "id": note.object_id},
               "created_at": note.created_at.isoformat()}
    request = urllib.request.Request(send.target, data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:  # noqa: S310 - configured URL
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


# -- deadline reminders ---------------------------------------------------------------------------

SOON_DAYS = 2  # working days before a deadline when the party it waits on is reminded


def remind(session: Session, *, now: dt.datetime, soon: dt.datetime, channels: Channels,
           waiting: list[tuple[str, int, int | None, str, dt.datetime]]) -> int:
    """Remind each party once per kind: ``waiting`` lists (object_type, object_id, department_id,
    title, deadline) of items awaiting an answer; those overdue, or due before ``soon``, are told."""
    sent = {(n.kind, n.object_type, n.object_id) for n in session.scalars(
        select(Notification).where(Notification.kind.in_(["deadline_soon", "overdue"])))}
    count = 0
    for object_type, object_id, department_id, title, deadline in waiting:
        kind = "overdue" if deadline < now else "deadline_soon" if deadline < soon else None
        if kind is None or (kind, object_type, object_id) in sent:
            continue
        label = "已逾期" if kind == "overdue" else "即将到期"
        notify(session, kind=kind, title=f"{label}：{title}", body=f"期限 {deadline:%Y-%m-%d %H:%M}", now=now,
               channels=channels, department_id=department_id, object_type=object_type, object_id=object_id)
        count += 1
    return count
