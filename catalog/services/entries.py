"""Writing entries: registration, changes (with optimistic locking), and the lifecycle
draft → submitted → published ⇄ changed → withdrawn, each publication a frozen version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..actors import Actor, Role
from ..codes import format_resource_code, parse_resource_code
from ..errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from ..models import (
    CatalogEntry,
    DataElement,
    Department,
    EntryText,
    EntryVersion,
    InfoItem,
    StatusChange,
)
from ..rules import EntryData, ItemData, RuleViolations, parse_entry
from ..vocab import EntryStatus
from .common import DEFAULT_CODE_FRONT, VISIBLE_TO_ALL, flush_unique

# -- entries: writing ----------------------------------------------------------------------------


def parse_entry_fields(fields: dict) -> EntryData:
    """The rules, raised as the domain's ValidationError with every field's messages."""
    try:
        return parse_entry(fields)
    except RuleViolations as exc:
        raise ValidationError("目录不符合编目规则", details=exc.by_field()) from None


def resolve_provider(session: Session, data: EntryData) -> Department:
    department = None
    if data.provider_id is not None:
        department = session.get(Department, data.provider_id)
    elif data.provider_code:
        department = session.scalar(select(Department).where(Department.code == data.provider_code))
    elif data.provider:
        department = session.scalar(select(Department).where(Department.name == data.provider))
    if department is None:
        ref = data.provider_id or data.provider_code or data.provider
        raise ValidationError("信息资源提供方不存在", details={"provider": [f"找不到部门“{ref}”"]})
    if data.provider_code and department.code and department.code != data.provider_code:
        raise ValidationError(
            "提供方代码与部门不符",
            details={"provider_code": [f"{department.name}的代码为{department.code}"]},
        )
    return department


def next_sequence(session: Session, front: str) -> int:
    stmt = select(func.max(CatalogEntry.code_sequence)).where(CatalogEntry.code_front == front)
    return (session.scalar(stmt) or 0) + 1


def code_front_for(data: EntryData, region_code: str | None) -> str:
    """Where no code is given, the classification code or the provider's region heads it."""
    if data.classification_code and data.classification_code.isalnum():
        return data.classification_code.upper()[:32]
    return region_code or DEFAULT_CODE_FRONT


def create_entry(session: Session, *, actor: Actor, data: EntryData, now: dt.datetime) -> CatalogEntry:
    provider = resolve_provider(session, data)
    actor.require_write_for(provider.id)
    _check_elements(session, data.items)
    if data.resource_code:
        front, seq = parse_resource_code(data.resource_code)
    else:
        front = code_front_for(data, provider.region_code)
        seq = f"{next_sequence(session, front):06d}"
    entry = CatalogEntry(
        resource_code=data.resource_code or format_resource_code(front, int(seq)),
        code_front=front,
        code_sequence=int(seq),
        status=EntryStatus.DRAFT,
        created_by=actor.user_id,
        created_at=now,
    )
    _apply(entry, data, provider, actor, now)
    session.add(entry)
    flush_unique(session, f"信息资源代码“{entry.resource_code}”已存在")
    _record_status(session, entry, None, EntryStatus.DRAFT, actor, now)
    return entry


def update_entry(
    session: Session, *, actor: Actor, entry_id: int, data: EntryData, lock_version: int, now: dt.datetime
) -> CatalogEntry:
    entry = _entry_for_write(session, actor, entry_id, lock_version)
    provider = resolve_provider(session, data)
    if provider.id != entry.provider_id:
        actor.require_role(Role.BUREAU, Role.ADMIN, action="变更目录的提供方")
    if data.resource_code and data.resource_code != entry.resource_code:
        raise ValidationError("信息资源代码不可修改", details={"resource_code": ["登记后不可修改"]})
    if entry.status is EntryStatus.SUBMITTED:
        raise InvalidTransition("目录正在审核中，请等待审核结果或退回后再修改")
    if entry.status is EntryStatus.WITHDRAWN:
        raise InvalidTransition("目录已撤销，不能修改")
    _check_elements(session, data.items)
    _apply(entry, data, provider, actor, now)
    if entry.status is EntryStatus.PUBLISHED:
        _move(session, entry, EntryStatus.CHANGED, actor, now, reason="修改已发布目录")
    return entry


def _apply(entry: CatalogEntry, data: EntryData, provider: Department, actor: Actor, now) -> None:
    for name in (
        "name summary category classification_code format format_detail sharing_type "
        "sharing_condition not_shared_basis sharing_method open_attribute update_cycle "
        "publish_date last_updated related_codes"
    ).split():
        setattr(entry, name, getattr(data, name))
    entry.provider = provider
    entry.provider_id = provider.id
    entry.content_hash = data.content_hash()
    if entry.text is None:
        entry.text = EntryText(text=data.search_text())
    else:
        entry.text.text = data.search_text()
    entry.updated_by = actor.user_id
    entry.updated_at = now
    entry.items = _merged_items(entry.items, data.items)


def _merged_items(current: list[InfoItem], wanted: list[ItemData]) -> list[InfoItem]:
    """Keep the rows of items that stay (by name), so their ids survive an edit."""
    by_name = {item.name: item for item in current}
    merged = []
    for position, item in enumerate(wanted):
        row = by_name.pop(item.name, None) or InfoItem(name=item.name)
        row.position, row.data_type, row.length = position, item.data_type, item.length
        row.element_id, row.sharing_type = item.element_id, item.sharing_type
        merged.append(row)
    return merged


def _check_elements(session: Session, items: list[ItemData]) -> None:
    wanted = {item.element_id for item in items if item.element_id is not None}
    if not wanted:
        return
    found = set(session.scalars(select(DataElement.id).where(DataElement.id.in_(wanted))))
    if missing := wanted - found:
        raise ValidationError(
            "信息项绑定的数据元不存在", details={"items": [f"数据元 {sorted(missing)} 不存在"]}
        )


def _entry_for_write(session: Session, actor: Actor, entry_id: int, lock_version: int | None):
    entry = session.get(CatalogEntry, entry_id)
    if entry is None or not _may_see(actor, entry):
        raise NotFound(f"目录 {entry_id} 不存在或无权查看")
    actor.require_write_for(entry.provider_id)
    if lock_version is not None and lock_version != entry.lock_version:
        raise Conflict(
            "目录已被他人修改，请刷新后重试",
            details={"lock_version": entry.lock_version},
            code="stale_version",
        )
    return entry


def _may_see(actor: Actor, entry: CatalogEntry) -> bool:
    if actor.oversees_all or entry.status in VISIBLE_TO_ALL:
        return True
    return actor.role is Role.PROVIDER and actor.department_id == entry.provider_id


def entry_data(entry: CatalogEntry) -> EntryData:
    """The stored entry as rule-checked data (for export, hashing and snapshots)."""
    return EntryData(
        resource_code=entry.resource_code,
        name=entry.name,
        summary=entry.summary,
        provider=entry.provider.name,
        provider_code=entry.provider.code,
        provider_id=entry.provider_id,
        category=entry.category,
        classification_code=entry.classification_code,
        format=entry.format,
        format_detail=entry.format_detail,
        sharing_type=entry.sharing_type,
        sharing_condition=entry.sharing_condition,
        not_shared_basis=entry.not_shared_basis,
        sharing_method=entry.sharing_method,
        open_attribute=entry.open_attribute,
        update_cycle=entry.update_cycle,
        publish_date=entry.publish_date,
        last_updated=entry.last_updated,
        related_codes=list(entry.related_codes or []),
        items=[
            ItemData(i.name, i.data_type, i.length, i.element_id, i.sharing_type) for i in entry.items
        ],
    )


def snapshot(content: dict, *, resource_code: str, provider: str, provider_code: str | None) -> dict:
    """What a published version freezes: the content plus code and provider as they were."""
    return {**content, "resource_code": resource_code, "provider": provider, "provider_code": provider_code}


# -- lifecycle -----------------------------------------------------------------------------------

# action → (roles allowed, statuses it starts from, status it ends in; None = computed)
TRANSITIONS = {
    "submit": ((Role.PROVIDER, Role.BUREAU, Role.ADMIN), (EntryStatus.DRAFT, EntryStatus.CHANGED), EntryStatus.SUBMITTED),
    "publish": ((Role.BUREAU, Role.ADMIN), (EntryStatus.SUBMITTED,), EntryStatus.PUBLISHED),
    "return": ((Role.BUREAU, Role.ADMIN), (EntryStatus.SUBMITTED,), None),
    "withdraw": (
        (Role.PROVIDER, Role.BUREAU, Role.ADMIN),
        (EntryStatus.PUBLISHED, EntryStatus.CHANGED, EntryStatus.DRAFT),
        EntryStatus.WITHDRAWN,
    ),
}
NEEDS_REASON = {"return", "withdraw"}
ACTION_LABELS = {"submit": "提交", "publish": "发布", "return": "退回", "withdraw": "撤销"}


def transition(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    action: str,
    now: dt.datetime,
    reason: str | None = None,
    lock_version: int | None = None,
) -> CatalogEntry:
    if action not in TRANSITIONS:
        raise ValidationError(f"未知操作“{action}”", details={"action": list(TRANSITIONS)})
    roles, sources, target = TRANSITIONS[action]
    label = ACTION_LABELS[action]
    actor.require_role(*roles, action=f"{label}目录")
    entry = _entry_for_write(session, actor, entry_id, lock_version)
    if entry.status not in sources:
        raise InvalidTransition(f"目录当前为“{entry.status.label}”，不能{label}")
    if action in NEEDS_REASON and not (reason or "").strip():
        raise ValidationError(f"{label}目录须说明理由", details={"reason": ["必填"]})
    if action == "publish":
        publish_version(session, entry, actor=actor, now=now)
    target = target or (EntryStatus.CHANGED if entry.version else EntryStatus.DRAFT)
    _move(session, entry, target, actor, now, reason=reason)
    session.flush()
    return entry


def publish_version(session: Session, entry: CatalogEntry, *, actor: Actor, now: dt.datetime) -> None:
    entry.version += 1
    entry.publish_date = entry.publish_date or now.date()
    data = entry_data(entry)
    session.add(
        EntryVersion(
            entry_id=entry.id,
            version=entry.version,
            snapshot=snapshot(data.content(), resource_code=entry.resource_code,
                              provider=entry.provider.name, provider_code=entry.provider.code),
            published_at=now,
            published_by=actor.user_id,
        )
    )


def _move(session, entry, target: EntryStatus, actor: Actor, now, *, reason=None) -> None:
    _record_status(session, entry, entry.status, target, actor, now, reason)
    entry.status = target
    entry.updated_at = now
    entry.updated_by = actor.user_id


def _record_status(session, entry, before, after, actor: Actor, now, reason=None) -> None:
    session.add(
        StatusChange(
            entry_id=entry.id, from_status=before, to_status=after,
            reason=reason, actor_id=actor.user_id, at=now,
        )
    )
