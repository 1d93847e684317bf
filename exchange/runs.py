"""Every scheduled job's run record, and running a job with it: counts and duration in the job's
own transaction, or, when it fails, the error in a transaction of its own after the job's work has
been rolled back."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.db import session_scope
from catalog.importing import Progress, no_progress  # noqa: F401  (the jobs take them from here)
from catalog.models import Base, vocab
from catalog.vocab import Vocabulary


class JobStatus(Vocabulary):
    OK = "ok", "成功"
    FAILED = "failed", "失败"


class JobRun(Base):
    """One run of a scheduled job: when, how long, how it ended and what it counted."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column()
    finished_at: Mapped[dt.datetime] = mapped_column()
    duration_ms: Mapped[int] = mapped_column(Integer)
    status: Mapped[JobStatus] = mapped_column(vocab(JobStatus, "status"))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

# what a run's plain counts are called when shown
COUNT_LABELS = {"probed": "探测", "healthy": "正常", "unhealthy": "异常", "timed_out": "超时",
                "escalated": "升级督办", "departments_notified": "通知部门", "bureau_notified": "通知大数据局"}
ERROR_KEPT = 2000  # characters of a failure's message kept on the run
log = logging.getLogger(__name__)

Work = Callable[..., dict]  # (session, *, now) -> counts
RUNNING, FINISHED = "运行中", "已完成"  # the stages every recorded job reports, at its start and its end


def run_recorded(sessions, *, job: str, work: Work, now: dt.datetime, progress: Progress = no_progress) -> JobRun:
    started = time.perf_counter()
    progress(RUNNING, 0, 1)
    try:
        with session_scope(sessions) as session:
            counts = work(session, now=now)
            progress(FINISHED, 1, 1)
            return _record(session, job, now, started, counts)
    except Exception as exc:  # noqa: BLE001 - a failed job is a failed run, not a crash
        log.exception("job %s failed", job)
        with session_scope(sessions) as session:
            return _record(session, job, now, started, {}, exc)


def recorded(job: str, work: Work) -> Callable[..., JobRun]:
    """The job as ``(sessions, *, now, progress) -> JobRun``, the shape the scheduler runs."""

    def run(sessions, *, now: dt.datetime, progress: Progress = no_progress) -> JobRun:
        return run_recorded(sessions, job=job, work=work, now=now, progress=progress)

    return run


def _record(session: Session, job: str, now: dt.datetime, started: float, counts: dict,
            error: Exception | None = None) -> JobRun:
    elapsed = time.perf_counter() - started
    run = JobRun(job=job, started_at=now, finished_at=now + dt.timedelta(seconds=elapsed),
                 duration_ms=round(elapsed * 1000), counts=counts,
                 status=JobStatus.FAILED if error else JobStatus.OK,
                 error=f"{type(error).__name__}: {error}"[:ERROR_KEPT] if error else None)
    session.add(run)
    session.flush()
    return run
