"""The freshness scan: flags opened, kept and resolved on stale and unmounted entries, set-based,
in one transaction, with a run record; and the flags over the API by department."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from catalog import mounts
from catalog import services as catalog_services
from catalog.actors import SYSTEM
from catalog.vocab import Health
from cli import main
from exchange.freshness.models import Flag, FlagKind
from exchange.runs import JobRun
from exchange.freshness.rules import is_stale
from exchange.freshness import scan as scan_module
from exchange.freshness.scan import scan

from .conftest import auth, entry_fields, failing

API = "/api/v1"
TWO_YEARS_AGO = dt.date(2024, 11, 1)


def published_entry(session, provider, now, *, last_updated=TWO_YEARS_AGO, mounted=True, **overrides):
    data = catalog_services.parse_entry_fields(entry_fields(provider_id=provider.id, **overrides))
    entry = catalog_services.create_entry(session, actor=SYSTEM, data=data, now=now)
    for action in ("submit", "publish"):
        catalog_services.transition(session, actor=SYSTEM, entry_id=entry.id, action=action, now=now)
    entry.last_updated = last_updated
    if mounted:
        mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url="https://data.example/api", now=now)
    session.commit()
    return entry


def flags_of(session, entry_id: int, kind: str) -> list[tuple]:
    stmt = (select(Flag.department_id, Flag.resolved_at).where(Flag.entry_id == entry_id, Flag.kind == kind)
            .order_by(Flag.id))
    return [tuple(row) for row in session.execute(stmt)]


def test_a_yearly_entry_two_years_old_gets_one_stale_flag_charged_to_its_provider(
        session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, name="人口统计年鉴", update_cycle="每年")
    run = scan(sessions, now=now)
    assert flags_of(session, entry.id, "stale") == [(stats_bureau.id, None)]
    assert run.status.value == "ok" and run.counts["stale"]["opened"] == 1


def test_a_second_scan_keeps_the_open_flag_without_a_duplicate(session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="每年")
    scan(sessions, now=now)
    run = scan(sessions, now=now + dt.timedelta(days=1))
    assert len(flags_of(session, entry.id, "stale")) == 1
    assert run.counts["stale"] == {"opened": 0, "kept": 1, "resolved": 0}


def test_an_updated_entry_has_its_stale_flag_resolved(session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="每年")
    scan(sessions, now=now)
    entry.last_updated = now.date()
    session.commit()
    run = scan(sessions, now=now)
    assert flags_of(session, entry.id, "stale") == [(stats_bureau.id, now)]
    assert run.counts["stale"]["resolved"] == 1


def test_an_entry_with_nothing_mounted_is_flagged_until_something_is_mounted(session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, last_updated=now.date(), mounted=False)
    scan(sessions, now=now)
    assert flags_of(session, entry.id, "unmounted") == [(stats_bureau.id, None)]
    mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url="https://data.example/api", now=now)
    session.commit()
    scan(sessions, now=now)
    assert flags_of(session, entry.id, "unmounted") == [(stats_bureau.id, now)]


def test_a_withdrawn_entry_has_its_flags_resolved(session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    scan(sessions, now=now)
    catalog_services.transition(session, actor=SYSTEM, entry_id=entry.id, action="withdraw", now=now,
                                reason="停止提供")
    session.commit()
    scan(sessions, now=now)
    assert [r[1] for r in flags_of(session, entry.id, "stale") + flags_of(session, entry.id, "unmounted")] == [now, now]


@pytest.mark.parametrize("cycle", ["不定期", "不更新"])
def test_irregular_and_static_entries_never_go_stale(session, sessions, stats_bureau, now, cycle):
    entry = published_entry(session, stats_bureau, now, update_cycle=cycle, last_updated=dt.date(2001, 1, 1))
    scan(sessions, now=now)
    assert flags_of(session, entry.id, "stale") == []
    assert not is_stale(entry, now.date())


def test_a_realtime_entry_with_an_old_date_and_a_healthy_mount_has_no_flag(session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="实时", last_updated=dt.date(2020, 1, 1))
    entry.mounts[0].health = Health.OK
    session.commit()
    run = scan(sessions, now=now)
    assert [flags_of(session, entry.id, kind.value) for kind in FlagKind] == [[]] * len(FlagKind)
    assert run.counts["stale"]["opened"] == 0 and not is_stale(entry, now.date())


def test_a_realtime_entry_is_judged_by_its_mount_not_its_date(session, sessions, stats_bureau, now):
    unmounted = published_entry(session, stats_bureau, now, update_cycle="实时", last_updated=dt.date(2020, 1, 1),
                                mounted=False)
    down = published_entry(session, stats_bureau, now, name="实时路况", update_cycle="实时",
                           last_updated=dt.date(2020, 1, 1))
    down.mounts[0].health = Health.UNREACHABLE
    session.commit()
    scan(sessions, now=now)
    assert flags_of(session, unmounted.id, "unmounted") == [(stats_bureau.id, None)]
    assert flags_of(session, down.id, "unreachable") == [(stats_bureau.id, None)]
    assert flags_of(session, unmounted.id, "stale") == [] and flags_of(session, down.id, "stale") == []


def test_a_stale_flag_left_on_a_realtime_entry_is_resolved(session, sessions, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="实时")
    session.add(Flag(entry_id=entry.id, kind="stale", department_id=stats_bureau.id, opened_at=now))
    session.commit()
    assert scan(sessions, now=now).counts["stale"] == {"opened": 0, "kept": 0, "resolved": 1}
    assert flags_of(session, entry.id, "stale") == [(stats_bureau.id, now)]


@pytest.mark.parametrize("cycle, age, stale", [
    ("每日", 1, False), ("每日", 2, True), ("每年", 549, False), ("每年", 550, True),
    ("每月", 46, False), ("每月", 47, True),
])
def test_an_entry_goes_stale_past_one_and_a_half_cycles(session, sessions, stats_bureau, now, cycle, age, stale):
    today = now.date()
    entry = published_entry(session, stats_bureau, now, update_cycle=cycle, last_updated=today - dt.timedelta(days=age))
    scan(sessions, now=now)
    assert (len(flags_of(session, entry.id, "stale")) == 1) is stale
    assert is_stale(entry, today) is stale


def test_a_failing_scan_writes_no_flag_and_records_a_failed_run(session, sessions, connection, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    with failing(connection, "INSERT INTO FLAGS", "数据库连接中断", on=2):
        run = scan(sessions, now=now)
    assert flags_of(session, entry.id, "stale") == [] and flags_of(session, entry.id, "unmounted") == []
    stored = session.scalars(select(JobRun).where(JobRun.id == run.id)).one()
    assert (stored.status.value, stored.counts) == ("failed", {})
    assert "数据库连接中断" in stored.error


def test_providers_see_only_their_departments_flags(client, session, sessions, stats_bureau, transport, user, now):
    published_entry(session, stats_bureau, now, update_cycle="每年")
    published_entry(session, transport, now, update_cycle="每年", name="公交线路")
    _, provider = user("stats", "provider", stats_bureau)
    _, bureau = user("bureau", "bureau")
    session.commit()
    scan(sessions, now=now)
    own = client.get(f"{API}/flags?kind=stale&state=open", headers=auth(provider)).json
    every = client.get(f"{API}/flags?kind=stale", headers=auth(bureau)).json
    assert {f["department_id"] for f in own["items"]} == {stats_bureau.id}
    assert {f["department_id"] for f in every["items"]} == {stats_bureau.id, transport.id}


def test_a_provider_asking_for_another_departments_flags_is_refused(client, session, stats_bureau, transport, user):
    _, provider = user("stats", "provider", stats_bureau)
    session.commit()
    response = client.get(f"{API}/flags?department_id={transport.id}", headers=auth(provider))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "permission_denied"


def test_the_jobs_command_runs_the_scan_and_lists_its_last_run(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", f"sqlite:///{tmp_path / 'exchange.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert "从未运行" in runner.invoke(main, ["jobs", "list"]).stdout
    ran = runner.invoke(main, ["jobs", "run", "freshness-scan"])
    assert ran.exit_code == 0 and "未按期更新：新开 0" in ran.stdout
    assert "freshness-scan\t" in runner.invoke(main, ["jobs", "list"]).stdout
    assert runner.invoke(main, ["jobs", "run", "nothing"]).exit_code == 2


def test_the_jobs_command_does_not_run_a_job_another_process_is_running(tmp_path, monkeypatch):
    from catalog.db import make_engine, make_session_factory
    from exchange.scheduler import acquire

    url = f"sqlite:///{tmp_path / 'exchange.db'}"
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    sessions = make_session_factory(make_engine(url))
    assert acquire(sessions, job="freshness-scan", holder="scheduler-elsewhere", now=dt.datetime.now(dt.UTC))
    refused = runner.invoke(main, ["jobs", "run", "freshness-scan"])
    assert refused.exit_code == 1 and "正在运行" in refused.stderr
    assert "从未运行" in runner.invoke(main, ["jobs", "list"]).stdout  # nothing ran


def test_a_first_scan_of_a_large_catalog_keeps_the_flags_foreign_keys(
        session, sessions, connection, stats_bureau, now, monkeypatch):
    monkeypatch.setattr(scan_module, "BULK_AFTER", 0)  # any catalog counts as large (PostgreSQL's bulk path)
    entry = published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    run = scan(sessions, now=now)
    assert (run.counts["stale"]["opened"], run.counts["unmounted"]["opened"]) == (1, 1)
    assert flags_of(session, entry.id, "unmounted") == [(stats_bureau.id, None)]
    keys = {key["name"]: key["referred_table"] for key in inspect(connection).get_foreign_keys("flags")}
    assert keys == {"fk_flags_entry_id_catalog_entries": "catalog_entries",
                    "fk_flags_department_id_departments": "departments"}
    with pytest.raises(IntegrityError), connection.begin_nested():
        connection.execute(Flag.__table__.insert().values(entry_id=entry.id + 1000, kind="stale",
                                                          department_id=stats_bureau.id, opened_at=now))


def test_a_first_scan_whose_keys_cannot_be_dropped_checks_them_row_by_row(
        session, sessions, connection, stats_bureau, now, monkeypatch):
    """PostgreSQL: the scan runs as a role that may write every table but owns none."""
    monkeypatch.setattr(scan_module, "BULK_AFTER", 0)
    entry = published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    if connection.dialect.name == "postgresql":  # roles and grants are undone with the test's transaction
        for sql in ("CREATE ROLE exchange_writer", "GRANT USAGE ON SCHEMA public TO exchange_writer",
                    "GRANT ALL ON ALL TABLES IN SCHEMA public TO exchange_writer",
                    "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO exchange_writer", "SET LOCAL ROLE exchange_writer"):
            connection.exec_driver_sql(sql)
    run = scan(sessions, now=now)
    assert run.status.value == "ok", run.error
    assert flags_of(session, entry.id, "stale") == [(stats_bureau.id, None)]
