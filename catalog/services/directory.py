"""Departments and data elements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ..actors import Actor, Role
from ..codes import parse_region_code, parse_uscc
from ..errors import NotFound, ValidationError
from ..models import DataElement, Department
from ..vocab import DepartmentLevel
from .common import Page, flush_unique, ordering, paginate

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
    flush_unique(session, "部门名称或统一社会信用代码已存在")
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


def department_name(column):
    """The name of the department ``column`` holds the id of: an expression to sort by."""
    named = aliased(Department)
    return select(named.name).where(named.id == column).scalar_subquery()


DEPARTMENT_SORTS = {"name": Department.name, "code": Department.code, "level": Department.level,
                    "region_code": Department.region_code, "parent": department_name(Department.parent_id)}


def list_departments(
    session: Session, *, q: str | None = None, sort: str = "name", page: int = 1, page_size: int = 50
) -> Page:
    """Departments by name or code, sorted by any of ``DEPARTMENT_SORTS`` (``-`` for descending)."""
    stmt = select(Department)
    if q:
        stmt = stmt.where(or_(Department.name.contains(q), Department.code == q.upper()))
    return paginate(session, stmt.order_by(*ordering(sort, DEPARTMENT_SORTS, Department.id)), page=page,
                    page_size=page_size)


# -- data elements -------------------------------------------------------------------------------


ELEMENT_SORTS = {"identifier": DataElement.identifier, "name": DataElement.name,
                 "english_name": DataElement.english_name, "data_type": DataElement.data_type,
                 "format": DataElement.format}


def list_elements(session: Session, *, q: str | None = None, sort: str = "identifier", page: int = 1,
                  page_size: int = 50):
    """Data elements by name or identifier, sorted by any of ``ELEMENT_SORTS``."""
    stmt = select(DataElement)
    if q:
        stmt = stmt.where(or_(DataElement.name.contains(q), DataElement.identifier == q))
    return paginate(session, stmt.order_by(*ordering(sort, ELEMENT_SORTS, DataElement.id)), page=page,
                    page_size=page_size)


def get_element(session: Session, element_id: int) -> DataElement:
    element = session.get(DataElement, element_id)
    if element is None:
        raise NotFound(f"数据元 {element_id} 不存在")
    return element


def create_element(session: Session, *, actor: Actor, values: dict) -> DataElement:
    actor.require_role(Role.BUREAU, Role.ADMIN, action="管理数据元")
    element = DataElement(**values, created_by=actor.user_id, updated_by=actor.user_id)
    session.add(element)
    flush_unique(session, f"数据元标识符“{values.get('identifier')}”已存在")
    return element
