"""Dashboards: every figure on a small hand-built world whose answers are known, the daily
snapshot (idempotent per day, trends from stored days), scorecards, the API with its exports,
and the monthly report."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from catalog import mounts
from catalog import services as catalog_services
from catalog.actors import SYSTEM
from catalog.codes import make_uscc
from catalog.services import DepartmentData, create_department
from catalog.vocab import Health
from cli import main
from exchange.dashboards import lists, scorecards, services
from exchange.dashboards.facts import Moment
from exchange.dashboards.models import DashboardFigure
from exchange.dashboards.report import month_period
from exchange.dashboards.services import Period, Scope
from exchange.dashboards.snapshot import snapshot, snapshot_counts
from exchange.freshness.models import FlagKind
from exchange.deadlines import Deadlines
from exchange.demands import services as demands
from exchange.freshness.rules import FreshnessConfig
from exchange.freshness.scan import scan
from exchange.scheduler import JOBS
from exchange.workdays import WorkCalendar

from .conftest import auth, entry_fields

API = "/api/v1/dashboards"
LONG_AGO = dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 2)  # the local day of the conftest's NOW


def ago(now, days):
    return now - dt.timedelta(days=days)


def entry(session, provider, *, cycle, last_updated, mounted, status="published", name=None):
    """An entry published long ago (so its publication is no recent update), declared updated on
    ``last_updated``, with an API mounted or not."""
    fields = entry_fields(provider_id=provider.id, update_cycle=cycle, name=name or f"{provider.name}{cycle}目录")
    made = catalog_services.create_entry(session, actor=SYSTEM, data=catalog_services.parse_entry_fields(fields),
                                         now=LONG_AGO)
    if status == "published":
        for action in ("submit", "publish"):
            catalog_services.transition(session, actor=SYSTEM, entry_id=made.id, action=action, now=LONG_AGO)
    made.last_updated = last_updated
    if mounted:
        mounts.mount_api(session, actor=SYSTEM, entry_id=made.id, url="https://data.example/api", now=LONG_AGO)
    session.flush()
    return made


@pytest.fixture
def world(session, sessions, department, stats_bureau, transport, now):
    """Three providers (two 市, one 县), seven entries, five demands; the scan run ten days ago."""
    county = create_department(session, actor=SYSTEM, data=DepartmentData(
        name="临海市大田街道", code=make_uscc("331082", 777), level="县", region_code="331082"))
    requester = department("台州市住房和城乡建设局", 201)
    e = {
        "a_yearly": entry(session, stats_bureau, cycle="每年", last_updated=dt.date(2026, 6, 1), mounted=True),
        "a_monthly_old": entry(session, stats_bureau, cycle="每月", last_updated=dt.date(2026, 1, 1), mounted=True),
        "a_irregular": entry(session, stats_bureau, cycle="不定期", last_updated=None, mounted=False),
        "a_draft": entry(session, stats_bureau, cycle="每月", last_updated=None, mounted=False, status="draft"),
        "b_realtime": entry(session, transport, cycle="实时", last_updated=None, mounted=True),
        "b_daily": entry(session, transport, cycle="每日", last_updated=DAY, mounted=False),
        "c_weekly_old": entry(session, county, cycle="每周", last_updated=dt.date(2026, 9, 1), mounted=True),
    }
    session.commit()
    scan(sessions, now=ago(now, 10))
    deadlines = Deadlines(WorkCalendar())

    def demand(title, *steps):
        data = demands.DemandData(title=title, description=f"{title}的说明", items=["统一社会信用代码"])
        made = demands.create_demand(session, actor=SYSTEM, data=data, now=ago(now, 21), requester_id=requester.id)
        for days, action, options in (((20, "submit", {}),) + steps):
            demands.act(session, actor=SYSTEM, demand_id=made.id, action=action, now=ago(now, days),
                        deadlines=deadlines, **options)
        return made

    def route(provider, *entries):
        return 20, "route", {"provider_id": provider.id, "entry_ids": [e[n].id for n in entries]}

    accept = (20, "accept", {})
    d = {
        "d1": demand("人口信息", accept, route(stats_bureau, "a_monthly_old", "a_irregular"),
                     (18, "confirm", {"entry_id": e["a_monthly_old"].id})),
        "d2": demand("统计年鉴", accept, route(stats_bureau, "a_irregular"), (16, "decline", {"reason": "未挂接"}),
                     (15, "unmet", {"reason": "无资源", "unmet_reason": "not_mounted"})),
        "d3": demand("公交线路", accept, route(transport, "b_daily"), (14, "confirm", {"entry_id": e["b_daily"].id}),
                     (13, "fulfil", {})),
        "d4": demand("客运班次", accept, route(transport, "b_daily", "a_irregular")),
        "d5": demand("待审核的需求"),
    }
    session.commit()
    return {"a": stats_bureau, "b": transport, "c": county, "entries": e, "demands": d}


def taken(session, sessions, now, **kw):
    run = snapshot(sessions, now=now, **kw)
    assert run.error is None, run.error
    return run


def figures_of(session, scope=Scope(), day=DAY):
    return services.summary(session, scope=scope, period=Period(day, day))["figures"]


# -- the figures ----------------------------------------------------------------------------------


def test_catalog_figures_per_department_count_published_entries_only(session, sessions, world, now):
    taken(session, sessions, now)
    a = figures_of(session, Scope(department_id=world["a"].id))
    assert (a["entries"], a["mounted"], a["unmounted"], a["mounted_rate"]) == (3, 2, 1, 0.6667)


def test_the_timely_rate_judges_scheduled_entries_by_their_cycle_and_leaves_irregular_ones_out(
        session, sessions, world, now):
    taken(session, sessions, now)
    a = figures_of(session, Scope(department_id=world["a"].id))
    assert (a["scheduled"], a["timely"], a["unscheduled"]) == (2, 1, 1)
    # one day expects 1/366 of the yearly entry's update and 1/31 of the monthly one's; none of 不定期
    assert (a["updates_expected"], a["updates_actual"], a["timely_rate"]) == (round(1 / 366 + 1 / 31, 2), 0, 0.0)


def test_a_realtime_entry_is_credited_by_its_live_mount_and_a_daily_one_the_day_after_its_update(
        session, sessions, world, now):
    taken(session, sessions, now)
    b = Scope(department_id=world["b"].id)
    today = figures_of(session, b)
    assert (today["scheduled"], today["timely"], today["updates_expected"], today["updates_actual"]) == (2, 2, 2, 1)
    taken(session, sessions, now + dt.timedelta(days=1))  # credits b_daily's update declared on DAY
    assert figures_of(session, b, DAY + dt.timedelta(days=1))["timely_rate"] == 1.0


@pytest.mark.parametrize("health", ["unreachable", "changed"])
def test_a_realtime_entry_whose_last_probe_failed_is_not_timely_as_it_is_flagged(
        session, sessions, world, now, health):
    realtime = world["entries"]["b_realtime"]
    for mount in realtime.mounts:
        mount.health = Health(health)
    session.commit()
    taken(session, sessions, now)
    today = figures_of(session, Scope(department_id=world["b"].id))
    assert (today["scheduled"], today["timely"], today["updates_actual"]) == (2, 1, 0)
    assert scan(sessions, now=now).counts["unreachable"]["opened"] == 1


def test_a_recent_published_version_counts_as_an_update(session, sessions, world, now):
    old = world["entries"]["c_weekly_old"]
    catalog_services.publish_version(session, entry=old, actor=SYSTEM, now=ago(now, 2))
    session.commit()
    taken(session, sessions, now)
    assert figures_of(session, Scope(department_id=world["c"].id))["timely"] == 1


def test_overall_and_level_figures_sum_their_departments(session, sessions, world, now):
    taken(session, sessions, now)
    overall, city, county = (figures_of(session, s) for s in (Scope(), Scope(level="municipal"), Scope(level="county")))
    assert (overall["entries"], overall["mounted"], overall["scheduled"], overall["timely"]) == (6, 4, 5, 3)
    assert (overall["updates_expected"], overall["updates_actual"]) == (round(1 / 366 + 1 / 31 + 2 + 1 / 7, 2), 1)
    assert (city["entries"], city["mounted"], county["entries"], county["timely_rate"]) == (5, 3, 1, 0.0)


def test_open_flags_are_counted_by_kind_and_by_age(session, sessions, world, now):
    taken(session, sessions, now)
    overall = figures_of(session)
    # a real-time entry is judged by its live mount, never stale by its dates: b_realtime has no flag
    assert overall["flags_by_kind"] == {kind.value: 0 for kind in FlagKind} | {"stale": 2, "unmounted": 2}
    assert overall["flags_by_age"] == {"0-7": 0, "8-30": 4, "31-90": 0, "90+": 0}
    assert overall["stale_rate"] == 0.3333


def test_match_figures_count_suggested_confirmed_on_mounted_and_verdicts(session, sessions, world, now):
    taken(session, sessions, now)
    a, overall = figures_of(session, Scope(department_id=world["a"].id)), figures_of(session)
    assert (a["demands"], a["demands_suggested"], a["demands_confirmed_mounted"]) == (2, 2, 1)
    assert (a["suggestions_confirmed"], a["suggestions_rejected"], a["suggestions_pending"]) == (1, 1, 2)
    assert (overall["demands"], overall["demands_suggested"], overall["demands_confirmed_mounted"]) == (5, 4, 1)


def test_satisfaction_rate_is_satisfied_over_decided_demands(session, sessions, world, now):
    taken(session, sessions, now)
    b, overall = figures_of(session, Scope(department_id=world["b"].id)), figures_of(session)
    assert (b["demands_decided"], b["demands_satisfied"], b["satisfaction_rate"]) == (1, 1, 1.0)
    assert (overall["demands_decided"], overall["demands_satisfied"], overall["satisfaction_rate"]) == (2, 1, 0.5)


def test_median_answer_time_runs_from_routing_to_the_providers_answer(session, sessions, world, now):
    taken(session, sessions, now)
    a, overall = figures_of(session, Scope(department_id=world["a"].id)), figures_of(session)
    assert (a["answered"], a["median_answer_days"]) == (2, 3.0)
    assert (overall["answered"], overall["median_answer_days"]) == (3, 4.0)
    assert figures_of(session, Scope(level="municipal"))["median_answer_days"] == 4.0


def test_overdue_demands_are_charged_to_the_provider_they_wait_on_or_to_no_department(
        session, sessions, world, now):
    taken(session, sessions, now)
    assert figures_of(session, Scope(department_id=world["b"].id))["overdue"] == 1
    assert figures_of(session, Scope(department_id=world["a"].id))["overdue"] == 0
    assert figures_of(session)["overdue"] == 2  # and one waits on the bureau's review


def test_unmet_demands_are_counted_by_root_cause(session, sessions, world, now):
    taken(session, sessions, now)
    assert figures_of(session)["unmet_by_reason"] == {
        "no_entry": 0, "not_mounted": 1, "stale": 0, "refused": 0, "not_shared": 0}


def test_blocking_entries_rank_unmounted_or_stale_entries_by_the_open_demands_offered_them(
        session, world, now):
    page = lists.blocking_entries(session, scope=Scope(), moment=Moment(now), config=FreshnessConfig())
    e = world["entries"]
    ranked = [(row["entry_id"], row["demands"], row["unmounted"], row["stale"]) for row in page.items]
    assert ranked == [(e["a_irregular"].id, 2, True, False), (e["a_monthly_old"].id, 1, False, True),
                      (e["b_daily"].id, 1, True, False)]


# -- the snapshot ---------------------------------------------------------------------------------


def test_rerunning_a_day_replaces_its_rows(session, sessions, world, now):
    first = taken(session, sessions, now)
    count = session.scalar(select(func.count()).select_from(DashboardFigure))
    second = taken(session, sessions, now + dt.timedelta(hours=1))
    assert second.counts["replaced"] == count == first.counts["rows"]
    assert session.scalar(select(func.count()).select_from(DashboardFigure)) == count


def test_trends_read_each_stored_day(session, sessions, world, now):
    taken(session, sessions, ago(now, 1))
    mounts.mount_api(session, actor=SYSTEM, entry_id=world["entries"]["b_daily"].id,
                     url="https://data.example/api", now=now)
    session.commit()
    taken(session, sessions, now)
    rows = services.trend(session, scope=Scope(department_id=world["b"].id), period=Period(DAY - dt.timedelta(2), DAY),
                          figures=["mounted", "mounted_rate"])
    assert rows == [{"day": DAY - dt.timedelta(1), "mounted": 1, "mounted_rate": 0.5},
                    {"day": DAY, "mounted": 2, "mounted_rate": 1.0}]


def test_a_periods_timely_rate_sums_its_days(session, sessions, world, now):
    for days in (1, 0, -1):
        taken(session, sessions, ago(now, days))
    b = Scope(department_id=world["b"].id)
    rate = lambda first, last: services.summary(session, scope=b, period=Period(first, last))["figures"]["timely_rate"]  # noqa: E731
    nov = lambda day: dt.date(2026, 11, day)  # noqa: E731
    # each day expects 2 (实时 and 每日); the live mount is credited daily, b_daily's update of 11-02 on 11-03
    assert (rate(nov(1), nov(2)), rate(nov(2), nov(3)), rate(nov(3), nov(3)), rate(nov(1), nov(3))) == (
        0.5, 0.75, 1.0, round(4 / 6, 4))


def test_a_snapshot_after_missed_days_credits_the_updates_of_those_days(session, sessions, world, now):
    taken(session, sessions, ago(now, 3))
    run = taken(session, sessions, now)
    b = figures_of(session, Scope(department_id=world["b"].id), DAY)
    assert run.counts["updates_since"] == "2026-10-30" and (b["updates_expected"], b["updates_actual"]) == (6, 3)


def test_the_snapshot_is_a_scheduled_job(session, sessions, world, now):
    from exchange.config import Settings

    run = JOBS["dashboard-snapshot"].run(sessions, now=now, settings=Settings())
    assert run.job == "dashboard-snapshot" and run.status.value == "ok" and run.counts["day"] == "2026-11-02"


# -- scorecards -----------------------------------------------------------------------------------


def test_scorecards_colour_each_figure_and_take_the_worst_overall(session, sessions, world, now):
    taken(session, sessions, now)
    rows = services.department_rows(session, scope=Scope(), period=Period(DAY, DAY))
    scored = {r["department_id"]: scorecards.score(r, scorecards.thresholds(session)) for r in rows}
    b = scored[world["b"].id]  # mounted 50 %, timely 50 % (1 of 2 updates), satisfied 100 %, 1 overdue
    assert (b["mounted_rate_colour"], b["timely_rate_colour"], b["satisfaction_rate_colour"],
            b["overdue_colour"], b["overall"]) == ("red", "red", "green", "yellow", "red")
    a = scored[world["a"].id]  # no decided demand satisfied, no overdue
    assert (a["satisfaction_rate_colour"], a["overdue_colour"]) == ("red", "green")


def test_the_bureau_changes_a_threshold_with_the_version_it_read(session, now):
    bureau = SYSTEM
    changed = scorecards.set_threshold(session, actor=bureau, figure="mounted_rate", green=0.5, yellow=0.3,
                                       lock_version=0, now=now)
    assert changed.lock_version == 1
    from catalog.errors import Conflict

    with pytest.raises(Conflict):
        scorecards.set_threshold(session, actor=bureau, figure="mounted_rate", green=0.6, yellow=0.3,
                                 lock_version=0, now=now)
    assert scorecards.Threshold("mounted_rate", 0.5, 0.3, True).colour(0.5) == "green"


# -- the API --------------------------------------------------------------------------------------


@pytest.fixture
def tokens(user, world, department):
    office = department("台州市大数据发展管理局", 203)
    return {"bureau": user("bureau", "bureau", office)[1], "a": user("stats", "provider", world["a"])[1],
            "requester": user("housing", "requester", office)[1]}


def test_the_summary_endpoint_gives_the_figures_of_a_department(client, session, sessions, world, tokens, now):
    taken(session, sessions, now)
    body = client.get(f"{API}/summary?department_id={world['a'].id}", headers=auth(tokens["bureau"])).get_json()
    assert body["snapshot_day"] == "2026-11-02" and body["figures"]["mounted_rate"] == 0.6667


def test_a_provider_sees_only_its_own_department(client, session, sessions, world, tokens, now):
    taken(session, sessions, now)
    own = client.get(f"{API}/summary", headers=auth(tokens["a"])).get_json()
    other = client.get(f"{API}/summary?department_id={world['b'].id}", headers=auth(tokens["a"]))
    assert own["department_id"] == world["a"].id and own["figures"]["entries"] == 3
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "permission_denied"


def test_a_requester_may_not_read_the_dashboards(client, tokens):
    response = client.get(f"{API}/summary", headers=auth(tokens["requester"]))
    assert response.status_code == 403 and set(response.get_json()["error"]) == {"code", "message", "details"}


def test_the_department_table_sorts_and_pages(client, session, sessions, world, tokens, now):
    taken(session, sessions, now)
    body = client.get(f"{API}/departments?sort=-entries&page_size=2", headers=auth(tokens["bureau"])).get_json()
    assert [r["department_id"] for r in body["items"]] == [world["a"].id, world["b"].id]
    assert body["total"] >= 3 and body["items"][0]["flags_by_kind.stale"] == 1


def test_the_department_table_exports_as_csv_and_xlsx_with_chinese_headers(client, session, sessions, world, tokens, now):
    taken(session, sessions, now)
    csv = client.get(f"{API}/departments?level=县&format=csv", headers=auth(tokens["bureau"]))
    table = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig")
    assert csv.mimetype == "text/csv" and list(table["部门"]) == ["临海市大田街道"] and "挂接率" in table.columns
    xlsx = client.get(f"{API}/scorecards?format=xlsx", headers=auth(tokens["bureau"]))
    assert "总评" in pd.read_excel(io.BytesIO(xlsx.data), engine="calamine").columns


def test_the_drilldown_lists_the_entries_behind_a_departments_unmounted_count(
        client, session, sessions, world, tokens, now):
    body = client.get(f"{API}/lists/unmounted?department_id={world['a'].id}", headers=auth(tokens["bureau"])).get_json()
    assert [r["entry_id"] for r in body["items"]] == [world["entries"]["a_irregular"].id] and body["total"] == 1


def test_the_drilldown_of_flags_filters_by_kind_and_age(client, world, tokens):
    stale = client.get(f"{API}/lists/flags?kind=stale&age=8-30", headers=auth(tokens["bureau"])).get_json()
    young = client.get(f"{API}/lists/flags?age=0-7", headers=auth(tokens["bureau"])).get_json()
    assert stale["total"] == 2 and young["total"] == 0


def test_the_drilldown_and_blocking_lists_sort_on_their_columns(client, world, tokens):
    entries = lambda sort: [r["name"] for r in client.get(  # noqa: E731
        f"{API}/lists/entries?sort={sort}", headers=auth(tokens["bureau"])).get_json()["items"]]
    by_name = entries("name")
    assert by_name == sorted(by_name) and entries("-name") == by_name[::-1] and len(by_name) == 6
    flags = client.get(f"{API}/lists/flags?sort=-opened_at", headers=auth(tokens["bureau"])).get_json()["items"]
    assert [f["opened_at"] for f in flags] == sorted((f["opened_at"] for f in flags), reverse=True)
    blocking = lambda sort: [r["demands"] for r in client.get(  # noqa: E731
        f"{API}/blocking?sort={sort}", headers=auth(tokens["bureau"])).get_json()["items"]]
    assert blocking("demands") == [1, 1, 2] and blocking("-demands") == [2, 1, 1]
    refused = client.get(f"{API}/lists/entries?sort=deadline", headers=auth(tokens["bureau"]))
    assert refused.status_code == 422 and "resource_code" in str(refused.get_json()["error"]["details"]["sort"])


def test_an_unknown_drilldown_is_a_validation_error(client, tokens):
    response = client.get(f"{API}/lists/everything", headers=auth(tokens["bureau"]))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_error"


def test_thresholds_over_the_api_need_the_version_read(client, tokens):
    put = lambda version: client.put(f"{API}/thresholds/overdue", json={"green": 1, "yellow": 3, "lock_version": version},  # noqa: E731
                                     headers=auth(tokens["bureau"]))
    assert put(0).get_json()["lock_version"] == 1
    assert put(0).status_code == 409
    assert client.put(f"{API}/thresholds/overdue", json={"green": 1, "yellow": 3, "lock_version": 1},
                      headers=auth(tokens["a"])).status_code == 403
    listed = client.get(f"{API}/thresholds", headers=auth(tokens["bureau"])).get_json()
    assert {t["figure"]: t["green"] for t in listed}["overdue"] == 1


def test_a_bad_threshold_names_the_field(client, tokens):
    response = client.put(f"{API}/thresholds/mounted_rate", json={"green": 0.5, "yellow": 0.8, "lock_version": 0},
                          headers=auth(tokens["bureau"]))
    assert response.status_code == 422 and "yellow" in response.get_json()["error"]["details"]


def test_trends_over_the_api_export_as_csv(client, session, sessions, world, tokens, now):
    taken(session, sessions, now)
    response = client.get(f"{API}/trends?figure=entries&format=csv", headers=auth(tokens["bureau"]))
    assert response.data.decode("utf-8-sig").splitlines() == ["日期,目录数", "2026-11-02,6"]


# -- the monthly report ---------------------------------------------------------------------------


def test_the_default_month_is_the_previous_one():
    assert month_period(None, today=dt.date(2026, 1, 15)) == Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31))


@pytest.mark.parametrize("month", ["2026-13", "2026/10", "十月"])
def test_a_bad_month_is_refused_clearly(month):
    from catalog.errors import ValidationError

    with pytest.raises(ValidationError, match="YYYY-MM"):
        month_period(month, today=DAY)


def test_the_report_has_a_sheet_per_figure_per_department_and_the_lists(session, sessions, world, now, tmp_path):
    from exchange.dashboards.report import write_report

    taken(session, sessions, now)
    target = tmp_path / "考核.xlsx"
    write_report(session, target=target, period=month_period("2026-11", today=DAY), moment=Moment(now))
    sheets = pd.read_excel(target, sheet_name=None, engine="calamine")
    assert {"总览", "挂接率", "更新及时率", "考核总表", "未按期更新目录", "未挂接目录", "逾期需求清单"} <= set(sheets)
    assert {"考核-台州市统计局", "考核-临海市大田街道"} <= set(sheets)
    assert set(sheets["考核总表"]["总评"]) <= {"红", "黄", "绿", "无数据"}
    mounted = sheets["挂接率"].set_index("部门")
    assert mounted.loc["台州市统计局", "挂接率"] == pytest.approx(0.6667)
    assert len(sheets["未挂接目录"]) == 2 and len(sheets["逾期需求清单"]) == 2


def test_the_report_command_refuses_a_bad_month_and_an_unwritable_file(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", database_url)
    runner = CliRunner()
    bad = runner.invoke(main, ["report", str(tmp_path / "r.xlsx"), "--month", "2026-13"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
    missing = runner.invoke(main, ["report", str(tmp_path / "no" / "such" / "r.xlsx"), "--month", "1999-01"])
    assert missing.exit_code == 1 and "错误" in missing.output


def test_the_demands_waiting_on_an_entry_leave_out_rejected_suggestions_and_finished_demands(session, world):
    e = world["entries"]
    waiting = lists.demands_waiting(session, entry_ids=[e["a_irregular"].id, e["b_daily"].id, e["a_yearly"].id])
    assert waiting == {e["a_irregular"].id: 2, e["b_daily"].id: 1}


def test_the_department_table_in_name_order_pages_in_the_database(client, session, sessions, world, tokens, now):
    taken(session, sessions, now)
    get = lambda query: client.get(f"{API}/departments?level=市&{query}", headers=auth(tokens["bureau"])).get_json()  # noqa: E731
    everything = get("page_size=200")
    pages = [get(f"page_size=2&page={n}") for n in (1, 2)]
    names = sorted(row["department"] for row in everything["items"])
    assert [row["department"] for row in everything["items"]] == names and everything["total"] == len(names) == 4
    assert [row["department"] for page in pages for row in page["items"]] == names
    statistics = next(row for page in pages for row in page["items"] if row["department_id"] == world["a"].id)
    assert (statistics["entries"], statistics["mounted"], pages[0]["total"]) == (3, 2, 4)


# -- the timely-update rate: actual against expected updates --------------------------------------


def monthly_entries(session, department, names):
    """Monthly entries of a new department, last updated long before the period."""
    office = department("台州市数据资源局", 305)
    made = [entry(session, office, cycle="每月", last_updated=dt.date(2026, 1, 1), mounted=True, name=n) for n in names]
    session.commit()
    return office, made


def period_rate(session, sessions, now, office, days, updates):
    """Snapshots on each of ``days`` days ending on DAY, the entries' versions published on the days
    before (``updates``: days ago → entries); the department's figures over those days."""
    for back in range(days + 2, -1, -1):
        for made in updates.get(back, []):
            catalog_services.publish_version(session, entry=made, actor=SYSTEM, now=ago(now, back))
        session.commit()
        if back < days:
            taken(session, sessions, ago(now, back))
    period = Period(DAY - dt.timedelta(days=days - 1), DAY)
    return services.summary(session, scope=Scope(department_id=office.id), period=period)["figures"]


def test_a_monthly_entry_updated_once_in_thirty_days_scores_one(session, sessions, department, now):
    office, (monthly,) = monthly_entries(session, department, ["人口统计月报"])
    f = period_rate(session, sessions, now, office, 30, {12: [monthly]})
    assert (f["updates_expected"], f["updates_actual"], f["timely_rate"]) == (round(30 / 31, 2), 1, 1.0)


def test_a_monthly_entry_updated_every_day_still_scores_one_update_a_month(session, sessions, department, now):
    office, (monthly,) = monthly_entries(session, department, ["人口统计日报"])
    f = period_rate(session, sessions, now, office, 30, {back: [monthly] for back in range(1, 31)})
    # the first update after months without one counts 1, each next one a day's share of the month
    assert (f["updates_actual"], f["timely_rate"]) == (round(1 + 29 / 31, 2), 1.0)


def test_a_monthly_entry_never_updated_scores_zero(session, sessions, department, now):
    office, _made = monthly_entries(session, department, ["人口统计年鉴"])
    f = period_rate(session, sessions, now, office, 30, {})
    assert (f["updates_actual"], f["timely_rate"]) == (0, 0.0)


def test_of_two_monthly_entries_one_updated_the_rate_is_a_half(session, sessions, department, now):
    office, (updated, _never) = monthly_entries(session, department, ["企业登记月报", "企业注销月报"])
    f = period_rate(session, sessions, now, office, 31, {20: [updated]})
    assert (f["updates_expected"], f["updates_actual"], f["timely_rate"]) == (2, 1, 0.5)


def test_an_entry_updated_daily_does_not_make_up_for_one_never_updated(session, sessions, department, now):
    office, (daily, _never) = monthly_entries(session, department, ["社保缴费月报", "社保待遇月报"])
    f = period_rate(session, sessions, now, office, 31, {back: [daily] for back in range(1, 33)})
    assert (f["updates_expected"], f["updates_actual"], f["timely_rate"]) == (2, 1, 0.5)


# -- the table sorted in SQL agrees with derive() ---------------------------------------------------


@pytest.fixture
def varied(session, department):
    """Twelve departments with varied counts over two snapshot days, zero denominators among them."""
    offices = [department(f"测试部门{i:02d}", 400 + i) for i in range(12)]
    rows = []
    for i, office in enumerate(offices):
        entries, decided = (0 if i % 4 == 0 else 3 + i % 5), (0 if i % 3 == 0 else 1 + i % 4)
        stock = {"entries": entries, "mounted": min(entries, i % 6), "scheduled": entries, "timely": i % 3,
                 "demands_decided": decided, "demands_satisfied": min(decided, i % 2 + i % 3),
                 f"flags:stale:{'8-30' if i % 2 else '0-7'}": i % 4, "flags:unmounted:90+": i % 3,
                 "suggestions:confirmed": i % 5, "unmet:not_mounted": i % 2, "overdue": (i * 7) % 4,
                 "answer_days_median": None if i % 5 == 0 else i / 3}
        expected = 0 if i % 6 == 0 else 1 + i % 3
        for day, share in ((DAY - dt.timedelta(days=1), 1), (DAY, 2)):
            totals = {"updates_expected:total": expected * share, "updates_actual:total": (i % 4) * 0.4 * share}
            rows += [DashboardFigure(day=day, department_id=office.id, figure=k, value=v)
                     for k, v in (stock | totals).items() if v is not None]
    session.add_all(rows)
    session.flush()
    return offices


@pytest.mark.parametrize("key", services.SORTABLE)
def test_departments_sorted_in_sql_agree_with_derive(session, varied, key):
    period, scope = Period(DAY, DAY), Scope(level="municipal")
    derived = services.department_rows(session, scope=scope, period=period,
                                       only=[o.id for o in varied])
    for descending in (False, True):
        sort = f"-{key}" if descending else key
        page, total = services.department_page(session, scope=scope, period=period, sort=sort, page=1, page_size=100)
        present = sorted((r for r in derived if r.get(key if key != "name" else "department") is not None),
                         key=lambda r: r[key if key != "name" else "department"], reverse=descending)
        values = lambda rows: [r[key if key != "name" else "department"] for r in rows]  # noqa: E731
        assert values(page) == values(present) + [None] * (len(derived) - len(present))
        assert {r["department_id"] for r in page} == {o.id for o in varied} and total == len(varied)
        assert page == [next(d for d in derived if d["department_id"] == r["department_id"]) for r in page]


def test_the_best_and_worst_departments_by_a_rate_leave_out_empty_ones(session, varied):
    period, scope = Period(DAY, DAY), Scope(level="municipal")
    rows = services.department_rows(session, scope=scope, period=period, only=[o.id for o in varied])
    rates = sorted((r["mounted_rate"] for r in rows if r["mounted_rate"] is not None), reverse=True)
    picked = services.extremes(session, scope=scope, period=period, figure="mounted_rate", n=2)
    assert [p["value"] for p in picked] == rates[:2] + rates[-2:]
    everyone = services.extremes(session, scope=scope, period=period, figure="mounted_rate", n=10)
    assert [p["value"] for p in everyone] == rates


def test_without_a_snapshot_a_table_sorted_by_a_figure_lists_departments_by_name(session, varied):
    rows, total = services.department_page(session, scope=Scope(level="municipal"), period=Period(DAY + dt.timedelta(1),
                                           DAY + dt.timedelta(1)), sort="-timely_rate", page=1, page_size=5)
    assert [r["department"] for r in rows] == [f"测试部门{i:02d}" for i in range(5)] and total == 12
    assert {r["timely_rate"] for r in rows} == {None}
