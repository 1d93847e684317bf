"""The scheduler: jobs by id, coalescing, one instance, and a lease two processes cannot share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from exchange import scheduler
from exchange.config import Settings
from exchange.runs import JobRun

SETTINGS = Settings()


def test_only_one_holder_gets_a_jobs_lease(sessions, now):
    assert scheduler.acquire(sessions, job="freshness-scan", holder="host-a:1", now=now)
    assert not scheduler.acquire(sessions, job="freshness-scan", holder="host-b:2", now=now)
    assert scheduler.acquire(sessions, job="freshness-scan", holder="host-a:1", now=now)  # renewing is fine


def test_an_expired_lease_can_be_taken_over(sessions, now):
    scheduler.acquire(sessions, job="freshness-scan", holder="host-a:1", now=now, seconds=60)
    later = now + dt.timedelta(seconds=61)
    assert scheduler.acquire(sessions, job="freshness-scan", holder="host-b:2", now=later)


def test_a_job_held_elsewhere_is_skipped_and_not_run(sessions, session, now):
    scheduler.acquire(sessions, job="freshness-scan", holder="other:9", now=now)
    result = scheduler.run_leased(sessions, job="freshness-scan", holder="me:1", settings=SETTINGS, clock=lambda: now)
    assert result is None
    assert session.scalars(select(JobRun)).all() == []


def test_a_leased_run_records_its_run_and_frees_the_lease(sessions, session, now):
    run = scheduler.run_leased(sessions, job="freshness-scan", holder="me:1", settings=SETTINGS, clock=lambda: now)
    assert run.job == "freshness-scan" and run.status.value == "ok"
    assert scheduler.acquire(sessions, job="freshness-scan", holder="other:9", now=now)


def test_a_failing_job_is_recorded_as_failed(sessions, session, now, monkeypatch):
    def broken(session, *, now, settings):
        raise RuntimeError("SMTP 配置错误")

    monkeypatch.setitem(scheduler.JOBS, "broken", scheduler.Job(scheduler.with_settings("broken", broken),
                                                               lambda tz: None, "test"))
    run = scheduler.run_leased(sessions, job="broken", holder="me:1", settings=SETTINGS, clock=lambda: now)
    assert (run.status.value, run.error) == ("failed", "RuntimeError: SMTP 配置错误")


def test_every_job_is_registered_by_id_coalescing_one_at_a_time(sessions):
    built = scheduler.build(sessions, settings=SETTINGS)
    built.start(paused=True)
    try:
        jobs = {job.id: job for job in built.get_jobs()}
    finally:
        built.shutdown(wait=False)
    assert set(jobs) == set(scheduler.JOBS)
    assert all(job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 3600 for job in jobs.values())
