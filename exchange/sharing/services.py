"""Sharing applications and grants, and objections.

An application on an entry follows the entry's sharing type: 无条件共享 is granted at once;
有条件共享 waits for the provider to decide within the deadline; 不予共享 is refused with the
entry's basis.  Two people deciding one application at once: one wins, the other gets a conflict
(the application's lock version, and a unique grant per application) — never a double grant.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from catalog.actors import Actor, Role
from catalog.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from catalog.models import CatalogEntry
from catalog.services import VISIBLE_TO_ALL, Page, department_name, ordering, paginate
from catalog.vocab import SharingType

from ..demands.models import Demand, DemandStatus, DemandStep, UnmetReason
from ..deadlines import Deadlines
from ..notifications.services import Channels, notify
from .models import ApplicationStatus, Grant, Objection, ObjectionStatus, SharingApplication

A = ApplicationStatus
GRANT_DAYS = 365  # a grant's default validity


def visible_applications(actor: Actor) -> Select:
    stmt = select(SharingApplication).join(SharingApplication.entry)
    if actor.oversees_all:
        return stmt
    return stmt.where(or_(SharingApplication.requester_id == actor.department_id,
                          CatalogEntry.provider_id == actor.department_id))


APPLICATION_SORTS = {"id": SharingApplication.id, "deadline": SharingApplication.deadline,
                     "created_at": SharingApplication.created_at, "status": SharingApplication.status}
OBJECTION_SORTS = {"id": Objection.id, "deadline": Objection.deadline, "created_at": Objection.created_at,
                   "status": Objection.status}


def list_applications(session: Session, *, actor: Actor, status: str | None = None,
                      page: int = 1, page_size: int = 20, sort: str = "-id") -> Page:
    stmt = visible_applications(actor)
    if status:
        stmt = stmt.where(SharingApplication.status == status)
    stmt = stmt.order_by(*ordering(sort, APPLICATION_SORTS, SharingApplication.id))
    return paginate(session, stmt, page=page, page_size=page_size)


def get_application(session: Session, *, actor: Actor, application_id: int) -> SharingApplication:
    application = session.scalar(visible_applications(actor).where(SharingApplication.id == application_id))
    if application is None:
        raise NotFound(f"共享申请 {application_id} 不存在或无权查看")
    return application


def apply(session: Session, *, actor: Actor, entry_id: int, purpose: str, items: list[str],
          now: dt.datetime, deadlines: Deadlines, demand_id: int | None = None,
          channels: Channels = Channels()) -> SharingApplication:
    """File an application; the entry's sharing type decides what happens at once."""
    actor.require_role(Role.REQUESTER, action="申请共享数据")
    entry = session.get(CatalogEntry, entry_id)
    if entry is None or entry.status not in VISIBLE_TO_ALL:
        raise NotFound(f"目录 {entry_id} 不存在或未发布")
    if not (purpose or "").strip():
        raise ValidationError("须说明使用目的", details={"purpose": ["必填"]})
    wanted = _requested_items(entry, items)
    application = SharingApplication(
        entry_id=entry.id, entry=entry, requester_id=actor.department_id, applicant_id=actor.user_id,
        demand_id=_own_demand(session, actor, demand_id), purpose=purpose.strip(), items=wanted,
        status=A.PENDING, created_at=now, updated_at=now,
    )
    session.add(application)
    session.flush()
    if entry.sharing_type is SharingType.UNCONDITIONAL:
        _grant(session, application, actor=actor, now=now, reason="无条件共享，自动授权")
    elif entry.sharing_type is SharingType.NOT_SHARED:
        _refuse(session, application, actor=actor, now=now, reason=f"不予共享：{entry.not_shared_basis}")
    else:
        application.deadline = deadlines.answer(now)
        _tell(session, application, "application_received", entry.provider_id, now, channels,
              f"有新的共享申请待审批：{entry.name}", f"期限 {application.deadline:%Y-%m-%d %H:%M}；用途：{application.purpose}")
    return application


def _tell(session, application: SharingApplication, kind: str, department_id: int, now, channels, title, body) -> None:
    notify(session, kind=kind, title=title, body=body, now=now, channels=channels,
           department_id=department_id, object_type="application", object_id=application.id)


def _requested_items(entry: CatalogEntry, items: list[str]) -> list[str]:
    """The items asked for (all shareable ones when none are named); unknown or unshared ones refused."""
    shareable = [i.name for i in entry.items if i.sharing_type is not SharingType.NOT_SHARED]
    if not items:
        return shareable
    unknown = [name for name in items if name not in {i.name for i in entry.items}]
    closed = [name for name in items if name not in shareable and name not in unknown]
    if unknown or closed:
        details = {"items": [f"目录中没有信息项：{'、'.join(unknown)}"] if unknown else []}
        details["items"] += [f"不予共享的信息项：{'、'.join(closed)}"] if closed else []
        raise ValidationError("申请的信息项不可共享", details=details)
    return list(dict.fromkeys(items))


def _own_demand(session: Session, actor: Actor, demand_id: int | None) -> int | None:
    if demand_id is None:
        return None
    demand = session.get(Demand, demand_id)
    if demand is None or demand.requester_id != actor.department_id:
        raise ValidationError("关联的需求不存在或不属于本部门", details={"demand_id": [demand_id]})
    return demand.id


def decide(session: Session, *, actor: Actor, application_id: int, approve: bool, now: dt.datetime,
           lock_version: int, reason: str | None = None, items: list[str] | None = None,
           expires_at: dt.datetime | None = None, channels: Channels = Channels()) -> SharingApplication:
    """The provider approves (optionally fewer items, an expiry) or refuses with a reason."""
    application = get_application(session, actor=actor, application_id=application_id)
    actor.require_role(Role.PROVIDER, Role.BUREAU, Role.ADMIN, action="审批共享申请")
    actor.require_write_for(application.entry.provider_id, "其他部门目录的共享申请")
    if lock_version != application.lock_version:
        raise Conflict("申请已被他人处理，请刷新后重试", code="stale_version")
    if application.status is not A.PENDING:
        raise InvalidTransition(f"申请当前为“{application.status.label}”，不能再审批")
    if approve:
        if items is not None:
            application.items = [i for i in _requested_items(application.entry, items) if i in application.items]
        _grant(session, application, actor=actor, now=now, reason=reason, expires_at=expires_at)
    elif not (reason or "").strip():
        raise ValidationError("拒绝申请须说明理由", details={"reason": ["必填"]})
    else:
        _refuse(session, application, actor=actor, now=now, reason=reason)
    _flush_decision(session)
    _tell(session, application, "application_decided", application.requester_id, now, channels,
          f"共享申请{application.status.label}：{application.entry.name}", application.reason or "")
    return application


def _flush_decision(session: Session) -> None:
    """The loser of two simultaneous decisions learns it here, as a conflict."""
    try:
        with session.begin_nested():
            session.flush()
    except (StaleDataError, IntegrityError) as exc:
        raise Conflict("申请已被他人处理，请刷新后重试", code="stale_version") from exc


def _grant(session, application: SharingApplication, *, actor, now, reason=None, expires_at=None) -> None:
    application.status, application.reason = A.GRANTED, reason
    application.decided_by, application.decided_at, application.updated_at = actor.user_id, now, now
    grant = Grant(application=application, entry_id=application.entry_id, grantee_id=application.requester_id,
                  items=list(application.items), purpose=application.purpose, granted_at=now,
                  expires_at=expires_at or now + dt.timedelta(days=GRANT_DAYS))
    session.add(grant)
    _settle_demand(session, application, DemandStatus.FULFILLED, now)


def _refuse(session, application: SharingApplication, *, actor, now, reason) -> None:
    application.status, application.reason = A.REFUSED, reason
    application.decided_by, application.decided_at, application.updated_at = actor.user_id, now, now
    _settle_demand(session, application, DemandStatus.UNMET, now)


def _settle_demand(session, application: SharingApplication, outcome: DemandStatus, now) -> None:
    """A confirmed demand is fulfilled by a grant, or unmet (refused) by a refusal."""
    demand = session.get(Demand, application.demand_id) if application.demand_id else None
    if demand is None or demand.status is not DemandStatus.CONFIRMED:
        return
    session.add(DemandStep(demand_id=demand.id, action="fulfil" if outcome is DemandStatus.FULFILLED else "unmet",
                           from_status=demand.status, to_status=outcome, at=now,
                           reason=f"共享申请 {application.id}：{application.status.label}"))
    demand.status, demand.deadline, demand.updated_at = outcome, None, now
    if outcome is DemandStatus.UNMET:
        demand.unmet_reason = UnmetReason.REFUSED


def withdraw(session: Session, *, actor: Actor, application_id: int, now: dt.datetime) -> SharingApplication:
    application = get_application(session, actor=actor, application_id=application_id)
    if application.requester_id != actor.department_id and not actor.oversees_all:
        raise PermissionDenied("只有申请部门可以撤回申请")
    if application.status is not A.PENDING:
        raise InvalidTransition(f"申请当前为“{application.status.label}”，不能撤回")
    application.status, application.updated_at = A.WITHDRAWN, now
    return application


# -- grants ---------------------------------------------------------------------------------------


def visible_grants(actor: Actor) -> Select:
    stmt = select(Grant).join(Grant.entry)
    if actor.oversees_all:
        return stmt
    return stmt.where(or_(Grant.grantee_id == actor.department_id, CatalogEntry.provider_id == actor.department_id))


GRANT_SORTS = {"id": Grant.id, "entry": CatalogEntry.name, "provider": department_name(CatalogEntry.provider_id),
               "granted_at": Grant.granted_at, "expires_at": Grant.expires_at}


def list_grants(session: Session, *, actor: Actor, active_at: dt.datetime | None = None, sort: str = "-id",
                page: int = 1, page_size: int = 20) -> Page:
    """The grants the actor may see (newest first by default; any of ``GRANT_SORTS``)."""
    stmt = visible_grants(actor)
    if active_at is not None:
        stmt = stmt.where(Grant.revoked_at.is_(None), Grant.expires_at > active_at)
    return paginate(session, stmt.order_by(*ordering(sort, GRANT_SORTS, Grant.id)), page=page, page_size=page_size)


def get_grant(session: Session, *, actor: Actor, grant_id: int) -> Grant:
    grant = session.scalar(visible_grants(actor).where(Grant.id == grant_id))
    if grant is None:
        raise NotFound(f"授权 {grant_id} 不存在或无权查看")
    return grant


def revoke(session: Session, *, actor: Actor, grant_id: int, reason: str, now: dt.datetime) -> Grant:
    grant = get_grant(session, actor=actor, grant_id=grant_id)
    actor.require_write_for(grant.entry.provider_id, "其他部门目录的授权")
    if grant.revoked_at is not None:
        raise InvalidTransition("授权已吊销")
    if not (reason or "").strip():
        raise ValidationError("吊销授权须说明理由", details={"reason": ["必填"]})
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, actor.user_id, reason.strip()
    return grant


def usable_grant(session: Session, *, actor: Actor, grant_id: int, items: list[str] | None,
                 now: dt.datetime) -> tuple[Grant, list[str]]:
    """The grant the actor's department may receive data under now, and the items to deliver."""
    grant = get_grant(session, actor=actor, grant_id=grant_id)
    if grant.grantee_id != actor.department_id:
        raise PermissionDenied("只有被授权部门可以获取数据")
    if grant.revoked_at is not None:
        raise PermissionDenied(f"授权已于 {grant.revoked_at:%Y-%m-%d} 吊销：{grant.revoke_reason}", code="grant_revoked")
    if grant.expires_at <= now:
        raise PermissionDenied(f"授权已于 {grant.expires_at:%Y-%m-%d} 过期", code="grant_expired")
    wanted = items or list(grant.items)
    if extra := [name for name in wanted if name not in grant.items]:
        raise PermissionDenied(f"未获授权的信息项：{'、'.join(extra)}", code="items_not_granted")
    return grant, wanted


# -- objections -----------------------------------------------------------------------------------


def visible_objections(actor: Actor) -> Select:
    stmt = select(Objection)
    if actor.oversees_all:
        return stmt
    return stmt.where(or_(Objection.requester_id == actor.department_id,
                          Objection.provider_id == actor.department_id))


def raise_objection(session: Session, *, actor: Actor, entry_id: int, description: str, now: dt.datetime,
                    deadlines: Deadlines, delivery_id: int | None = None,
                    channels: Channels = Channels()) -> Objection:
    actor.require_role(Role.REQUESTER, action="提出异议")
    entry = session.get(CatalogEntry, entry_id)
    if entry is None or entry.status not in VISIBLE_TO_ALL:
        raise NotFound(f"目录 {entry_id} 不存在或未发布")
    if not (description or "").strip():
        raise ValidationError("须描述数据问题", details={"description": ["必填"]})
    objection = Objection(entry_id=entry.id, delivery_id=delivery_id, provider_id=entry.provider_id,
                          requester_id=actor.department_id, raised_by=actor.user_id,
                          description=description.strip(), status=ObjectionStatus.OPEN,
                          deadline=deadlines.objection(now), created_at=now, updated_at=now)
    session.add(objection)
    session.flush()
    notify(session, kind="objection_raised", title=f"数据异议待答复：{entry.name}",
           body=f"期限 {objection.deadline:%Y-%m-%d %H:%M}；{objection.description}", now=now, channels=channels,
           department_id=entry.provider_id, object_type="objection", object_id=objection.id)
    return objection


def answer_objection(session: Session, *, actor: Actor, objection_id: int, answer: str, now: dt.datetime) -> Objection:
    objection = session.scalar(visible_objections(actor).where(Objection.id == objection_id))
    if objection is None:
        raise NotFound(f"异议 {objection_id} 不存在或无权查看")
    actor.require_write_for(objection.provider_id, "其他部门的异议")
    if objection.status is not ObjectionStatus.OPEN:
        raise InvalidTransition(f"异议当前为“{objection.status.label}”，不能答复")
    if not (answer or "").strip():
        raise ValidationError("须填写答复", details={"answer": ["必填"]})
    objection.status, objection.answer = ObjectionStatus.ANSWERED, answer.strip()
    objection.answered_by, objection.answered_at, objection.updated_at = actor.user_id, now, now
    return objection


def list_objections(session: Session, *, actor: Actor, status: str | None = None, overdue_at: dt.datetime | None = None,
                    page: int = 1, page_size: int = 20, sort: str = "-id") -> Page:
    stmt = visible_objections(actor)
    if status:
        stmt = stmt.where(Objection.status == status)
    if overdue_at is not None:
        stmt = stmt.where(Objection.status == ObjectionStatus.OPEN, Objection.deadline < overdue_at)
    return paginate(session, stmt.order_by(*ordering(sort, OBJECTION_SORTS, Objection.id)), page=page, page_size=page_size)


def objection_counts(session: Session, *, actor: Actor, now: dt.datetime) -> list[dict]:
    """Open and overdue objections per providing department (the bureau sees every department)."""
    overdue = func.sum(case((Objection.deadline < now, 1), else_=0))
    stmt = (visible_objections(actor).with_only_columns(Objection.provider_id, func.count(), overdue)
            .where(Objection.status == ObjectionStatus.OPEN).group_by(Objection.provider_id))
    return [{"department_id": d, "open": n, "overdue": int(late or 0)} for d, n, late in session.execute(stmt)]


def awaiting(session: Session) -> list[tuple]:
    """Pending applications and open objections, with the department that must answer and when."""
    applications = select(SharingApplication.id, CatalogEntry.provider_id, CatalogEntry.name,
                          SharingApplication.deadline).join(SharingApplication.entry).where(
        SharingApplication.status == A.PENDING, SharingApplication.deadline.is_not(None))
    objections = select(Objection.id, Objection.provider_id, Objection.description, Objection.deadline).where(
        Objection.status == ObjectionStatus.OPEN)
    return ([("application", i, d, f"共享申请《{name}》待审批", due) for i, d, name, due in session.execute(applications)]
            + [("objection", i, d, f"数据异议待答复：{text[:30]}", due) for i, d, text, due in session.execute(objections)])
