"""Data elements (数据元) and departments from their templates: checked, then upserted in bulk.

The GB/T 39046-2020 list publishes no identifiers: one is derived from the source reference
(``GB/T 39046-2020 表4 … #1`` → ``GBT39046-2020.T4.001``) so re-importing updates in place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .actors import Actor, Role
from .db import savepoint
from .errors import ImportFailed, ValidationError
from .models import DataElement, Department
from .rules import FieldProblem, RuleViolations
from .services import DepartmentData, parse_department
from .templates import DEPARTMENTS, ELEMENTS, Problem, Sheet
from .vocab import DataType

_STANDARD_REF = re.compile(r"^(GB(?:/T)?)\s*([\d.]+)-(\d{4}).*?表\s*(\d+).*?#\s*(\d+)")
_TYPE_AND_FORMAT = re.compile(r"^\s*([^\sa-zA-Z0-9.]+?型|二进制|[^\sa-zA-Z0-9.]+)?\s*(.*)$")
_LIST = re.compile(r"[|;；、,，]")


def derive_identifier(source: str | None, name: str) -> str:
    match = _STANDARD_REF.match(source or "")
    if match:
        std, number, year, table, seq = match.groups()
        return f"{std.replace('/', '')}{number}-{year}.T{table}.{int(seq):03d}"
    digest = hashlib.sha1(f"{source or ''}|{name}".encode()).hexdigest()[:10].upper()
    return f"DE{digest}"


def split_type(raw: str | None) -> tuple[DataType | None, str | None]:
    """``字符型 an..200`` → (character, "an..200"); ``字符型..ul`` → (character, "..ul")."""
    text = (raw or "").strip()
    if not text:
        return None, None
    head, rest = _TYPE_AND_FORMAT.match(text).groups()
    return (DataType.parse(head) if head else None), (rest.strip() or None)


def element_values(raw: dict) -> dict:
    """Normalise one element's fields (API payload or template row); raise RuleViolations."""
    problems = []
    name = str(raw.get("name") or "").strip()
    if not name:
        problems.append(FieldProblem("name", "必填"))
    try:
        data_type, fmt = split_type(raw.get("data_type"))
    except ValueError as exc:
        problems.append(FieldProblem("data_type", str(exc)))
        data_type = fmt = None
    if problems:
        raise RuleViolations(problems)
    synonyms = raw.get("synonyms") or []
    if isinstance(synonyms, str):
        synonyms = [s.strip() for s in _LIST.split(synonyms) if s.strip()]
    source = _blank(raw.get("source"))
    return dict(
        identifier=_blank(raw.get("identifier")) or derive_identifier(source, name),
        name=name,
        english_name=_blank(raw.get("english_name")),
        definition=_blank(raw.get("definition")),
        data_type=data_type,
        format=_blank(raw.get("format")) or fmt,
        value_domain=_blank(raw.get("value_domain")),
        synonyms=list(dict.fromkeys(synonyms)),
        source=source,
    )


def _blank(value) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def import_elements(session: Session, *, actor: Actor, sheet: Sheet, dry_run: bool = False) -> dict:
    actor.require_role(Role.BUREAU, Role.ADMIN, action="导入数据元")
    rows, problems = [], []
    for number, record in sheet.records():
        try:
            rows.append((number, element_values(record)))
        except RuleViolations as exc:
            problems += [Problem(p.message, number, ELEMENTS.header_of(p.field), _blank(record.get(p.field)))
                         for p in exc.problems]
    problems += _duplicates(rows, "identifier", ELEMENTS.header_of("identifier"))
    if problems:
        raise ImportFailed(f"文件有{len(problems)}处问题，未导入任何数据", problems=problems)
    with savepoint(session, keep=not dry_run):
        return {**_upsert(session, actor, DataElement, "identifier", [v for _, v in rows]), "dry_run": dry_run}


def _duplicates(rows: list[tuple[int, dict]], key: str, header: str) -> list[Problem]:
    seen: dict[str, int] = {}
    out = []
    for number, values in rows:
        if values[key] in seen:
            out.append(Problem(f"与第{seen[values[key]]}行重复", number, header, values[key]))
        seen.setdefault(values[key], number)
    return out


def _upsert(session: Session, actor: Actor, model, key: str, values: list[dict]) -> dict:
    column = getattr(model, key)
    existing = dict(session.execute(select(column, model.id).where(column.in_([v[key] for v in values]))).all())
    fresh = [{**v, "created_by": actor.user_id, "updated_by": actor.user_id}
             for v in values if v[key] not in existing]
    changed = [{**v, "_id": existing[v[key]], "updated_by": actor.user_id} for v in values if v[key] in existing]
    if fresh:
        session.execute(insert(model), fresh)
    if changed:
        table = model.__table__
        stmt = update(table).where(table.c.id == bindparam("_id"))
        session.connection().execute(stmt, changed)
    return {"rows": len(values), "created": len(fresh), "updated": len(changed)}


def import_departments(session: Session, *, actor: Actor, sheet: Sheet, dry_run: bool = False) -> dict:
    """Departments by name (or code); parents may be named in the same file or already registered."""
    actor.require_role(Role.BUREAU, Role.ADMIN, action="导入部门")
    rows, problems = [], []
    for number, record in sheet.records():
        data = DepartmentData(**{k: _blank(record.get(k)) for k in ("name", "code", "level", "region_code", "parent")})
        try:
            rows.append((number, parse_department(data), data.parent))
        except ValidationError as exc:
            for field, messages in exc.details.items():
                problems += [Problem(m, number, DEPARTMENTS.header_of(field), _blank(record.get(field))) for m in messages]
    problems += _duplicates([(n, v) for n, v, _ in rows], "name", DEPARTMENTS.header_of("name"))
    problems += _unknown_parents(session, rows)
    if problems:
        raise ImportFailed(f"文件有{len(problems)}处问题，未导入任何数据", problems=problems)
    with savepoint(session, keep=not dry_run):
        result = _upsert(session, actor, Department, "name", [v for _, v, _ in rows])
        _link_parents(session, rows)
    return {**result, "dry_run": dry_run}


def _unknown_parents(session: Session, rows: Iterable[tuple]) -> list[Problem]:
    named = {v["name"] for _, v, _ in rows} | {v["code"] for _, v, _ in rows if v["code"]}
    wanted = {parent for _, _, parent in rows if parent and parent not in named}
    if not wanted:
        return []
    stmt = select(Department.name, Department.code).where(
        Department.name.in_(wanted) | Department.code.in_(wanted)
    )
    known = {x for pair in session.execute(stmt) for x in pair if x}
    header = DEPARTMENTS.header_of("parent")
    return [Problem(f"上级部门“{p}”未登记", n, header, p) for n, _, p in rows if p in wanted - known]


def _link_parents(session: Session, rows: Iterable[tuple]) -> None:
    pairs = session.execute(select(Department.id, Department.name, Department.code)).all()
    ids = {name: i for i, name, _ in pairs} | {code: i for i, _, code in pairs if code}
    links = [{"_id": ids[v["name"]], "parent_id": ids[p]} for _, v, p in rows if p]
    if links:
        table = Department.__table__
        session.connection().execute(update(table).where(table.c.id == bindparam("_id")), links)
