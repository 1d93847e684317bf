"""The scheduler: jobs registered by explicit id with coalescing, one instance at a time and a
misfire grace, and a lease in the database so that two scheduler processes never run one job at
the same time.  ``exchange scheduler run`` runs it as its own process; ``exchange serve`` and
``exchange demo`` run it in-process for the single-machine default.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from catalog.db import session_scope
from catalog.models import Base

from .config import Settings
from .dashboards.snapshot import snapshot_counts
from .demands.rematch import rematch
from .demands.services import awaiting as demands_awaiting
from .freshness.rules import FreshnessConfig
from .freshness.probe_job import run_probes
from .runs import JobRun, Progress, no_progress, recorded
from .freshness.scan import scan
from .notifications.services import SOON_DAYS, Channels, dispatch, remind
from .sharing.services import awaiting as sharing_awaiting
from .workdays import WorkCalendar

log = logging.getLogger(__name__)
LEASE_SECONDS = 3600  # a holder that died frees its jobs after this long
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


class JobLease(Base):
    """Who may run a job now: one row per job, taken by an atomic conditional UPDATE."""

    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[dt.datetime] = mapped_column()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def acquire(sessions, *, job: str, holder: str, now: dt.datetime, seconds: int = LEASE_SECONDS) -> bool:
    """Take the job's lease if it is free, expired or already ours; True when we hold it."""
    with session_scope(sessions) as session:
        _ensure_row(session, job, now)
        taken = session.execute(
            update(JobLease)
            .where(JobLease.job == job, or_(JobLease.expires_at < now, JobLease.holder == holder))
            .values(holder=holder, expires_at=now + dt.timedelta(seconds=seconds)),
            execution_options={"preserve_rowcount": True},
        )
        return taken.rowcount == 1


def _ensure_row(session, job: str, now: dt.datetime) -> None:
    if session.get(JobLease, job) is not None:
        return
    try:
        with session.begin_nested():
            session.add(JobLease(job=job, holder="", expires_at=RELEASED))
    except IntegrityError:
        pass  # another process created it first


RELEASED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # a lease's expiry once its holder lets go


def release(sessions, *, job: str, holder: str) -> None:
    with session_scope(sessions) as session:
        session.execute(update(JobLease).where(JobLease.job == job, JobLease.holder == holder)
                        .values(holder="", expires_at=RELEASED))


def run_leased(sessions, *, job: str, holder: str, settings: Settings,
               clock: Callable[[], dt.datetime] = utcnow):
    """Run a job under its lease; skip (return None) while another process holds it."""
    now = clock()
    if not acquire(sessions, job=job, holder=holder, now=now):
        log.info("job %s skipped: another scheduler holds its lease", job)
        return None
    return run_held(sessions, job=job, holder=holder, settings=settings, now=now)


def lease_by_hand(sessions, *, job: str, by: str, now: dt.datetime) -> str | None:
    """Take the job's lease for a run started by hand (``by``: "cli", "web"); the holder's name to
    pass to :func:`run_held`, or None while the scheduler or another run holds it."""
    holder = f"{holder_name()}:{by}-{uuid.uuid4().hex[:12]}"
    return holder if acquire(sessions, job=job, holder=holder, now=now) else None


def run_held(sessions, *, job: str, holder: str, settings: Settings, now: dt.datetime,
             progress: Progress = no_progress):
    """Run a job whose lease ``holder`` has taken (see :func:`acquire`), then let the lease go."""
    try:
        return JOBS[job].run(sessions, now=now, settings=settings, progress=progress)
    finally:
        release(sessions, job=job, holder=holder)


# -- the jobs ---------------------------------------------------------------------------------------


def _channels(settings: Settings) -> Channels:
    return Channels(smtp_url=settings.smtp_url, webhook_url=settings.webhook_url)


def _scan(sessions, *, now: dt.datetime, settings: Settings, progress: Progress = no_progress) -> JobRun:
    config = FreshnessConfig(timezone=settings.timezone, escalation_days=settings.flag_escalation_days)
    return scan(sessions, now=now, config=config, channels=_channels(settings), progress=progress)


def _probe(sessions, *, now: dt.datetime, settings: Settings, progress: Progress = no_progress) -> JobRun:
    return run_probes(sessions, now=now, storage=settings.storage_path, timeout=settings.probe_timeout,
                      concurrency=settings.probe_concurrency, progress=progress)


def _rematch(sessions, *, now: dt.datetime, settings: Settings, progress: Progress = no_progress) -> JobRun:
    return rematch(sessions, now=now, progress=progress)


def _remind(session, *, now: dt.datetime, settings: Settings) -> dict:
    soon = WorkCalendar.from_settings(settings).add(now, SOON_DAYS)
    waiting = demands_awaiting(session) + sharing_awaiting(session)
    return {"reminded": remind(session, now=now, soon=soon, channels=_channels(settings), waiting=waiting)}


def _send(session, *, now: dt.datetime, settings: Settings) -> dict:
    return dispatch(session, now=now, channels=_channels(settings))


def _snapshot(session, *, now: dt.datetime, settings: Settings) -> dict:
    return snapshot_counts(session, now=now, timezone=settings.timezone)


def with_settings(job: str, work) -> Callable[..., JobRun]:
    """A recorded job whose work also needs the settings its caller read."""

    def run(sessions, *, now: dt.datetime, settings: Settings, progress: Progress = no_progress) -> JobRun:
        return recorded(job, partial(work, settings=settings))(sessions, now=now, progress=progress)

    return run


@dataclass(frozen=True)
class Job:
    run: Callable  # (sessions, *, now, settings, progress=no_progress) -> JobRun
    trigger: Callable[[str], object]  # time zone → APScheduler trigger
    help: str


JOBS = {
    "freshness-scan": Job(_scan, lambda tz: CronTrigger(hour=2, minute=0, timezone=tz),
                          "flag stale, unmounted, unreachable, inconsistent entries and waiting demands; escalate; notify (daily 02:00)"),
    "resource-probes": Job(_probe, lambda tz: CronTrigger(minute=15, timezone=tz),
                           "probe every mounted table, file and API; record health, rows, last change (hourly at :15)"),
    "notifications-remind": Job(with_settings("notifications-remind", _remind),
                                lambda tz: CronTrigger(hour=8, minute=30, timezone=tz),
                                "remind departments of deadlines within 2 working days or past (daily 08:30)"),
    "rematch": Job(_rematch, lambda tz: IntervalTrigger(minutes=30),
                   "re-match the open demands that entries changed since the last run may affect (every 30 minutes)"),
    "notifications-send": Job(with_settings("notifications-send", _send), lambda tz: IntervalTrigger(minutes=5),
                              "send e-mail and webhook copies that are due (every 5 minutes)"),
    "dashboard-snapshot": Job(with_settings("dashboard-snapshot", _snapshot),
                              lambda tz: CronTrigger(hour=2, minute=30, timezone=tz),
                              "write every dashboard figure per department for today; a rerun replaces the day (daily 02:30)"),
}


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build(sessions, *, settings: Settings, blocking: bool = False):
    """A scheduler with every job registered by id, coalescing, one instance at a time."""
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=settings.timezone, job_defaults=JOB_DEFAULTS)
    kwargs = {"sessions": sessions, "holder": holder_name(), "settings": settings}
    for name, job in JOBS.items():
        scheduler.add_job(run_leased, job.trigger(settings.timezone), id=name, name=name,
                          replace_existing=True, kwargs={**kwargs, "job": name})
    return scheduler


