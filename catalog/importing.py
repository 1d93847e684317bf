"""Bulk import of the national catalog template: all or nothing, set-based, updates by code.

Every row is checked against the cataloguing rules first and every problem is collected with its
row and column; only a file with no problem is written, in a handful of multi-row statements.
Re-importing a file updates entries by resource code; unchanged rows are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from .actors import Actor, Role
from .db import allocate_ids, bulk_insert, refresh_statistics, savepoint
from .codes import format_resource_code, parse_resource_code
from .errors import ImportFailed, PermissionDenied
from .models import (
    CatalogEntry,
    DataElement,
    Department,
    EntryText,
    EntryVersion,
    InfoItem,
    StatusChange,
)
from .rules import EntryData, RuleViolations, content_hash, parse_entry
from .services import code_front_for, snapshot
from .templates import CATALOG, Problem, Sheet
from .vocab import EntryStatus

Progress = Callable[[str, int, int], None]  # (stage, done, total): what a caller shows of long work
CHUNK = 2000
TICK = 5000
ANALYZE_AFTER = 10_000  # rows written before the planner's statistics are refreshed


def no_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: nobody is watching."""


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    departments_created: int = 0
    dry_run: bool = False
    ignored_headers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Row:
    number: int
    data: EntryData
    provider_id: int | None = None
    existing: tuple | None = None  # (id, provider_id, content_hash, status, version)
    code: str | None = None
    content: dict = field(default_factory=dict)
    digest: str = ""

    def __post_init__(self):
        self.content = self.data.content()
        self.digest = content_hash(self.content)


def import_catalog(
    session: Session,
    *,
    actor: Actor,
    sheet: Sheet,
    now: dt.datetime,
    status: EntryStatus | None = None,
    dry_run: bool = False,
    create_departments: bool = False,
    progress: Progress = no_progress,
) -> ImportResult:
    """Check every row, then write them all in one savepoint (rolled back when ``dry_run``)."""
    status = _target_status(actor, status)
    result = ImportResult(rows=len(sheet), dry_run=dry_run, ignored_headers=sheet.ignored_headers)
    rows, problems = _parse_rows(sheet, progress)
    problems += _duplicate_codes(rows)
    with savepoint(session, keep=not dry_run):
        problems += _resolve_providers(session, actor, rows, create_departments, result)
        problems += _check_existing(session, actor, rows)
        if problems:
            raise ImportFailed(f"文件有{len(problems)}处问题，未导入任何数据", problems=problems)
        _write(session, actor, rows, status, now, result, progress)
    return result


def _target_status(actor: Actor, status: EntryStatus | None) -> EntryStatus:
    if status is None:
        return EntryStatus.PUBLISHED if actor.oversees_all else EntryStatus.DRAFT
    if status is EntryStatus.PUBLISHED and not actor.oversees_all:
        raise PermissionDenied("只有大数据局可以直接导入为已发布")
    if status not in (EntryStatus.DRAFT, EntryStatus.SUBMITTED, EntryStatus.PUBLISHED):
        raise PermissionDenied(f"导入只能生成草稿、待审核或已发布的目录，不能是“{status.label}”")
    return status


def _parse_rows(sheet: Sheet, progress: Progress) -> tuple[list[_Row], list[Problem]]:
    rows, problems = [], []
    total = len(sheet)
    for index, (number, record) in enumerate(sheet.records()):
        if index % TICK == 0:
            progress("校验", index, total)
        if not any(str(v).strip() for v in record.values()):
            continue
        try:
            rows.append(_Row(number, parse_entry(record)))
        except RuleViolations as exc:
            problems += [
                Problem(p.message, number, CATALOG.header_of(p.field), _cell(record.get(p.field)))
                for p in exc.problems
            ]
    progress("校验", total, total)
    return rows, problems


def _cell(value) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _duplicate_codes(rows: list[_Row]) -> list[Problem]:
    counts = Counter(r.data.resource_code for r in rows if r.data.resource_code)
    header = CATALOG.header_of("resource_code")
    return [
        Problem("信息资源代码在文件中重复", r.number, header, r.data.resource_code)
        for r in rows
        if r.data.resource_code and counts[r.data.resource_code] > 1
    ]


# -- providers ------------------------------------------------------------------------------------


def _resolve_providers(session, actor, rows, create: bool, result: ImportResult) -> list[Problem]:
    by_name, by_code = _department_maps(session)
    problems, missing = [], {}
    for row in rows:
        data = row.data
        row.provider_id = by_code.get(data.provider_code) if data.provider_code else None
        row.provider_id = row.provider_id or by_name.get(data.provider)
        if row.provider_id is None:
            missing.setdefault(data.provider or data.provider_code, []).append(row)
    if missing and create:
        result.departments_created = _create_departments(session, missing, actor)
        by_name, by_code = _department_maps(session)
        for ref, waiting in missing.items():
            for row in waiting:
                row.provider_id = by_name.get(ref) or by_code.get(ref)
        return problems
    for ref, waiting in missing.items():
        problems += [
            Problem(f"部门“{ref}”未登记（可先导入部门，或使用 --create-departments）",
                    r.number, CATALOG.header_of("provider"), ref)
            for r in waiting
        ]
    return problems


def _department_maps(session) -> tuple[dict, dict]:
    pairs = session.execute(select(Department.id, Department.name, Department.code)).all()
    return {name: i for i, name, _ in pairs}, {code: i for i, _, code in pairs if code}


def _create_departments(session, missing: dict[str, list[_Row]], actor: Actor) -> int:
    values = []
    for ref, waiting in missing.items():
        data = waiting[0].data
        values.append({"name": data.provider or ref, "code": data.provider_code,
                       "created_by": actor.user_id, "updated_by": actor.user_id})
    session.execute(insert(Department), values)
    return len(values)


# -- existing entries and permissions -------------------------------------------------------------


def _check_existing(session, actor: Actor, rows: list[_Row]) -> list[Problem]:
    existing = _existing_by_code(session, [r.data.resource_code for r in rows if r.data.resource_code])
    problems = []
    header = CATALOG.header_of("provider")
    for row in rows:
        row.existing = existing.get(row.data.resource_code)
        if not actor.may_write_for(row.provider_id):
            problems.append(Problem("无权为该部门登记目录", row.number, header, row.data.provider))
        problems += _existing_problems(actor, row)
    return problems


def _existing_problems(actor: Actor, row: _Row) -> list[Problem]:
    if row.existing is None:
        return []
    _, provider_id, _, status, _ = row.existing
    code_header = CATALOG.header_of("resource_code")
    if provider_id != row.provider_id and actor.role not in (Role.BUREAU, Role.ADMIN):
        return [Problem("该代码已属于其他部门的目录", row.number, code_header, row.data.resource_code)]
    if status in (EntryStatus.WITHDRAWN, EntryStatus.WITHDRAWN.value):
        return [Problem("该目录已撤销，不能通过导入修改", row.number, code_header, row.data.resource_code)]
    return []


def _existing_by_code(session, codes: list[str]) -> dict[str, tuple]:
    found = {}
    columns = (CatalogEntry.resource_code, CatalogEntry.id, CatalogEntry.provider_id,
               CatalogEntry.content_hash, CatalogEntry.status, CatalogEntry.version)
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start:start + CHUNK]
        for code, *rest in session.execute(select(*columns).where(CatalogEntry.resource_code.in_(chunk))):
            found[code] = tuple(rest)
    return found


# -- writing --------------------------------------------------------------------------------------


def _write(session, actor, rows, status, now, result, progress) -> None:
    _assign_codes(session, rows)
    elements = _element_ids_by_name(session)
    fresh = [r for r in rows if r.existing is None]
    changed = [r for r in rows if r.existing is not None and _differs(r, status)]
    result.created, result.updated = len(fresh), len(changed)
    result.unchanged = len(rows) - len(fresh) - len(changed)
    total = len(fresh) + len(changed)
    progress("写入", 0, total)
    ids = _insert_entries(session, actor, fresh, status, now)
    ids += _update_entries(session, actor, changed, status, now)
    written = fresh + changed
    changed_ids = [r.existing[0] for r in changed]
    _replace_rows(session, EntryText.__table__, changed_ids,
                  [dict(entry_id=i, text=r.data.search_text()) for r, i in zip(written, ids)])
    _replace_items(session, written, ids, elements, changed_ids=changed_ids)
    _record_lifecycle(session, actor, written, ids, status, now)
    if total >= ANALYZE_AFTER:
        refresh_statistics(session, CatalogEntry.__table__, InfoItem.__table__, EntryText.__table__)
    progress("写入", total, total)


def _differs(row: _Row, status: EntryStatus) -> bool:
    _, provider_id, content_hash, old_status, _ = row.existing
    return (content_hash != row.digest or provider_id != row.provider_id
            or EntryStatus(old_status) is not status)


def _assign_codes(session, rows: list[_Row]) -> None:
    for row in rows:
        row.code = row.data.resource_code
    unassigned = [r for r in rows if r.code is None]
    if not unassigned:
        return
    regions = dict(session.execute(select(Department.id, Department.region_code)).all())
    fronts = {id(r): code_front_for(r.data, regions.get(r.provider_id)) for r in unassigned}
    used = dict(session.execute(
        select(CatalogEntry.code_front, func.max(CatalogEntry.code_sequence))
        .where(CatalogEntry.code_front.in_(set(fronts.values())))
        .group_by(CatalogEntry.code_front)
    ).all())
    for row in rows:  # codes given in the file also take their numbers
        if row.code:
            front, seq = parse_resource_code(row.code)
            used[front] = max(used.get(front, 0), int(seq))
    for row in unassigned:
        front = fronts[id(row)]
        used[front] = used.get(front, 0) + 1
        row.code = format_resource_code(front, used[front])


def _entry_values(row: _Row, actor: Actor, status: EntryStatus, now: dt.datetime) -> dict:
    data = row.data
    front, seq = parse_resource_code(row.code)
    publish_date = data.publish_date or (now.date() if status is EntryStatus.PUBLISHED else None)
    return dict(
        resource_code=row.code, code_front=front, code_sequence=int(seq), name=data.name,
        provider_id=row.provider_id, summary=data.summary, category=data.category,
        classification_code=data.classification_code, format=data.format,
        format_detail=data.format_detail, sharing_type=data.sharing_type,
        sharing_condition=data.sharing_condition, not_shared_basis=data.not_shared_basis,
        sharing_method=data.sharing_method, open_attribute=data.open_attribute,
        update_cycle=data.update_cycle, publish_date=publish_date, last_updated=data.last_updated,
        related_codes=data.related_codes, status=status, content_hash=row.digest,
        updated_by=actor.user_id, updated_at=now,
    )


def _insert_entries(session, actor, rows, status, now) -> list[int]:
    table = CatalogEntry.__table__
    ids = allocate_ids(session, table, len(rows))
    values = []
    for entry_id, row in zip(ids, rows):
        row_values = _entry_values(row, actor, status, now)
        row_values.update(id=entry_id, created_by=actor.user_id, created_at=now, lock_version=1,
                          version=1 if status is EntryStatus.PUBLISHED else 0)
        values.append(row_values)
    bulk_insert(session, table, values)
    return ids


def _update_entries(session, actor, rows, status, now) -> list[int]:
    table = CatalogEntry.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(lock_version=table.c.lock_version + 1)
    )
    batch = []
    for row in rows:
        values = _entry_values(row, actor, status, now)
        old_version = row.existing[4]
        values.update(_id=row.existing[0], version=old_version + (status is EntryStatus.PUBLISHED))
        batch.append(values)
    for start in range(0, len(batch), CHUNK):
        session.connection().execute(stmt, batch[start:start + CHUNK])
    return [row.existing[0] for row in rows]


def _element_ids_by_name(session) -> dict[str, int]:
    """Items named exactly like a data element (unique by name) are bound to it on import."""
    pairs = session.execute(select(DataElement.name, DataElement.id)).all()
    counts = Counter(name for name, _ in pairs)
    return {name: i for name, i in pairs if counts[name] == 1}


def _replace_rows(session, table, entry_ids: list[int], values: list[dict]) -> None:
    """Delete the rows of these entries, then insert the new ones."""
    for start in range(0, len(entry_ids), CHUNK):
        session.execute(delete(table).where(table.c.entry_id.in_(entry_ids[start:start + CHUNK])))
    bulk_insert(session, table, values)


def _replace_items(session, rows, ids, elements: dict[str, int], *, changed_ids: list[int]) -> None:
    values = [
        dict(entry_id=entry_id, position=pos, name=item.name, data_type=item.data_type,
             length=item.length, element_id=item.element_id or elements.get(item.name),
             sharing_type=item.sharing_type)
        for row, entry_id in zip(rows, ids)
        for pos, item in enumerate(row.data.items)
    ]
    _replace_rows(session, InfoItem.__table__, changed_ids, values)


def _record_lifecycle(session, actor, rows, ids, status, now) -> None:
    changes, versions = [], []
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    codes = dict(session.execute(select(Department.id, Department.code)).all())
    for row, entry_id in zip(rows, ids):
        old_status = EntryStatus(row.existing[3]) if row.existing else None
        if old_status is not status:
            changes.append(dict(entry_id=entry_id, from_status=old_status, to_status=status,
                                reason="批量导入", actor_id=actor.user_id, at=now))
        if status is EntryStatus.PUBLISHED:
            version = (row.existing[4] if row.existing else 0) + 1
            snap = snapshot(row.content, resource_code=row.code, provider=departments[row.provider_id],
                            provider_code=codes[row.provider_id])
            versions.append(dict(entry_id=entry_id, version=version, snapshot=snap,
                                 published_at=now, published_by=actor.user_id))
    bulk_insert(session, StatusChange.__table__, changes)
    bulk_insert(session, EntryVersion.__table__, versions)

