"""The bureau's pages through Flask's test client: the dashboard's figures, the review queues for
demands and catalog submissions, data elements, job runs with "run now", and the audit trail."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from sqlalchemy import select

from catalog import mounts
from catalog import services as catalog
from catalog.actors import SYSTEM
from catalog.models import CatalogEntry
from catalog.vocab import EntryStatus
from exchange.demands.models import Demand, DemandStatus
from exchange.runs import JobRun
from exchange import scheduler
from tests.conftest import entry_fields, failing
from tests.web.test_pages import csrf, flashes, post, sign_in, text
from tests.web.test_requester import file_demand, published, switch_to


@pytest.fixture
def parties(user, department, stats_bureau, transport):
    housing = department("台州市住房和城乡建设局", 201)
    user("tongji", "provider", stats_bureau)
    user("xuqiu", "requester", housing)
    user("bureau", "bureau")
    return {"housing": housing, "stats": stats_bureau, "transport": transport}


def mount_csv(session, entry, now, storage):
    return mounts.mount_file(session, actor=SYSTEM, entry_id=entry.id, filename="data.csv",
                             stream=io.BytesIO("统一社会信用代码,企业名称,法定代表人\n1,甲,乙\n".encode()),
                             storage=storage, max_bytes=1 << 20, now=now)


def chart_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1))


# -- the dashboard -------------------------------------------------------------------------------


def snapshot_now(client) -> list[str]:
    """Take today's dashboard snapshot through the page's button (as the bureau); the flashes."""
    response = post(client, "/bureau/dashboard/snapshot")
    assert response.status_code == 302 and response.location.endswith("/bureau/dashboard")
    return flashes(client.get(response.location))


def test_without_a_snapshot_the_dashboard_says_so_and_offers_to_take_one(client, parties, session, now):
    published(session, parties["stats"], now)
    sign_in(client, "bureau")
    page = text(client.get("/bureau/dashboard"))
    assert "这一期间还没有统计快照" in page and 'id="take-snapshot"' in page and 'id="mounted-rate"' not in page
    assert snapshot_now(client)[0].startswith("任务 dashboard-snapshot 已运行")
    page = text(client.get("/bureau/dashboard"))
    assert "还没有统计快照" not in page and re.search(r'id="mounted-rate"><a href="[^"]*unmounted[^"]*">0\.0%<', page)


def test_the_dashboard_reads_the_snapshot_and_shows_the_change_after_the_next_one(client, parties, session, now,
                                                                                   tmp_path):
    entry = published(session, parties["stats"], now)
    sign_in(client, "bureau")
    snapshot_now(client)
    before = text(client.get("/bureau/dashboard"))
    assert chart_data(before)["mounted"] == {"departments": ["台州市统计局"], "rates": [0.0], "title": "挂接率（%）"}
    mount_csv(session, entry, now, tmp_path / "files")
    session.commit()
    assert re.search(r'id="mounted-rate">.*?>0\.0%<', text(client.get("/bureau/dashboard")))  # no live count
    snapshot_now(client)
    after = text(client.get("/bureau/dashboard"))
    assert re.search(r'id="mounted-rate">.*?>100\.0%<', after)
    assert chart_data(after)["mounted"]["rates"] == [100.0]
    assert chart_data(after)["trend"]["series"][0] == {"name": "挂接率", "data": [100.0]}


def test_the_dashboard_counts_unmet_demands_by_root_cause_and_links_to_them(client, parties, session, now):
    published(session, parties["stats"], now, name="企业社保缴纳信息", items="统一社会信用代码|缴费金额")
    sign_in(client, "xuqiu")
    file_demand(client, title="企业社保缴纳信息", items="缴费金额")
    demand = session.scalar(select(Demand))
    switch_to(client, "bureau")
    for action, data in (("accept", {}), ("unmet", {"unmet_reason": "not_mounted", "reason": "数源未挂接"})):
        session.refresh(demand)
        post(client, f"/bureau/demands/{demand.id}/{action}", {"lock_version": demand.lock_version, **data})
    snapshot_now(client)
    page = text(client.get("/bureau/dashboard"))
    assert chart_data(page)["unmet"] == [{"name": "目录未挂接资源", "value": 1}]
    link = re.search(r'href="([^"]*unmet_reason=not_mounted[^"]*)"', page).group(1).replace("&amp;", "&")
    listing = text(client.get(link))
    assert demand.ref in listing and "共 1 条" in listing


def test_the_department_table_sorts_pages_and_downloads(client, parties, session, now, tmp_path):
    mount_csv(session, published(session, parties["stats"], now), now, tmp_path / "files")
    published(session, parties["transport"], now, name="道路运输许可")
    sign_in(client, "bureau")
    snapshot_now(client)
    table = lambda sort: re.findall(r'<td><a href="/bureau/dashboard\?department_id=\d+">(.*?)</a>',  # noqa: E731
                                    text(client.get(f"/bureau/dashboard?sort={sort}")))
    no_entries = "台州市住房和城乡建设局"  # no rate: last either way
    assert table("mounted_rate") == ["台州市交通运输局", "台州市统计局", no_entries]
    assert table("-mounted_rate") == ["台州市统计局", "台州市交通运输局", no_entries]
    csv = client.get("/bureau/dashboard?format=csv&sort=-mounted_rate")
    assert csv.mimetype == "text/csv"
    lines = csv.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("部门ID,部门,层级,目录数") and "台州市统计局" in lines[1] and "台州市交通运输局" in lines[2]
    xlsx = client.get("/bureau/dashboard?format=xlsx")
    assert xlsx.data[:2] == b"PK" and "attachment" in xlsx.headers["Content-Disposition"]


def test_a_number_drills_down_to_the_entries_behind_it(client, parties, session, now, tmp_path):
    mount_csv(session, published(session, parties["stats"], now, name="企业登记信息"), now, tmp_path / "files")
    published(session, parties["stats"], now, name="企业年报信息")
    sign_in(client, "bureau")
    page = text(client.get(f"/bureau/dashboard/lists/unmounted?department_id={parties['stats'].id}"))
    rows = re.search(r'id="list">.*?</table>', page, re.S).group(0)
    assert "企业年报信息" in rows and "企业登记信息" not in rows and "共 1 条" in page
    csv = client.get(f"/bureau/dashboard/lists/unmounted?department_id={parties['stats'].id}&format=csv")
    assert "企业年报信息" in csv.data.decode("utf-8-sig") and csv.data.decode("utf-8-sig").startswith("目录ID,")
    assert client.get("/bureau/dashboard/lists/no-such-figure").status_code == 404


def test_blocking_entries_say_how_many_demands_a_mount_would_meet(client, parties, session, now):
    entry = published(session, parties["stats"], now)
    sign_in(client, "xuqiu")
    file_demand(client)
    switch_to(client, "bureau")
    page = text(client.get("/bureau/dashboard/blocking"))
    row = re.search(r'id="blocking">.*?</table>', page, re.S).group(0)
    assert "挂接此目录可满足 1 个需求" in row and f'href="/bureau/submissions/{entry.id}"' in row
    assert re.search(r'<th scope="col"\s*>\s*<a href="[^"]*sort=demands', row)  # a sortable header


def test_a_drilldown_sorts_by_a_column_header(client, parties, session, now):
    for name in ("乙类目录", "甲类目录", "丙类目录"):
        published(session, parties["stats"], now, name=name)
    sign_in(client, "bureau")
    listed = lambda sort: re.findall(r"<td><a href=\"/bureau/submissions/\d+\">(.)类目录</a>",  # noqa: E731
                                     text(client.get(f"/bureau/dashboard/lists/entries?sort={sort}")))
    ascending = listed("name")
    assert len(ascending) == 3 and ascending == sorted(ascending) and listed("-name") == ascending[::-1]
    page = text(client.get("/bureau/dashboard/lists/entries?sort=name"))
    assert 'aria-sort="ascending"' in page


def test_scorecards_colour_each_department_and_the_bureau_edits_a_threshold(client, parties, session, now, tmp_path):
    mount_csv(session, published(session, parties["stats"], now), now, tmp_path / "files")
    published(session, parties["transport"], now, name="道路运输许可")
    sign_in(client, "bureau")
    snapshot_now(client)
    cells = lambda: dict(re.findall(  # noqa: E731
        r'<tr>\s*<td>(.*?)</td>\s*<td class="score score-\w+" data-colour="(\w+)"', text(client.get("/bureau/dashboard/scorecards"))))
    assert cells() == {"台州市交通运输局": "red", "台州市统计局": "green", "台州市住房和城乡建设局": "grey"}
    response = post(client, "/bureau/dashboard/thresholds/mounted_rate", {"green": "0", "yellow": "0", "lock_version": "0"})
    assert flashes(client.get(response.location)) == ["阈值已保存"]
    assert cells() == {"台州市交通运输局": "green", "台州市统计局": "green", "台州市住房和城乡建设局": "grey"}
    stale = post(client, "/bureau/dashboard/thresholds/mounted_rate", {"green": "0.9", "yellow": "0.5", "lock_version": "0"})
    assert flashes(client.get(stale.location)) == ["阈值已被他人修改，请刷新后重试"]
    bad = post(client, "/bureau/dashboard/thresholds/mounted_rate", {"green": "0.5", "yellow": "0.9", "lock_version": "1"})
    assert flashes(client.get(bad.location)) == ["考核阈值不正确"]


def test_a_threshold_edit_needs_the_form_token(client, parties):
    sign_in(client, "bureau")
    response = client.post("/bureau/dashboard/thresholds/mounted_rate", data={"green": "0", "yellow": "0", "lock_version": "0"})
    assert response.status_code == 400


def test_a_provider_sees_only_its_own_department(client, parties, session, now):
    published(session, parties["stats"], now)
    published(session, parties["transport"], now, name="道路运输许可")
    sign_in(client, "bureau")
    snapshot_now(client)
    switch_to(client, "tongji")
    page = text(client.get("/bureau/dashboard"))
    assert "监管看板 · 台州市统计局" in page and "台州市交通运输局" not in page and 'id="take-snapshot"' not in page
    assert 'name="threshold' not in text(client.get("/bureau/dashboard/scorecards"))
    other = client.get(f"/bureau/dashboard?department_id={parties['transport'].id}")
    assert other.status_code == 403 and "只能查看本部门的统计" in text(other)
    assert client.get("/bureau/dashboard/lists/unmounted?level=市").status_code == 403
    assert post(client, "/bureau/dashboard/thresholds/mounted_rate", {"green": "0", "yellow": "0", "lock_version": "0"}).status_code == 403
    assert post(client, "/bureau/dashboard/snapshot").status_code == 403


@pytest.mark.parametrize("path", ["/bureau/dashboard", "/bureau/dashboard/lists/entries", "/bureau/dashboard/blocking",
                                  "/bureau/dashboard/scorecards"])
def test_a_requester_cannot_open_the_dashboards(client, parties, path):
    sign_in(client, "xuqiu")
    response = client.get(path)
    assert response.status_code == 403 and "可以打开此页面" in text(response)


def test_a_bad_period_says_which_and_falls_back_to_the_default(client, parties):
    sign_in(client, "bureau")
    response = client.get("/bureau/dashboard?start=2026-13-01")
    assert response.status_code == 422 and flashes(response)[-1] == "筛选条件有误：日期格式应为 YYYY-MM-DD"


# -- the demand review queue ---------------------------------------------------------------------


@pytest.fixture
def submitted(client, parties, session, now):
    published(session, parties["stats"], now)
    sign_in(client, "xuqiu")
    file_demand(client)
    switch_to(client, "bureau")
    return session.scalar(select(Demand))


def test_the_queue_opens_on_submitted_demands(client, submitted):
    page = text(client.get("/bureau/demands"))
    assert submitted.ref in page and "企业登记信息核验" in page
    assert "没有符合条件的需求" in text(client.get("/bureau/demands?status=accepted"))


def test_the_bureau_accepts_and_routes_a_demand_to_the_matched_provider(client, submitted, session, parties):
    post(client, f"/bureau/demands/{submitted.id}/accept", {"lock_version": submitted.lock_version})
    session.refresh(submitted)
    page = text(client.get(f"/bureau/demands/{submitted.id}"))
    assert submitted.status is DemandStatus.ACCEPTED
    assert re.search(rf'<option value="{parties["stats"].id}" selected>台州市统计局', page)  # the top match's provider
    response = post(client, f"/bureau/demands/{submitted.id}/route",
                    {"lock_version": submitted.lock_version, "provider_id": parties["stats"].id})
    session.refresh(submitted)
    assert flashes(client.get(response.location)) == ["已分派给提供方"]
    assert submitted.status is DemandStatus.MATCHED and submitted.provider_id == parties["stats"].id


def test_returning_a_demand_needs_a_reason(client, submitted, session):
    response = post(client, f"/bureau/demands/{submitted.id}/return", {"lock_version": submitted.lock_version})
    assert flashes(client.get(response.location)) == ["退回需求须说明理由"]
    session.refresh(submitted)
    assert submitted.status is DemandStatus.SUBMITTED


def test_a_stale_review_is_refused(client, submitted, session):
    response = post(client, f"/bureau/demands/{submitted.id}/accept", {"lock_version": submitted.lock_version - 1})
    assert flashes(client.get(response.location)) == ["需求已被他人处理，请刷新后重试"]
    session.refresh(submitted)
    assert submitted.status is DemandStatus.SUBMITTED


# -- catalog submissions -------------------------------------------------------------------------


@pytest.fixture
def submission(session, parties, now):
    data = catalog.parse_entry_fields(entry_fields(provider_id=parties["stats"].id, name="人口基础信息"))
    entry = catalog.create_entry(session, actor=SYSTEM, data=data, now=now)
    catalog.transition(session, actor=SYSTEM, entry_id=entry.id, action="submit", now=now)
    session.commit()
    return entry


def test_a_submitted_entry_is_listed_and_published(client, parties, submission, session):
    sign_in(client, "bureau")
    assert "人口基础信息" in text(client.get("/bureau/submissions"))
    response = post(client, f"/bureau/submissions/{submission.id}/publish", {"lock_version": submission.lock_version})
    assert flashes(client.get(response.location)) == ["已发布"]
    session.refresh(submission)
    assert submission.status is EntryStatus.PUBLISHED
    assert "没有待审核的目录" in text(client.get("/bureau/submissions"))


def test_returning_a_submission_needs_a_reason_and_keeps_it(client, parties, submission, session):
    sign_in(client, "bureau")
    refused = post(client, f"/bureau/submissions/{submission.id}/return", {"lock_version": submission.lock_version})
    assert flashes(client.get(refused.location)) == ["退回目录须说明理由"]
    post(client, f"/bureau/submissions/{submission.id}/return",
         {"lock_version": submission.lock_version, "reason": "摘要过于简略"})
    session.refresh(submission)
    assert submission.status is EntryStatus.DRAFT
    assert "（摘要过于简略）" in text(client.get(f"/bureau/submissions/{submission.id}"))


# -- data elements, job runs, audit --------------------------------------------------------------


def test_data_elements_are_searched_by_name(client, parties, session):
    for identifier, name in (("DE0001", "公民身份号码"), ("DE0002", "企业名称")):
        catalog.create_element(session, actor=SYSTEM, values={"identifier": identifier, "name": name})
    session.commit()
    sign_in(client, "bureau")
    page = text(client.get("/bureau/elements?q=身份"))
    assert "公民身份号码" in page and "企业名称" not in page and "共 1 条" in page


def test_run_now_runs_the_job_as_a_task_and_shows_its_counts(client, parties, session, now):
    published(session, parties["stats"], now)
    sign_in(client, "bureau")
    response = post(client, "/bureau/jobs/freshness-scan/run")
    assert response.status_code == 302 and response.location.startswith("/tasks/")
    page = text(client.get(response.location))  # the test app runs tasks inline: it has ended
    assert '<span id="task-subject">freshness-scan</span>' in page and "已完成" in page
    result = re.search(r'id="task-result">.*?</table>', page, re.S).group(0)
    assert re.search(r"<th>unmounted</th><td>opened 1 kept 0 resolved 0</td>", result)
    status = client.get(response.location + ".json").get_json()
    assert (status["state"], status["stage"], status["done"], status["total"]) == ("done", "已完成", 1, 1)
    run = session.scalar(select(JobRun).where(JobRun.job == "freshness-scan"))
    assert run is not None and run.counts["unmounted"]["opened"] == 1
    back = re.search(r'<a class="button" href="([^"]+)">查看运行记录</a>', page).group(1)
    assert back == "/bureau/jobs?job=freshness-scan"
    runs = re.search(r'id="runs">.*?</table>', text(client.get(back)), re.S).group(0)
    assert "freshness-scan" in runs and "成功" in runs
    assert "还没有运行记录" in text(client.get("/bureau/jobs?job=notifications-send"))


def test_run_now_frees_the_jobs_lease_when_it_ends(client, parties, sessions):
    sign_in(client, "bureau")
    post(client, "/bureau/jobs/rematch/run")
    assert scheduler.acquire(sessions, job="rematch", holder="scheduler-elsewhere:1", now=dt.datetime.now(dt.UTC))


def test_run_now_says_so_while_the_job_is_running(client, parties, session, sessions):
    assert scheduler.acquire(sessions, job="freshness-scan", holder="scheduler-elsewhere:1", now=dt.datetime.now(dt.UTC))
    sign_in(client, "bureau")
    response = post(client, "/bureau/jobs/freshness-scan/run")
    assert response.status_code == 302 and response.location == "/bureau/jobs?job=freshness-scan"
    assert flashes(client.get(response.location)) == [
        "任务 freshness-scan 正在运行（定时运行或他人刚刚启动），请等它结束后再试"]
    assert session.scalars(select(JobRun)).all() == []


def test_a_failed_run_says_why_on_its_task_page(client, parties, session, now, connection):
    published(session, parties["stats"], now)
    sign_in(client, "bureau")
    with failing(connection, "INSERT INTO flags", "磁盘已满"):
        response = post(client, "/bureau/jobs/freshness-scan/run")
    page = text(client.get(response.location))
    assert '<p class="flash flash-error" id="task-message">任务运行失败</p>' in page
    assert "RuntimeError: 磁盘已满" in re.search(r'id="task-detail">(.*?)</p>', page, re.S).group(1)
    assert client.get(response.location + ".json").get_json()["state"] == "failed"
    run = session.scalar(select(JobRun).where(JobRun.job == "freshness-scan"))
    assert run.status.value == "failed"


def test_another_user_cannot_see_a_job_task(client, parties, user):
    user("bureau2", "bureau")
    sign_in(client, "bureau")
    started = post(client, "/bureau/jobs/notifications-send/run").location
    assert client.get(started + ".json").get_json()["state"] == "done"
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    sign_in(client, "bureau2")
    assert client.get(started).status_code == 404 and client.get(started + ".json").status_code == 404


def test_an_unknown_job_is_a_missing_page(client, parties):
    sign_in(client, "bureau")
    assert post(client, "/bureau/jobs/no-such-job/run").status_code == 404


def test_the_audit_trail_filters_pages_and_verifies(client, parties, submission):
    sign_in(client, "bureau")
    page = text(client.get("/bureau/audit?object_type=catalog_entry"))
    events = re.search(r'id="events">.*?</table>', page, re.S).group(0)
    assert f"catalog_entry #{submission.id}" in events and "user" not in re.findall(r"<td>(\w+)(?: #\d+)?</td>", events)
    response = post(client, "/bureau/audit/verify")
    assert re.fullmatch(r"链完整：\d+ 条", flashes(client.get(response.location))[0])


def test_a_bad_audit_filter_says_which(client, parties):
    sign_in(client, "bureau")
    response = client.get("/bureau/audit?since=yesterday&object_id=x")
    assert response.status_code == 422
    assert flashes(response)[-1] == "筛选条件有误：对象编号：应为数字；起始日期：日期格式应为 YYYY-MM-DD"


# -- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_a_demand_from_search_to_review_and_the_dashboard_after_a_mount(page, live_server, people, screenshot):
    from tests.web.conftest import log_in

    now = live_server.app.extensions["exchange"].now()
    with live_server.session() as s:
        first_id = published(s, people.department, now).id
        published(s, people.department, now, name="企业年报信息", summary="企业年度报告公示信息")

    log_in(page, "xuqiu")  # a requester of 台州市交通运输局
    page.goto("/requester/search?q=企业登记&items=统一社会信用代码")
    assert page.locator("#results mark").first.inner_text() == "企业登记"
    assert "统一社会信用代码 · 完全一致" in page.locator("#results tbody tr").first.inner_text()
    screenshot("requester-search")

    page.click("text=没找到合适的？提出数据需求")
    page.fill("#f-title", "企业登记信息核验")
    page.fill("#f-description", "办理道路运输许可时核验企业登记信息")
    page.fill("#f-items", "统一社会信用代码\n企业名称")
    page.wait_for_selector("#preview-list li")
    assert "企业登记信息" in page.locator("#preview-list li").first.inner_text()
    screenshot("requester-demand-form-preview")
    page.click("button[name=submit]")
    assert "需求已提交" in page.locator(".flash-success").inner_text()
    assert "企业登记信息" in page.locator("#matches tbody tr").first.inner_text()
    screenshot("requester-demand")
    page.goto("/requester/demands")
    screenshot("requester-demands")
    page.click("text=退出")

    log_in(page, "bureau")
    page.goto("/bureau/dashboard")
    assert "还没有统计快照" in page.locator("#no-snapshot").inner_text()
    screenshot("bureau-dashboard-no-snapshot")
    page.click("#take-snapshot")
    page.wait_for_selector("body[data-charts-ready='7']")
    assert page.locator("#mounted-rate").inner_text() == "0.0%"
    page.goto("/bureau/demands")
    screenshot("bureau-demand-queue")
    page.click("#demands tbody a")
    page.click("#review button:has-text('受理')")
    assert page.locator("#demand-status").inner_text() == "已受理"
    page.click("#route-form button")
    assert page.locator(".flash-success").inner_text() == "已分派给提供方"
    assert page.locator("#demand-status").inner_text() == "已匹配"
    screenshot("bureau-demand-review")

    with live_server.session() as s:  # the provider mounts a file behind the first entry
        mount_csv(s, s.get(CatalogEntry, first_id), now, live_server.storage)
    page.goto("/bureau/dashboard")
    assert page.locator("#mounted-rate").inner_text() == "0.0%"  # the page reads the last snapshot
    run_now(page, "dashboard-snapshot")
    page.goto("/bureau/dashboard")
    page.wait_for_selector("body[data-charts-ready='7']")
    assert page.locator("#mounted-rate").inner_text() == "50.0%"
    assert page.locator("#chart-mounted svg").count() == 1 and page.locator("#chart-trend svg").count() == 1
    screenshot("bureau-dashboard")
    page.click("#mounted-rate a")
    assert "企业年报信息" in page.locator("#list").inner_text() and "企业登记信息" not in page.locator("#list").inner_text()
    screenshot("bureau-dashboard-list")
    page.goto("/bureau/dashboard/blocking")
    screenshot("bureau-blocking")
    page.goto("/bureau/dashboard/scorecards")
    page.fill("#thresholds input[name=green][form=threshold-mounted_rate]", "0.4")
    page.fill("#thresholds input[name=yellow][form=threshold-mounted_rate]", "0.2")
    page.click("#thresholds button[form=threshold-mounted_rate]")
    assert page.locator(".flash-success").inner_text() == "阈值已保存"
    stats_row = page.locator("#scorecards tbody tr", has_text=people.department.name)
    assert stats_row.locator("td[data-colour]").first.get_attribute("data-colour") == "green"  # 50% ≥ 0.4
    screenshot("bureau-scorecards")
    for path, name in (("/bureau/submissions", "bureau-submissions"), ("/bureau/elements", "bureau-elements"),
                       ("/bureau/audit", "bureau-audit")):
        page.goto(path)
        screenshot(name)
    run_now(page, "freshness-scan")
    screenshot("bureau-job-task")
    page.click("text=查看运行记录")
    assert "freshness-scan" in page.locator("#runs tbody tr").first.inner_text()
    screenshot("bureau-jobs")


def run_now(page, job: str) -> None:
    """Press a job's "立即运行" and wait on its progress page until the task has ended well."""
    page.goto("/bureau/jobs")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#run-{job}")
    assert page.locator("#task-subject").inner_text() == job
    page.wait_for_selector("#task-result")  # the page reloads itself when the task ends
    assert page.locator(".progress").get_attribute("data-state") == "done"
