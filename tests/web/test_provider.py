"""In a real browser, in Chinese: a provider imports a template with a bad row, downloads the error
workbook, fixes the row and imports again; mounts a file on a flagged entry and sees the flag gone
after the freshness scan; answers the demand, application and objection waiting on it.  The admin's
pages too.  A screenshot of each main page is saved."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from catalog import services
from catalog.actors import SYSTEM
from exchange.accounts.models import User
from exchange.demands.services import DemandData, act, create_demand
from exchange.freshness.scan import scan
from exchange.sharing.services import apply, raise_objection
from tests.conftest import entry_fields
from tests.web.conftest import log_in

pytestmark = pytest.mark.browser

HEADER = "信息资源名称,信息资源提供方,信息资源摘要,信息资源格式,信息项,共享类型,共享条件,共享方式,开放属性,更新周期"
GOOD = "人口统计,台州市统计局,全市人口统计数据,电子表格,地区|人口数,无条件共享,,文件,有条件开放,每年"
BAD = "企业统计,台州市统计局,企业统计数据,电子表格,企业名称,有条件共享,,文件,有条件开放,每年"
FIXED = "企业统计,台州市统计局,企业统计数据,电子表格,企业名称,有条件共享,经审批后共享,文件,有条件开放,每年"


def _csv(*rows: str) -> dict:
    return {"name": "目录.csv", "mimeType": "text/csv", "buffer": "\n".join((HEADER, *rows, "")).encode()}


def _import(page, payload: dict) -> None:
    page.goto("/provider/import")
    page.set_input_files("#file", files=[payload])
    page.click("#import-form button[type=submit]")
    page.wait_for_selector(".progress[data-state=done], .progress[data-state=failed]")


def test_import_with_a_bad_row_then_fixed(page, people, screenshot):
    log_in(page, "tongji")
    page.goto("/provider/import")
    screenshot("provider-import")
    _import(page, _csv(GOOD, BAD))
    assert page.locator("#task-message").inner_text() == "文件有1处问题，未导入任何数据"
    assert "有条件共享的资源必须填写共享条件" in page.locator("#problems").inner_text()
    screenshot("provider-import-failed")
    with page.expect_download() as download:
        page.click("text=下载错误工作簿")
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    problems = list(workbook["错误清单"].iter_rows(values_only=True))
    assert problems[1][0] == 3 and "共享条件" in problems[1][3]
    header, bad_row = list(workbook["出错的行"].iter_rows(values_only=True))
    assert dict(zip(header, bad_row))["信息资源名称"] == "企业统计"

    _import(page, _csv(GOOD, FIXED))
    assert "已完成" in page.locator("main").inner_text()
    assert page.locator("table.compact").inner_text().split("\n")[1] == "新增\t2"
    screenshot("provider-import-done")
    page.click("text=继续")
    rows = page.locator("#entries tbody tr")
    assert rows.count() == 2
    assert {"人口统计", "企业统计"} == {rows.nth(i).locator("td").nth(1).inner_text() for i in range(2)}
    screenshot("provider-entries")


@pytest.fixture
def flagged_entry(live_server, people):
    """A published entry of 台州市统计局 with nothing mounted, flagged by the scan."""
    now = dt.datetime.now(dt.UTC)
    with live_server.session() as s:
        data = services.parse_entry_fields(entry_fields(provider_id=people.department.id, name="人口基础信息",
                                                        last_updated=now.date().isoformat()))
        entry = services.create_entry(s, actor=SYSTEM, data=data, now=now)
        services.transition(s, actor=SYSTEM, entry_id=entry.id, action="submit", now=now)
        services.transition(s, actor=SYSTEM, entry_id=entry.id, action="publish", now=now)
    run = scan(live_server.sessions, now=now)
    assert run.counts["unmounted"]["opened"] == 1
    return entry


def test_mount_a_file_and_the_flag_is_gone_after_the_scan(page, live_server, flagged_entry, screenshot):
    log_in(page, "tongji")
    page.click("nav.mainnav >> text=目录问题")
    flags = page.locator("#flags tbody tr")
    assert flags.count() == 1 and "未挂接资源" in flags.inner_text() and "人口基础信息" in flags.inner_text()
    screenshot("provider-flags")
    page.click("#flags >> text=人口基础信息")
    assert page.locator("#not-mounted").inner_text() == "尚未挂接资源"
    screenshot("provider-entry")
    page.click("text=挂接资源")
    screenshot("provider-mount-wizard")
    page.click(".tile >> text=上传文件")
    page.set_input_files("#f-file", files=[{"name": "人口.csv", "mimeType": "text/csv",
                                            "buffer": "地区,人口数\n椒江区,560000\n黄岩区,650000\n".encode()}])
    page.click("#mount-form button[type=submit]")
    result = page.locator("#mount-result").inner_text()
    assert "人口.csv" in result and "地区、人口数" in result
    assert page.locator(".flash-success").inner_text() == "挂接成功"
    screenshot("provider-mount-result")
    page.click("text=返回目录")
    assert "人口.csv" in page.locator("#mounts").inner_text()

    scan(live_server.sessions, now=dt.datetime.now(dt.UTC))
    page.goto("/provider/flags")
    assert page.locator("#flags tbody").inner_text().strip() == "没有问题"
    page.select_option("select[name=state]", "resolved")
    page.click("form.filters button[type=submit]")
    assert "人口基础信息" in page.locator("#flags tbody").inner_text()


@pytest.fixture
def waiting(live_server, people, flagged_entry):
    """A demand routed to 台州市统计局 with its entry suggested, a pending application on a
    conditional entry, and an open objection."""
    app = live_server.app.extensions["exchange"]
    now = dt.datetime.now(dt.UTC)
    with live_server.session() as s:
        requester = s.query(User).filter_by(username="xuqiu").one().actor
        data = services.parse_entry_fields(entry_fields(provider_id=people.department.id, name="企业统计名录",
                                                        sharing_type="有条件共享", sharing_condition="经审批"))
        conditional = services.create_entry(s, actor=SYSTEM, data=data, now=now)
        services.transition(s, actor=SYSTEM, entry_id=conditional.id, action="submit", now=now)
        services.transition(s, actor=SYSTEM, entry_id=conditional.id, action="publish", now=now)
        apply(s, actor=requester, entry_id=conditional.id, purpose="企业年报核查", items=["企业名称"], now=now,
              deadlines=app.deadlines)
        raise_objection(s, actor=requester, entry_id=flagged_entry.id, description="人口数与公报不一致", now=now,
                        deadlines=app.deadlines)
        demand = create_demand(s, actor=requester, now=now, data=DemandData(
            title="全市人口数据", description="按区县的常住人口", items=["地区", "人口数"]))
        for action, options in (("submit", {}), ("accept", {}),
                                ("route", {"provider_id": people.department.id, "entry_ids": [flagged_entry.id]})):
            act(s, actor=SYSTEM if action != "submit" else requester, demand_id=demand.id, action=action,
                now=now, deadlines=app.deadlines, **options)
    return demand


def test_answer_the_demand_application_and_objection(page, waiting, screenshot):
    log_in(page, "tongji")
    page.click("nav.mainnav >> text=待办需求")
    assert "全市人口数据" in page.locator("#demands").inner_text()
    assert "剩余" in page.locator("#demands .badge").inner_text()
    screenshot("provider-demands")
    page.click("#demands >> text=全市人口数据")
    screenshot("provider-demand")
    page.click("#matches >> text=确认可满足")
    assert page.locator(".flash-success").inner_text() == "已确认可满足需求"
    assert "数源已确认" in page.locator("h1").inner_text()

    page.click("nav.mainnav >> text=共享申请")
    screenshot("provider-applications")
    page.click("#applications button:has-text('拒绝')")
    assert page.locator(".flash-error").inner_text() == "拒绝申请须说明理由"
    page.fill("#applications input[name=reason]", "用途与共享条件不符")
    page.click("#applications button:has-text('拒绝')")
    assert page.locator(".flash-success").inner_text() == "已拒绝申请"
    assert "已拒绝：用途与共享条件不符" in page.locator("#applications").inner_text()

    page.click("nav.mainnav >> text=异议")
    screenshot("provider-objections")
    page.fill("#objections textarea[name=answer]", "已核对并按公报更正")
    page.click("#objections button:has-text('答复')")
    assert page.locator(".flash-success").inner_text() == "已答复异议"
    assert "已核对并按公报更正" in page.locator("#objections").inner_text()


def test_the_admin_pages(page, people, screenshot):
    log_in(page, "admin")
    page.click("nav.mainnav >> text=用户管理")
    assert page.locator("#users tbody tr").count() == 5
    screenshot("admin-users")
    page.click("text=新建用户")
    page.fill("#f-username", "zhangsan")
    page.fill("#f-password", "zhangsan-pass")
    page.select_option("#f-role", "requester")
    page.select_option("#f-department", label="台州市交通运输局")
    page.click("#user-form button[type=submit]")
    assert page.locator(".flash-success").inner_text() == "已创建用户 zhangsan"
    page.click("#users >> text=zhangsan")
    screenshot("admin-user")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('停用')")
    assert page.locator(".flash-success").inner_text() == "已停用"
    page.click("nav.mainnav >> text=部门管理")
    assert page.locator("#departments tbody tr").count() == 2
    screenshot("admin-departments")
    page.click("nav.mainnav >> text=设置")
    assert "EXCHANGE_SECRET_KEY" in page.locator("#settings").inner_text()
    assert "browser-tests" not in page.locator("#settings").inner_text()
    screenshot("admin-settings")


def test_the_pages_fit_a_phone(page, people, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "tongji")
    assert not page.locator("nav.mainnav").is_visible()
    page.click("label.nav-toggle-label")
    assert page.locator("nav.mainnav").is_visible()
    screenshot("phone-menu")
    page.click("nav.mainnav >> text=本部门目录")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("phone-entries")
