"""Demands collected by spreadsheet in a 需求征集 campaign: checked whole, then filed and submitted.

All or nothing, every problem named by row and column; the 需求编号 is kept as the demand's
reference, so re-importing the same sheet updates demands instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.actors import Actor, Role
from catalog.db import savepoint
from catalog.errors import ImportFailed, ValidationError
from catalog.models import Department
from catalog.templates import Column, Problem, Sheet, Template

from ..deadlines import Deadlines
from . import services
from .models import Demand, DemandStatus

DEMANDS = Template("demands", (
    Column("ref", "需求编号", aliases=("ref", "编号", "demand ref")),
    Column("title", "需求名称", True, ("title", "名称")),
    Column("requester", "需求部门", True, ("requester", "department", "需求方")),
    Column("description", "需求描述", True, ("description", "描述")),
    Column("items", "需求信息项", aliases=("items", "信息项")),
    Column("legal_basis", "使用依据", aliases=("legal basis", "依据")),
    Column("scenario", "应用场景", aliases=("scenario", "场景")),
    Column("desired_cycle", "期望更新周期", aliases=("desired cycle", "更新周期")),
    Column("desired_method", "期望共享方式", aliases=("desired method", "共享方式")),
))
EDITABLE = (DemandStatus.DRAFT, DemandStatus.RETURNED, DemandStatus.SUBMITTED)


@dataclass
class DemandImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    departments_created: int = 0
    dry_run: bool = False
    refs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "refs"}


def import_demands(session: Session, *, actor: Actor, sheet: Sheet, now: dt.datetime, deadlines: Deadlines,
                   dry_run: bool = False, create_departments: bool = False) -> DemandImportResult:
    actor.require_role(Role.BUREAU, Role.ADMIN, action="导入需求征集表")
    rows, problems = _parse(sheet)
    result = DemandImportResult(rows=len(rows), dry_run=dry_run)
    with savepoint(session, keep=not dry_run):
        departments = _departments(session, actor, rows, create_departments, problems, result)
        existing = _existing(session, [data.ref for _, data, _ in rows if data.ref])
        problems += _locked(rows, existing)
        if problems:
            raise ImportFailed(f"文件有{len(problems)}处问题，未导入任何需求", problems=problems)
        for _, data, requester in rows:
            _file(session, actor, data, departments[requester], existing.get(data.ref), now, deadlines, result)
    return result


def _parse(sheet: Sheet) -> tuple[list[tuple[int, services.DemandData, str]], list[Problem]]:
    rows, problems, seen = [], [], {}
    for number, record in sheet.records():
        if not any(str(v).strip() for v in record.values()):
            continue
        data = services.DemandData(
            title=record.get("title", ""), description=record.get("description", ""),
            items=str(record.get("items") or "").split("|"), legal_basis=record.get("legal_basis"),
            scenario=record.get("scenario"), desired_cycle=record.get("desired_cycle"),
            desired_method=record.get("desired_method"), ref=(str(record.get("ref") or "").strip() or None))
        try:
            services.check_demand(data)
        except ValidationError as exc:
            problems += [Problem(m, number, DEMANDS.header_of(f), str(record.get(f) or "") or None)
                         for f, messages in exc.details.items() for m in messages]
        if data.ref and data.ref in seen:
            problems.append(Problem(f"需求编号与第{seen[data.ref]}行重复", number, "需求编号", data.ref))
        seen.setdefault(data.ref, number)
        rows.append((number, data, str(record.get("requester") or "").strip()))
    return rows, problems


def _departments(session, actor, rows, create: bool, problems: list, result) -> dict[str, int]:
    names = {requester for _, _, requester in rows}
    found = dict(session.execute(select(Department.name, Department.id).where(Department.name.in_(names))).all())
    missing = sorted(names - set(found))
    if missing and create:
        for name in missing:
            department = Department(name=name, created_by=actor.user_id, updated_by=actor.user_id)
            session.add(department)
            session.flush()
            found[name] = department.id
        result.departments_created = len(missing)
    elif missing:
        problems += [Problem(f"部门“{r}”未登记（可使用 --create-departments）", n, "需求部门", r)
                     for n, _, r in rows if r in missing]
    return found


def _existing(session: Session, refs: list[str]) -> dict[str, Demand]:
    if not refs:
        return {}
    return {d.ref: d for d in session.scalars(select(Demand).where(Demand.ref.in_(refs)))}


def _locked(rows, existing: dict[str, Demand]) -> list[Problem]:
    """A demand already accepted or further along is the bureau's to handle, not a sheet's to overwrite."""
    return [Problem(f"需求已{existing[d.ref].status.label}，不能再通过导入修改", n, "需求编号", d.ref)
            for n, d, _ in rows if d.ref in existing and existing[d.ref].status not in EDITABLE]


def _file(session, actor, data, requester_id: int, demand: Demand | None, now, deadlines, result) -> None:
    if demand is None:
        demand = services.create_demand(session, actor=actor, data=data, now=now, requester_id=requester_id)
        services.act(session, actor=actor, demand_id=demand.id, action="submit", now=now, deadlines=deadlines)
        result.created += 1
    else:
        services.apply_data(demand, data, now)
        demand.requester_id = requester_id
        if demand.status is not DemandStatus.SUBMITTED:
            services.act(session, actor=actor, demand_id=demand.id, action="submit", now=now, deadlines=deadlines)
        result.updated += 1
    result.refs.append(demand.ref)
