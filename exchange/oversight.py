"""The job runs the bureau (大数据局) watches: every recorded run of the scheduled jobs, by job and
outcome.  (The dashboard's figures come from the daily snapshots of :mod:`exchange.dashboards`.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.actors import Actor, Role
from catalog.services import Page, ordering, paginate

from .runs import JobRun, JobStatus


# -- job runs -------------------------------------------------------------------------------------

RUN_SORTS = {"started_at": JobRun.started_at, "duration_ms": JobRun.duration_ms, "job": JobRun.job,
             "status": JobRun.status}


def list_job_runs(session: Session, *, actor: Actor, job: str | None = None, status: str | None = None,
                  page: int = 1, page_size: int = 20, sort: str = "-started_at") -> Page:
    """Every recorded run of the scheduled jobs, by job and outcome, newest first by default."""
    actor.require_role(Role.BUREAU, Role.ADMIN, action="查看任务运行记录")
    stmt = select(JobRun)
    if job:
        stmt = stmt.where(JobRun.job == job)
    if status:
        stmt = stmt.where(JobRun.status == JobStatus(status))
    return paginate(session, stmt.order_by(*ordering(sort, RUN_SORTS, JobRun.id)), page=page, page_size=page_size)
