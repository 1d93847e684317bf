"""Reading the freshness findings: flags by kind, department, state and escalation, with their age;
the jobs' last runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.actors import Actor, Role
from catalog.errors import PermissionDenied
from catalog.services import Page, ordering, paginate

from ..runs import JobRun
from .models import Flag, FlagKind

STATES = ("open", "resolved")
FLAG_SORTS = {"id": Flag.id, "opened_at": Flag.opened_at, "resolved_at": Flag.resolved_at, "kind": Flag.kind}


def list_flags(session: Session, *, actor: Actor, now: dt.datetime, kind: str | None = None,
               department_id: int | None = None, entry_id: int | None = None, state: str | None = None,
               escalated: bool | None = None, sort: str = "-id", page: int = 1, page_size: int = 20) -> Page:
    """Flags, newest first (or by ``sort``: ``opened_at`` is the oldest first).  Providers see their
    own department's; the bureau and admin all.  Each carries ``age_days``: whole days open (until
    resolved, or now)."""
    department_id = visible_department(actor, department_id)
    stmt = select(Flag)
    for column, value in ((Flag.kind, kind and FlagKind.parse(kind)), (Flag.department_id, department_id),
                          (Flag.entry_id, entry_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if state is not None:
        stmt = stmt.where(Flag.resolved_at.is_(None) if state == "open" else Flag.resolved_at.is_not(None))
    if escalated is not None:
        stmt = stmt.where(Flag.escalated_at.is_not(None) if escalated else Flag.escalated_at.is_(None))
    found = paginate(session, stmt.order_by(*ordering(sort, FLAG_SORTS, Flag.id)), page=page, page_size=page_size)
    for flag in found.items:
        flag.age_days = max(0, ((flag.resolved_at or now) - flag.opened_at).days)  # 0 under a clock set back
    return found


def visible_department(actor: Actor, department_id: int | None, *, what: str = "目录问题") -> int | None:
    """The department whose findings the actor may read: any (the bureau, admin) or their own."""
    if actor.oversees_all:
        return department_id
    if actor.role is not Role.PROVIDER:
        raise PermissionDenied(f"只有提供方、大数据局和管理员可以查看{what}")
    if department_id not in (None, actor.department_id):
        raise PermissionDenied(f"{actor.name}只能查看本部门的{what}")
    return actor.department_id


def last_runs(session: Session, *, jobs: list[str]) -> dict[str, JobRun | None]:
    """Each named job's latest run (None: never run)."""
    return {job: session.scalars(select(JobRun).where(JobRun.job == job)
                                 .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).first()
            for job in jobs}
