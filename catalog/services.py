"""Catalog services: departments, data elements, entries and their lifecycle.

Every function takes the session first and the rest by keyword, checks the actor's permission,
raises domain errors, and never commits (the caller owns the transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .actors import Actor, Role
from .db import contains_text, id_in
from .codes import format_resource_code, parse_region_code, parse_resource_code, parse_uscc
from .errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from .models import (
    CatalogEntry,
    DataElement,
    Department,
    EntryText,
    EntryVersion,
    InfoItem,
    MountedResource,
    StatusChange,
)
from .search import TextIndex
from .rules import EntryData, ItemData, RuleViolations, fold_query, parse_entry
from .vocab import DepartmentLevel, EntryStatus

VISIBLE_TO_ALL = (EntryStatus.PUBLISHED, EntryStatus.CHANGED)
DEFAULT_CODE_FRONT = "000000"
MAX_PAGE_SIZE = 200


@dataclass
class Page:
    items: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# -- departments ---------------------------------------------------------------------------------


@dataclass
class DepartmentData:
    name: str
    code: str | None = None
    level: str | None = None
    region_code: str | None = None
    parent: str | None = None  # name or code of the parent department


def parse_department(raw: DepartmentData) -> dict:
    problems: dict[str, list[str]] = {}

    def check(name, fn, value):
        if value in (None, ""):
            return None
        try:
            return fn(value)
        except ValueError as exc:
            problems.setdefault(name, []).append(str(exc))

    name = (raw.name or "").strip()
    if not name:
        problems["name"] = ["必填"]
    values = dict(
        name=name,
        code=check("code", parse_uscc, raw.code),
        level=check("level", DepartmentLevel.parse, raw.level),
        region_code=check("region_code", parse_region_code, raw.region_code),
    )
    if problems:
        raise ValidationError("部门信息不符合要求", details=problems)
    return values


def create_department(session: Session, *, actor: Actor, data: DepartmentData) -> Department:
    actor.require_role(Role.BUREAU, Role.ADMIN, action="登记部门")
    values = parse_department(data)
    parent = find_department(session, data.parent) if data.parent else None
    if data.parent and parent is None:
        raise ValidationError("上级部门不存在", details={"parent": [f"找不到部门“{data.parent}”"]})
    department = Department(**values, parent=parent, created_by=actor.user_id, updated_by=actor.user_id)
    session.add(department)
    _flush_unique(session, "部门名称或统一社会信用代码已存在")
    return department


def find_department(session: Session, ref: str | int) -> Department | None:
    """A department by id, 统一社会信用代码 or exact name."""
    if isinstance(ref, int) or str(ref).isdigit() and len(str(ref)) < 18:
        return session.get(Department, int(ref))
    text = str(ref).strip()
    return session.scalar(
        select(Department).where(or_(Department.code == text.upper(), Department.name == text))
    )


def get_department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"部门 {department_id} 不存在")
    return department


def list_departments(
    session: Session, *, q: str | None = None, page: int = 1, page_size: int = 50
) -> Page:
    stmt = select(Department)
    if q:
        stmt = stmt.where(or_(Department.name.contains(q), Department.code == q.upper()))
    return paginate(session, stmt.order_by(Department.name), page=page, page_size=page_size)


# -- data elements -------------------------------------------------------------------------------


def list_elements(session: Session, *, q: str | None = None, page: int = 1, page_size: int = 50):
    stmt = select(DataElement)
    if q:
        stmt = stmt.where(or_(DataElement.name.contains(q), DataElement.identifier == q))
    return paginate(session, stmt.order_by(DataElement.identifier), page=page, page_size=page_size)


def get_element(session: Session, element_id: int) -> DataElement:
    element = session.get(DataElement, element_id)
    if element is None:
        raise NotFound(f"数据元 {element_id} 不存在")
    return element


def create_element(session: Session, *, actor: Actor, values: dict) -> DataElement:
    actor.require_role(Role.BUREAU, Role.ADMIN, action="管理数据元")
    element = DataElement(**values, created_by=actor.user_id, updated_by=actor.user_id)
    session.add(element)
    _flush_unique(session, f"数据元标识符“{values.get('identifier')}”已存在")
    return element


# -- entries: reading ----------------------------------------------------------------------------


@dataclass
class EntryFilter:
    provider_id: int | None = None
    sharing_type: str | None = None
    status: str | None = None
    update_cycle: str | None = None
    category: str | None = None
    mounted: bool | None = None
    q: str | None = None
    sort: str = "-updated_at"
    entry_ids: list[int] | None = None  # already narrowed, e.g. by the in-process text index


SORTABLE = {
    "name": CatalogEntry.name,
    "resource_code": CatalogEntry.resource_code,
    "updated_at": CatalogEntry.updated_at,
    "created_at": CatalogEntry.created_at,
    "publish_date": CatalogEntry.publish_date,
    "last_updated": CatalogEntry.last_updated,
    "id": CatalogEntry.id,
}


def is_mounted():
    """SQL: the entry has at least one resource mounted now."""
    return exists().where(
        MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None)
    )


def visible_entries(actor: Actor) -> Select:
    stmt = select(CatalogEntry)
    if actor.oversees_all:
        return stmt
    shown = CatalogEntry.status.in_(VISIBLE_TO_ALL)
    if actor.role is Role.PROVIDER and actor.department_id is not None:
        shown = or_(shown, CatalogEntry.provider_id == actor.department_id)
    return stmt.where(shown)


MAX_IN_LIST = 20_000  # past this many text hits, the database scans instead


def list_entries(
    session: Session,
    *,
    actor: Actor,
    filters: EntryFilter,
    page: int = 1,
    page_size: int = 20,
    text_index: TextIndex | None = None,
) -> Page:
    # A provider narrows to a few hundred rows: the database checks their text faster than the
    # index finds every hit of a common word across the catalog.
    words = fold_query(filters.q or "").split()
    if not words:
        filters = replace(filters, q=None)
    elif text_index is not None and filters.provider_id is None:
        text_index.refresh(session)
        hits = text_index.matching_ids(words)
        if len(hits) <= MAX_IN_LIST:
            filters = replace(filters, entry_ids=hits)
    stmt = apply_filters(visible_entries(actor), filters, session=session)
    stmt = stmt.order_by(*_ordering(filters.sort))
    return paginate(session, stmt, page=page, page_size=page_size)


def apply_filters(stmt: Select, f: EntryFilter, *, session: Session | None = None) -> Select:
    equal = {
        CatalogEntry.provider_id: f.provider_id,
        CatalogEntry.sharing_type: f.sharing_type,
        CatalogEntry.status: f.status,
        CatalogEntry.update_cycle: f.update_cycle,
        CatalogEntry.category: f.category,
    }
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if f.mounted is not None:
        stmt = stmt.where(is_mounted() if f.mounted else ~is_mounted())
    if f.entry_ids is not None:
        stmt = stmt.where(id_in(session, CatalogEntry.id, f.entry_ids))
    elif f.q:
        words = [contains_text(EntryText.text, word) for word in fold_query(f.q).split()]
        stmt = stmt.where(exists().where(EntryText.entry_id == CatalogEntry.id, *words))
    return stmt


def _ordering(sort: str) -> list:
    keys = []
    for key in (sort or "").split(","):
        key = key.strip()
        column = SORTABLE.get(key.lstrip("-"))
        if column is None:
            raise ValidationError(
                f"不能按“{key}”排序", details={"sort": [f"可选：{', '.join(SORTABLE)}"]}
            )
        keys.append(column.desc() if key.startswith("-") else column.asc())
    return keys + [CatalogEntry.id.desc()]


def paginate(session: Session, stmt: Select, *, page: int, page_size: int) -> Page:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(
            "分页参数错误", details={"page_size": [f"每页条数应在1到{MAX_PAGE_SIZE}之间，页码从1开始"]}
        )
    model = stmt.column_descriptions[0]["entity"]
    window = stmt.with_only_columns(model.id, func.count().over())
    found = session.execute(window.limit(page_size).offset((page - 1) * page_size)).all()
    if found:
        total = found[0][1]
    else:  # past the last page: count without fetching
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ids = [row[0] for row in found]
    loaded = {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(ids))).unique()}
    return Page(items=[loaded[i] for i in ids], total=total or 0, page=page, page_size=page_size)


def mounted_entry_ids(session: Session, entry_ids: Sequence[int]) -> set[int]:
    if not entry_ids:
        return set()
    stmt = select(MountedResource.entry_id).where(
        MountedResource.entry_id.in_(entry_ids), MountedResource.unmounted_at.is_(None)
    )
    return set(session.scalars(stmt))


def get_entry(session: Session, *, actor: Actor, entry_id: int | None = None, code: str | None = None):
    stmt = visible_entries(actor).options(
        selectinload(CatalogEntry.items), selectinload(CatalogEntry.mounts)
    )
    if code is not None:
        stmt = stmt.where(CatalogEntry.resource_code == code)
    else:
        stmt = stmt.where(CatalogEntry.id == entry_id)
    entry = session.scalar(stmt)
    if entry is None:
        raise NotFound(f"目录 {code or entry_id} 不存在或无权查看")
    return entry


def list_versions(session: Session, *, actor: Actor, entry_id: int) -> list[EntryVersion]:
    get_entry(session, actor=actor, entry_id=entry_id)
    stmt = select(EntryVersion).where(EntryVersion.entry_id == entry_id).order_by(EntryVersion.version)
    return list(session.scalars(stmt))


def list_status_changes(session: Session, *, entry_id: int) -> list[StatusChange]:
    stmt = select(StatusChange).where(StatusChange.entry_id == entry_id).order_by(StatusChange.id)
    return list(session.scalars(stmt))


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
    _flush_unique(session, f"信息资源代码“{entry.resource_code}”已存在")
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


def _flush_unique(session: Session, message: str) -> None:
    """Flush inside a savepoint so a taken unique value fails alone, as a Conflict."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc


def require_visible(actor: Actor, entry: CatalogEntry) -> None:
    if not _may_see(actor, entry):
        raise PermissionDenied("无权查看该目录")
