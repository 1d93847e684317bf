"""Exemptions from a kind of flag: a provider asks, with a reason; the bureau grants, with a reason
and an end date, or refuses, with a reason.  While a granted exemption runs the scan opens no flag
of that kind on the entry and resolves the open one; after its end the flags come back.

Two bureau users deciding the same request at once: the second gets a conflict (the request's
``lock_version``).  Every change is audited (see ``exchange.audit.capture``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from catalog.actors import Actor, Role
from catalog.errors import Conflict, InvalidTransition, NotFound, ValidationError
from catalog.models import CatalogEntry
from catalog.services import Page, ordering, paginate

from ..notifications.services import Channels, notify
from .chase import bureau_user_ids
from .models import Exemption, ExemptionStatus, FlagKind
from .services import visible_department

BUREAU = (Role.BUREAU, Role.ADMIN)
STALE = "豁免申请已被他人处理，请刷新后重试"


def request_exemption(session: Session, *, actor: Actor, entry_id: int, kind: str, reason: str,
                      now: dt.datetime, channels: Channels = Channels()) -> Exemption:
    """The entry's provider asks that it be exempt from one kind of flag; the bureau is told."""
    entry = session.get(CatalogEntry, entry_id)
    if entry is None:
        raise NotFound(f"目录 {entry_id} 不存在")
    actor.require_role(Role.PROVIDER, action="申请豁免目录问题")
    actor.require_write_for(entry.provider_id, "其他部门目录的豁免")
    exemption = Exemption(entry_id=entry.id, kind=_kind(kind), department_id=entry.provider_id,
                          reason=_required(reason, "reason", "申请豁免须说明理由"),
                          status=ExemptionStatus.REQUESTED, requested_by=actor.user_id, requested_at=now)
    session.add(exemption)
    _flush(session, Conflict(f"目录“{entry.name}”已有一份待审核的{exemption.kind.label}豁免申请",
                             code="exemption_pending"))
    for user_id in bureau_user_ids(session):
        notify(session, kind="exemption_requested", title=f"豁免申请待审核：{entry.name}",
               body=f"{exemption.kind.label}；理由：{exemption.reason}", now=now, channels=channels,
               user_id=user_id, object_type="flag_exemption", object_id=exemption.id)
    return exemption


def decide_exemption(session: Session, *, actor: Actor, exemption_id: int, grant: bool, reason: str,
                     lock_version: int, now: dt.datetime, ends_at: dt.datetime | None = None,
                     channels: Channels = Channels()) -> Exemption:
    """The bureau grants (with an end date after now) or refuses; the provider is told."""
    actor.require_role(*BUREAU, action="审批豁免申请")
    exemption = get_exemption(session, actor=actor, exemption_id=exemption_id)
    if lock_version != exemption.lock_version:
        raise Conflict(STALE, code="stale_version")
    if exemption.status is not ExemptionStatus.REQUESTED:
        raise InvalidTransition(f"豁免申请当前为“{exemption.status.label}”，不能再审批")
    exemption.decision_reason = _required(reason, "reason", "审批豁免须说明理由")
    exemption.ends_at = _end(ends_at, now) if grant else None
    exemption.status = ExemptionStatus.GRANTED if grant else ExemptionStatus.REFUSED
    exemption.decided_by, exemption.decided_at = actor.user_id, now
    _flush(session, Conflict(STALE, code="stale_version"))
    until = f"，有效期至 {exemption.ends_at:%Y-%m-%d}" if grant else ""
    notify(session, kind="exemption_decided", title=f"豁免申请{exemption.status.label}：{exemption.entry.name}",
           body=f"{exemption.kind.label}{until}；理由：{exemption.decision_reason}", now=now, channels=channels,
           department_id=exemption.department_id, object_type="flag_exemption", object_id=exemption.id)
    return exemption


def get_exemption(session: Session, *, actor: Actor, exemption_id: int) -> Exemption:
    exemption = session.get(Exemption, exemption_id)
    if exemption is None or not (actor.oversees_all or actor.department_id == exemption.department_id):
        raise NotFound(f"豁免申请 {exemption_id} 不存在")
    return exemption


def list_exemptions(session: Session, *, actor: Actor, now: dt.datetime, status: str | None = None,
                    kind: str | None = None, entry_id: int | None = None, department_id: int | None = None,
                    active: bool | None = None, sort: str = "-id", page: int = 1, page_size: int = 20) -> Page:
    """Requests, newest first (or by any of ``EXEMPTION_SORTS``); providers see their own
    department's, the bureau and admin all."""
    department_id = visible_department(actor, department_id, what="豁免申请")
    stmt = select(Exemption)
    filters = {Exemption.status: status and ExemptionStatus.parse(status), Exemption.kind: kind and _kind(kind),
               Exemption.entry_id: entry_id, Exemption.department_id: department_id}
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if active is not None:
        running = (Exemption.status == ExemptionStatus.GRANTED) & (Exemption.ends_at > now)
        stmt = stmt.where(running if active else ~running)
    return paginate(session, stmt.order_by(*ordering(sort, EXEMPTION_SORTS, Exemption.id)), page=page,
                    page_size=page_size)


EXEMPTION_SORTS = {"id": Exemption.id, "entry": select(CatalogEntry.name).where(CatalogEntry.id == Exemption.entry_id)
                   .scalar_subquery(), "kind": Exemption.kind, "requested_at": Exemption.requested_at,
                   "status": Exemption.status, "ends_at": Exemption.ends_at}


def _kind(raw: str) -> FlagKind:
    try:
        return FlagKind.parse(raw)
    except ValueError as exc:
        raise ValidationError("问题类型无效", details={"kind": [str(exc)]}) from None


def _required(text: str | None, field: str, message: str) -> str:
    if not (text or "").strip():
        raise ValidationError(message, details={field: ["必填"]})
    return text.strip()


def _end(ends_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if ends_at is None:
        raise ValidationError("批准豁免须给出截止时间", details={"ends_at": ["必填"]})
    if ends_at.tzinfo is None or ends_at <= now:
        raise ValidationError("豁免截止时间须晚于现在（带时区）", details={"ends_at": [ends_at.isoformat()]})
    return ends_at


def _flush(session: Session, conflict: Conflict) -> None:
    """Flush in a savepoint: a duplicate pending request, or a decision that lost a race, is a conflict."""
    try:
        with session.begin_nested():
            session.flush()
    except (IntegrityError, StaleDataError):
        raise conflict from None
