"""Jobs meeting a clock moved back or a database that goes away half way through a run: the run is
recorded (failed, with its error, when it could not finish), nothing is left half flagged, and the
next run repairs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from catalog import mounts
from catalog.actors import SYSTEM, Actor, Role
from catalog.codes import make_uscc
from catalog.db import make_engine, make_session_factory, session_scope
from catalog.services import DepartmentData, create_department
from exchange.demands.matching import MatchEngine
from exchange.demands.models import Demand
from exchange.demands.rematch import rematch
from exchange.freshness.models import Flag
from exchange.runs import JobRun, JobStatus
from exchange.freshness.scan import scan
from exchange.freshness.services import list_flags

from .test_freshness import flags_of, published_entry
from .test_rematch import later, submitted_demand
from .test_demands import parties, published_entry as demand_entry  # noqa: F401


BUREAU = Actor(user_id=None, name="大数据局", role=Role.BUREAU)


# -- the clock moved back --------------------------------------------------------------------------


def test_a_scan_after_the_clock_moved_back_keeps_one_flag_each_and_no_negative_age(
        session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    assert scan(sessions, now=now).status is JobStatus.OK
    mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url="https://data.example/api", now=now)
    session.commit()

    earlier = now - dt.timedelta(days=3)  # the server's clock was set back three days
    run = scan(sessions, now=earlier)
    assert run.status is JobStatus.OK, run.error
    session.expire_all()
    assert len(flags_of(session, entry.id, "stale")) == 1  # kept, not opened again
    (unmounted,) = session.scalars(select(Flag).where(Flag.entry_id == entry.id, Flag.kind == "unmounted"))
    assert unmounted.resolved_at is not None and unmounted.resolved_at >= unmounted.opened_at

    again = scan(sessions, now=now + dt.timedelta(days=1))  # and put right again
    assert again.status is JobStatus.OK and again.counts["stale"]["opened"] == 0
    listed = list_flags(session, actor=BUREAU, now=earlier)
    assert listed.items and all(flag.age_days >= 0 for flag in listed.items)


def test_rematching_after_the_clock_moved_back_still_sees_the_entries_changed_since(
        client, parties, session, sessions, now):
    vehicles = submitted_demand(client, parties, title="机动车登记", description="机动车登记情况",
                                items=["号牌号码", "车辆识别代号"])
    engine = MatchEngine()
    assert rematch(sessions, now=later(now, 5), engine=engine).status is JobStatus.OK

    # the clock is set back: an entry published "before" the last run's start is still news
    new = demand_entry(session, parties["stats_bureau"], later(now, 3), name="机动车登记信息",
                       items="号牌号码|车辆识别代号|机动车所有人")
    run = rematch(sessions, now=later(now, 4), engine=engine)
    assert run.status is JobStatus.OK, run.error
    session.expire_all()
    assert new.id in {m.entry_id for m in session.get(Demand, vehicles["id"]).matches}

    quiet = rematch(sessions, now=later(now, 4) + dt.timedelta(minutes=30), engine=engine)
    assert quiet.counts["changed_entries"] == 0  # the run after it starts from that run again


# -- the database goes away half way ----------------------------------------------------------------


def take_away(engine, raw) -> None:
    """End a driver connection as a server restart does (SQLite: close the file's connection)."""
    if engine.dialect.name != "postgresql":
        raw.close()
        return
    killer = make_engine(engine.url.render_as_string(hide_password=False))
    with killer.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_terminate_backend({raw.info.backend_pid})")
    killer.dispose()


def cut_the_connection_at(engine, statement_start: str, *, on: int = 1):
    """At the ``on``-th statement beginning with ``statement_start``, the job's connection dies
    (see :func:`take_away`)."""
    seen = []

    def cut(_conn, cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(statement_start.upper()):
            return
        seen.append(statement)
        if len(seen) != on:
            return
        take_away(engine, cursor.connection)

    event.listen(engine, "before_cursor_execute", cut)
    return lambda: event.remove(engine, "before_cursor_execute", cut)


@pytest.fixture
def own_sessions(own_database_url):
    engine = make_engine(own_database_url)
    yield engine, make_session_factory(engine)
    engine.dispose()


def test_a_scan_losing_its_database_half_way_is_recorded_failed_and_the_next_run_repairs(own_sessions, now):
    engine, sessions = own_sessions
    with session_scope(sessions) as session:
        department = create_department(session, actor=SYSTEM, data=DepartmentData(
            name="台州市统计局", code=make_uscc("331000", 1), level="市", region_code="331000"))
        entries = [published_entry(session, department, now, name=f"统计数据{i}", update_cycle="每年",
                                   mounted=False).id for i in range(3)]

    stop = cut_the_connection_at(engine, "INSERT INTO flags", on=2)
    try:
        failed = scan(sessions, now=now)
    finally:
        stop()
    assert failed.status is JobStatus.FAILED
    assert "terminating connection" in failed.error or "closed database" in failed.error
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Flag)) == 0  # nothing half flagged
        recorded = session.scalars(select(JobRun).where(JobRun.job == "freshness-scan")).one()
        assert recorded.status is JobStatus.FAILED and recorded.error == failed.error

    repaired = scan(sessions, now=now + dt.timedelta(minutes=5))
    assert repaired.status is JobStatus.OK, repaired.error
    with session_scope(sessions) as session:
        for entry_id in entries:
            assert len(flags_of(session, entry_id, "stale")) == 1
            assert len(flags_of(session, entry_id, "unmounted")) == 1


def test_a_job_after_the_database_restarted_between_runs_gets_a_fresh_connection(own_sessions, now):
    engine, sessions = own_sessions
    assert scan(sessions, now=now).status is JobStatus.OK  # leaves a connection in the pool
    with engine.connect() as connection:  # the same pooled connection, whose server then goes away
        take_away(engine, connection.connection.dbapi_connection)
    run = scan(sessions, now=now + dt.timedelta(days=1))
    assert run.status is JobStatus.OK, run.error
