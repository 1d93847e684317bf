"""The demand workflow: an explicit state machine with roles, reasons, deadlines and history.

    draft → submitted → accepted | returned (→ submitted again)
    accepted → matched (routed to a provider, with suggested entries)
    matched → confirmed (数源确认) | declined (→ matched again, or unmet)
    confirmed → fulfilled (a grant was issued) | unmet
    fulfilled | unmet → closed (with the requester's feedback)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from catalog.actors import Actor, Role
from catalog.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from catalog.models import CatalogEntry
from catalog.services import Page, get_department, ordering, paginate
from catalog.vocab import SharingMethod, UpdateCycle

from ..deadlines import Deadlines
from ..notifications.services import Channels, notify
from .models import Demand, DemandItem, DemandMatch, DemandStatus, DemandStep, MatchState, UnmetReason

S = DemandStatus
MAX_ITEMS = 500
MAX_TEXT = 5000
BUREAU = (Role.BUREAU, Role.ADMIN)


@dataclass(frozen=True)
class Step:
    roles: tuple[Role, ...]
    sources: tuple[DemandStatus, ...]
    target: DemandStatus
    needs_reason: bool = False
    side: str = "bureau"  # whose department must the actor belong to: requester, provider, bureau
    deadline: str | None = None  # the deadline that starts: "review" (bureau) or "answer" (provider)


STEPS = {
    "submit": Step((Role.REQUESTER, *BUREAU), (S.DRAFT, S.RETURNED), S.SUBMITTED, side="requester", deadline="review"),
    "accept": Step(BUREAU, (S.SUBMITTED,), S.ACCEPTED),
    "return": Step(BUREAU, (S.SUBMITTED,), S.RETURNED, needs_reason=True),
    "route": Step(BUREAU, (S.ACCEPTED, S.MATCHED, S.DECLINED), S.MATCHED, deadline="answer"),
    "confirm": Step((Role.PROVIDER, *BUREAU), (S.MATCHED,), S.CONFIRMED, side="provider"),
    "decline": Step((Role.PROVIDER, *BUREAU), (S.MATCHED,), S.DECLINED, needs_reason=True, side="provider", deadline="review"),
    "fulfil": Step((Role.REQUESTER, Role.PROVIDER, *BUREAU), (S.CONFIRMED,), S.FULFILLED, side="any"),
    "unmet": Step(BUREAU, (S.ACCEPTED, S.MATCHED, S.DECLINED, S.CONFIRMED), S.UNMET, needs_reason=True),
    "close": Step((Role.REQUESTER, *BUREAU), (S.FULFILLED, S.UNMET), S.CLOSED, side="requester"),
}
LABELS = {"submit": "提交", "accept": "受理", "return": "退回", "route": "分派", "confirm": "确认",
          "decline": "拒绝", "fulfil": "标记满足", "unmet": "标记未满足", "close": "关闭"}
AWAITING = {S.SUBMITTED: "bureau", S.MATCHED: "provider", S.DECLINED: "bureau"}


@dataclass
class DemandData:
    title: str
    description: str
    items: list[str]
    legal_basis: str | None = None
    scenario: str | None = None
    desired_cycle: str | None = None
    desired_method: str | None = None
    needed_by: dt.date | None = None
    ref: str | None = None


def check_demand(data: DemandData) -> dict:
    """The demand's fields, normalised; ValidationError naming every bad field."""
    problems: dict[str, list[str]] = {}
    title, description = (data.title or "").strip(), (data.description or "").strip()
    if not title or len(title) > 200:
        problems["title"] = ["必填，且不超过200字"]
    if not description or len(description) > MAX_TEXT:
        problems["description"] = [f"必填，且不超过{MAX_TEXT}字"]
    items = list(dict.fromkeys(i.strip() for i in data.items if i and i.strip()))
    if len(items) > MAX_ITEMS or any(len(i) > 200 for i in items):
        problems["items"] = [f"信息项最多{MAX_ITEMS}个，每个不超过200字"]
    values = dict(title=title, description=description, legal_basis=_blank(data.legal_basis),
                  scenario=_blank(data.scenario), needed_by=data.needed_by)
    values["desired_cycle"] = _vocab(UpdateCycle, data.desired_cycle, "desired_cycle", problems)
    values["desired_method"] = _vocab(SharingMethod, data.desired_method, "desired_method", problems)
    if problems:
        raise ValidationError("需求信息不符合要求", details=problems)
    return {**values, "items": items}


def _blank(text: str | None) -> str | None:
    return (text or "").strip() or None


def _vocab(vocab, raw, field: str, problems: dict):
    if not _blank(raw):
        return None
    try:
        return vocab.parse(raw)
    except ValueError as exc:
        problems[field] = [str(exc)]
        return None


# -- reading --------------------------------------------------------------------------------------


def visible_demands(actor: Actor) -> Select:
    stmt = select(Demand)
    if actor.oversees_all:
        return stmt
    if actor.role is Role.REQUESTER:
        return stmt.where(Demand.requester_id == actor.department_id)
    offered = select(DemandMatch.demand_id).join(CatalogEntry).where(
        CatalogEntry.provider_id == actor.department_id
    )
    return stmt.where(or_(Demand.provider_id == actor.department_id, Demand.id.in_(offered)))


@dataclass
class DemandFilter:
    status: str | None = None
    requester_id: int | None = None
    provider_id: int | None = None
    overdue: bool | None = None
    q: str | None = None


DEMAND_SORTS = {"id": Demand.id, "ref": Demand.ref, "title": Demand.title, "deadline": Demand.deadline,
                "created_at": Demand.created_at, "updated_at": Demand.updated_at, "status": Demand.status}


def list_demands(session: Session, *, actor: Actor, filters: DemandFilter, now: dt.datetime,
                 page: int = 1, page_size: int = 20, sort: str = "-id") -> Page:
    stmt = visible_demands(actor)
    for column, value in ((Demand.status, filters.status), (Demand.requester_id, filters.requester_id),
                          (Demand.provider_id, filters.provider_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.overdue is not None:
        stmt = stmt.where(is_overdue(now) if filters.overdue else ~is_overdue(now))
    if filters.q:
        stmt = stmt.where(or_(Demand.title.contains(filters.q), Demand.ref == filters.q))
    return paginate(session, stmt.order_by(*ordering(sort, DEMAND_SORTS, Demand.id)), page=page, page_size=page_size)


def is_overdue(now: dt.datetime):
    """SQL: the demand waits on someone and its deadline has passed."""
    return Demand.status.in_(list(AWAITING)) & (Demand.deadline < now)


def get_demand(session: Session, *, actor: Actor, demand_id: int | None = None, ref: str | None = None) -> Demand:
    stmt = visible_demands(actor).options(selectinload(Demand.items), selectinload(Demand.matches))
    stmt = stmt.where(Demand.ref == ref) if ref is not None else stmt.where(Demand.id == demand_id)
    demand = session.scalar(stmt)
    if demand is None:
        raise NotFound(f"需求 {ref or demand_id} 不存在或无权查看")
    return demand


def history(session: Session, *, actor: Actor, demand_id: int) -> list[DemandStep]:
    get_demand(session, actor=actor, demand_id=demand_id)
    stmt = select(DemandStep).where(DemandStep.demand_id == demand_id).order_by(DemandStep.id)
    return list(session.scalars(stmt))


# -- writing --------------------------------------------------------------------------------------


def next_ref(session: Session, now: dt.datetime) -> str:
    prefix = f"XQ-{now.year}-"
    count = session.scalar(select(func.count()).where(Demand.ref.startswith(prefix))) or 0
    return f"{prefix}{count + 1:05d}"


def create_demand(session: Session, *, actor: Actor, data: DemandData, now: dt.datetime,
                  requester_id: int | None = None) -> Demand:
    """A draft of the actor's department (the bureau may file one for any department)."""
    values = check_demand(data)
    department = requester_id if actor.oversees_all and requester_id else actor.department_id
    if actor.role is not Role.REQUESTER and not actor.oversees_all:
        raise PermissionDenied("只有需求方可以提出数据需求")
    if department is None:
        raise ValidationError("需求须属于一个部门", details={"requester_id": ["必填"]})
    get_department(session, department)
    ref = data.ref or next_ref(session, now)
    if session.scalar(select(Demand.id).where(Demand.ref == ref)):
        raise Conflict(f"需求编号“{ref}”已存在")
    items = values.pop("items")
    demand = Demand(ref=ref, requester_id=department, status=S.DRAFT, created_by=actor.user_id,
                    created_at=now, updated_at=now, **values,
                    items=[DemandItem(position=i, name=name) for i, name in enumerate(items)])
    session.add(demand)
    session.flush()
    _record(session, demand, "create", None, S.DRAFT, actor, now)
    return demand


def update_demand(session: Session, *, actor: Actor, demand_id: int, data: DemandData,
                  lock_version: int, now: dt.datetime) -> Demand:
    demand = _for_action(session, actor, demand_id, lock_version)
    if demand.status not in (S.DRAFT, S.RETURNED):
        raise InvalidTransition(f"需求当前为“{demand.status.label}”，不能修改")
    _require_side(actor, demand, "requester")
    apply_data(demand, data, now)
    return demand


def apply_data(demand: Demand, data: DemandData, now: dt.datetime) -> None:
    """Overwrite the demand's fields and items with checked ``data``."""
    values = check_demand(data)
    items = values.pop("items")
    for name, value in values.items():
        setattr(demand, name, value)
    _replace_items(demand, items)
    demand.updated_at = now


def _replace_items(demand: Demand, names: list[str]) -> None:
    """The demand's items become ``names``, keeping the rows of those that stay."""
    current = {item.name: item for item in demand.items}
    demand.items = [current.get(name) or DemandItem(name=name) for name in names]
    for position, item in enumerate(demand.items):
        item.position = position


def act(session: Session, *, actor: Actor, demand_id: int, action: str, now: dt.datetime,
        deadlines: Deadlines, reason: str | None = None, lock_version: int | None = None,
        channels: Channels = Channels(), **options) -> Demand:
    """Take one workflow step; every refusal says why, every step is recorded."""
    step = STEPS.get(action)
    if step is None:
        raise ValidationError(f"未知操作“{action}”", details={"action": sorted(STEPS)})
    label = LABELS[action]
    actor.require_role(*step.roles, action=f"{label}需求")
    demand = _for_action(session, actor, demand_id, lock_version)
    if demand.status not in step.sources:
        raise InvalidTransition(f"需求当前为“{demand.status.label}”，不能{label}")
    _require_side(actor, demand, step.side)
    if step.needs_reason and not (reason or "").strip():
        raise ValidationError(f"{label}需求须说明理由", details={"reason": ["必填"]})
    APPLY[action](session, demand, actor=actor, now=now, reason=reason, **options)
    _move(session, demand, action, step, actor, now, deadlines, reason)
    _announce(session, demand, action, reason, now, channels)
    return demand


# action → (who is told: "provider" or "requester", kind, title)
ANNOUNCED = {
    "route": ("provider", "demand_routed", "有新的数据需求待答复"),
    "return": ("requester", "demand_returned", "需求被退回，请补充后重新提交"),
    "confirm": ("requester", "demand_confirmed", "提供方已确认可满足需求，可申请共享"),
    "decline": ("requester", "demand_declined", "提供方表示无法满足需求"),
    "unmet": ("requester", "demand_unmet", "需求未能满足"),
}


def _announce(session, demand: Demand, action: str, reason, now, channels: Channels) -> None:
    if action not in ANNOUNCED:
        return
    side, kind, title = ANNOUNCED[action]
    department = demand.provider_id if side == "provider" else demand.requester_id
    deadline = f"；答复期限 {demand.deadline:%Y-%m-%d %H:%M}" if demand.deadline and side == "provider" else ""
    body = f"{demand.ref}《{demand.title}》{deadline}" + (f"；理由：{reason}" if reason else "")
    notify(session, kind=kind, title=f"{title}：{demand.title}", body=body, now=now, channels=channels,
           department_id=department, object_type="demand", object_id=demand.id)


def _for_action(session: Session, actor: Actor, demand_id: int, lock_version: int | None) -> Demand:
    demand = get_demand(session, actor=actor, demand_id=demand_id)
    if lock_version is not None and lock_version != demand.lock_version:
        raise Conflict("需求已被他人处理，请刷新后重试", details={"lock_version": demand.lock_version},
                       code="stale_version")
    return demand


def _require_side(actor: Actor, demand: Demand, side: str) -> None:
    if actor.oversees_all or side in ("any", "bureau"):
        return
    if side == "requester" and actor.department_id == demand.requester_id:
        return
    if side == "provider" and actor.department_id == demand.provider_id:
        return
    who = {"requester": "需求部门", "provider": "被分派的提供方"}[side]
    raise PermissionDenied(f"只有{who}可以办理这一步")


def _move(session, demand: Demand, action: str, step: Step, actor: Actor, now, deadlines, reason) -> None:
    _record(session, demand, action, demand.status, step.target, actor, now, reason)
    demand.status = step.target
    demand.updated_at = now
    if step.target is S.SUBMITTED:
        demand.submitted_at = now
    starts = {"review": deadlines.review, "answer": deadlines.answer}.get(step.deadline)
    demand.deadline = starts(now) if starts else None


def _record(session, demand: Demand, action: str, before, after, actor: Actor, now, reason=None) -> None:
    session.add(DemandStep(demand_id=demand.id, action=action, from_status=before, to_status=after,
                           reason=reason, actor_id=actor.user_id, at=now))


# -- what each step does beyond moving the status -------------------------------------------------


def _nothing(session, demand, **_) -> None:
    """Steps that only move the status."""


def _route(session, demand: Demand, *, actor, now, provider_id: int | None = None,
           entry_ids: list[int] | None = None, **_) -> None:
    """Name the provider expected to answer, and the entries offered (suggested matches)."""
    if provider_id is None:
        raise ValidationError("分派须指定提供方", details={"provider_id": ["必填"]})
    demand.provider_id = get_department(session, provider_id).id
    suggest(session, demand=demand, entries=[(i, None, []) for i in entry_ids or []])


def suggest(session: Session, *, demand: Demand, entries: list[tuple[int, float | None, list]],
            from_index: bool = False) -> None:
    """Offer entries (id, score, explanation) as answers; a rejected entry is never offered again.
    Ids named by a person are checked; the matcher's (``from_index``) come from the catalog just
    read, so many demands matched in a row write their suggestions in one flush at the end."""
    known = {m.entry_id: m for m in demand.matches}
    if not from_index:
        found = set(session.scalars(select(CatalogEntry.id).where(CatalogEntry.id.in_([e for e, _, _ in entries]))))
        if missing := [e for e, _, _ in entries if e not in found]:
            raise ValidationError("目录不存在", details={"entry_ids": missing})
    for rank, (entry_id, score, explanation) in enumerate(entries, start=1):
        match = known.get(entry_id)
        if match is None:
            demand.matches.append(DemandMatch(entry_id=entry_id, rank=rank, score=score, explanation=explanation))
        elif match.state is MatchState.SUGGESTED:
            match.rank = rank
            if score is not None:  # routing names entries without scores: keep the matcher's reasons
                match.score, match.explanation = score, explanation


def _confirm(session, demand: Demand, *, actor, now, entry_id: int | None = None, **_) -> None:
    """数源确认: the provider names which of its entries answers the demand."""
    match = _match(demand, entry_id)
    if match.entry.provider_id != actor.department_id and not actor.oversees_all:
        raise PermissionDenied("只能确认本部门的目录")
    match.state, match.decided_by, match.decided_at = MatchState.CONFIRMED, actor.user_id, now
    from ..synonyms.learning import learn_from_match  # the synonym table builds on demands

    learn_from_match(session, match=match, actor=actor, now=now)


def _decline(session, demand: Demand, *, actor, now, reason=None, entry_id: int | None = None, **_) -> None:
    for match in demand.matches:
        if match.state is MatchState.SUGGESTED and (entry_id is None or match.entry_id == entry_id):
            match.state, match.reason = MatchState.REJECTED, reason
            match.decided_by, match.decided_at = actor.user_id, now


def _match(demand: Demand, entry_id: int | None) -> DemandMatch:
    if entry_id is None:
        raise ValidationError("须指定答复需求的目录", details={"entry_id": ["必填"]})
    for match in demand.matches:
        if match.entry_id == entry_id and match.state is not MatchState.REJECTED:
            return match
    raise ValidationError("该目录不在需求的匹配结果中", details={"entry_id": [entry_id]})


def _unmet(session, demand: Demand, *, unmet_reason: str | None = None, **_) -> None:
    try:
        demand.unmet_reason = UnmetReason.parse(unmet_reason or "")
    except ValueError as exc:
        raise ValidationError("须说明未满足的原因", details={"unmet_reason": [str(exc)]}) from None


def _close(session, demand: Demand, *, satisfied: bool | None = None, feedback: str | None = None, **_) -> None:
    if satisfied is None:
        raise ValidationError("关闭需求须评价数据是否满足需要", details={"satisfied": ["必填"]})
    demand.satisfied, demand.feedback = satisfied, _blank(feedback)


APPLY = {"submit": _nothing, "accept": _nothing, "return": _nothing, "route": _route,
         "confirm": _confirm, "decline": _decline, "fulfil": _nothing, "unmet": _unmet, "close": _close}


def confirmed_entry_ids(demand: Demand) -> list[int]:
    return [m.entry_id for m in demand.matches if m.state is MatchState.CONFIRMED]


def overdue_counts(session: Session, *, actor: Actor, now: dt.datetime) -> list[dict]:
    """Overdue demands by who they wait on: the bureau (review, re-routing) or a provider department."""
    waiting_on = case((Demand.status == S.MATCHED, Demand.provider_id), else_=None)
    stmt = (visible_demands(actor).with_only_columns(waiting_on, func.count())
            .where(is_overdue(now)).group_by(waiting_on))
    return [{"department_id": d, "waiting_on": "provider" if d else "bureau", "overdue": n}
            for d, n in session.execute(stmt)]


def awaiting(session: Session) -> list[tuple]:
    """Demands waiting on a provider, with their deadlines (for reminders)."""
    stmt = select(Demand.id, Demand.provider_id, Demand.title, Demand.deadline).where(
        Demand.status == S.MATCHED, Demand.deadline.is_not(None))
    return [("demand", i, dept, f"数据需求《{title}》待答复", deadline) for i, dept, title, deadline in session.execute(stmt)]
