"""Reading the freshness findings: flags by kind, department and state; the jobs' last runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.actors import Actor, Role
from catalog.errors import PermissionDenied
from catalog.services import Page, paginate

from .models import Flag, FlagKind, JobRun

STATES = ("open", "resolved")


def list_flags(session: Session, *, actor: Actor, kind: str | None = None, department_id: int | None = None,
               state: str | None = None, page: int = 1, page_size: int = 20) -> Page:
    """Flags, newest first.  Providers see their own department's; the bureau and admin all."""
    department_id = _visible_department(actor, department_id)
    stmt = select(Flag)
    if kind is not None:
        stmt = stmt.where(Flag.kind == FlagKind.parse(kind))
    if department_id is not None:
        stmt = stmt.where(Flag.department_id == department_id)
    if state is not None:
        stmt = stmt.where(Flag.resolved_at.is_(None) if state == "open" else Flag.resolved_at.is_not(None))
    return paginate(session, stmt.order_by(Flag.id.desc()), page=page, page_size=page_size)


def _visible_department(actor: Actor, department_id: int | None) -> int | None:
    if actor.oversees_all:
        return department_id
    if actor.role is not Role.PROVIDER:
        raise PermissionDenied("只有提供方、大数据局和管理员可以查看目录问题")
    if department_id not in (None, actor.department_id):
        raise PermissionDenied(f"{actor.name}只能查看本部门的目录问题")
    return actor.department_id


def last_runs(session: Session, *, jobs: list[str]) -> dict[str, JobRun | None]:
    """Each named job's latest run (None: never run)."""
    return {job: session.scalars(select(JobRun).where(JobRun.job == job)
                                 .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).first()
            for job in jobs}
