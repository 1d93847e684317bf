"""The requester's pages through Flask's test client: search with explanations, a demand filed with
its live preview, following it, applying for an entry and downloading what was granted; another
department's demand or grant, a missing CSRF token and an expired login get a clear page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from catalog import mounts
from catalog import services as catalog
from catalog.actors import SYSTEM
from exchange.demands.lookup import highlight
from exchange.demands.models import Demand, DemandStatus
from exchange.sharing.models import ApplicationStatus, Delivery, Grant
from tests.conftest import enterprise_table, entry_fields
from tests.web.test_pages import csrf, flashes, post, sign_in, text


def published(session, provider, now, **overrides):
    data = catalog.parse_entry_fields(entry_fields(provider_id=provider.id, **overrides))
    entry = catalog.create_entry(session, actor=SYSTEM, data=data, now=now)
    for action in ("submit", "publish"):
        catalog.transition(session, actor=SYSTEM, entry_id=entry.id, action=action, now=now)
    session.commit()
    return entry


@pytest.fixture
def parties(user, department, stats_bureau):
    housing = department("台州市住房和城乡建设局", 201)
    health = department("台州市医疗保障局", 202)
    user("tongji", "provider", stats_bureau)
    user("xuqiu", "requester", housing)
    user("yibao", "requester", health)
    return {"housing": housing, "health": health, "stats": stats_bureau}


@pytest.fixture
def mounted_entry(session, parties, now, tmp_path):
    """企业登记信息 of 台州市统计局 (无条件共享), a table with its three items mounted."""
    entry = published(session, parties["stats"], now)
    url = enterprise_table(tmp_path / "source.sqlite", 12)
    mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=url, table="enterprises", now=now)
    session.commit()
    return entry


def switch_to(client, username: str) -> None:
    """Sign out whoever is signed in, and sign in as ``username``."""
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    sign_in(client, username)


def file_demand(client, submit: bool = True, **overrides):
    data = {"title": "企业登记信息核验", "description": "办理资质审批时核验企业的登记信息",
            "items": "统一社会信用代码\n企业名称", "legal_basis": "《建筑业企业资质管理规定》", **overrides}
    if submit:
        data["submit"] = "1"
    return post(client, "/requester/demands/new", data)


# -- search --------------------------------------------------------------------------------------


def test_search_in_plain_words_shows_the_entry_highlighted_with_its_explanation(client, parties, mounted_entry):
    sign_in(client, "xuqiu")
    page = text(client.get("/requester/search", query_string={"q": "企业登记", "items": "统一社会信用代码, 法人"}))
    row = re.search(r'<table class="table" id="results">.*?</table>', page, re.S).group(0)
    assert "<mark>企业登记</mark>信息" in row
    assert "统一社会信用代码 · 完全一致" in row
    assert "可申请" in row and f"/requester/entries/{mounted_entry.id}" in row


def test_search_can_keep_only_usable_entries(client, parties, session, now, mounted_entry):
    published(session, parties["stats"], now, name="企业年报信息", summary="企业年度报告")  # nothing mounted
    sign_in(client, "xuqiu")
    everything = text(client.get("/requester/search", query_string={"q": "企业信息"}))
    usable = text(client.get("/requester/search", query_string={"q": "企业信息", "usable": "yes"}))
    assert "企业年报信息" in everything.replace("<mark>", "").replace("</mark>", "")
    assert "目录未挂接资源" in everything
    assert "企业年报" not in usable.replace("<mark>", "").replace("</mark>", "")
    assert "共 1 条" in usable


def test_highlight_marks_the_pieces_the_words_share():
    assert highlight("企业登记信息", "查企业的登记") == [("企业登记", True), ("信息", False)]
    assert highlight("人口信息", "车辆") == [("人口信息", False)]


def test_the_live_preview_answers_with_what_exists(client, parties, mounted_entry):
    sign_in(client, "xuqiu")
    token = csrf(client, "/requester/demands/new")
    response = client.post("/requester/preview.json", json={"title": "企业登记信息", "items": "统一社会信用代码"},
                           headers={"X-CSRFToken": token})
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "matched"
    assert body["candidates"][0]["title"] == "企业登记信息"
    assert body["candidates"][0]["found"] == ["统一社会信用代码"]


def test_a_preview_running_beside_the_submit_does_not_drop_its_message(client, parties, mounted_entry):
    sign_in(client, "xuqiu")
    token = csrf(client, "/requester/demands/new")
    with client.session_transaction() as s:
        s["_flashes"] = [("success", "需求已提交")]  # what the submit's redirect just stored
    # a preview typed just before the submit, answered after it, read the same session cookie
    beside = client.post("/requester/preview.json", json={"title": "企业登记"}, headers={"X-CSRFToken": token})
    assert beside.status_code == 200
    assert "Set-Cookie" not in beside.headers  # so it cannot put back a session without the message
    assert "需求已提交" in text(client.get("/requester/demands"))


def test_the_live_preview_needs_the_csrf_token(client, parties, mounted_entry):
    sign_in(client, "xuqiu")
    response = client.post("/requester/preview.json", json={"title": "企业登记信息"})
    assert response.status_code == 400 and "表单已失效或缺少安全令牌" in text(response)


# -- demands -------------------------------------------------------------------------------------


def test_a_filed_demand_is_submitted_and_shows_its_ranked_match(client, parties, session, mounted_entry):
    sign_in(client, "xuqiu")
    response = file_demand(client)
    assert response.status_code == 302
    demand = session.scalar(select(Demand))
    assert demand.status is DemandStatus.SUBMITTED and demand.deadline is not None
    page = client.get(response.location)
    assert flashes(page) == [f"需求已提交：{demand.ref}，请等待大数据局受理"]
    matches = re.search(r'id="matches">.*?</table>', text(page), re.S).group(0)
    assert "企业登记信息" in matches and "统一社会信用代码 · 完全一致" in matches
    assert "未提交 → 待审核" not in text(page) and "草稿 → 待审核" in text(page)


def test_an_unmet_demand_shows_its_root_cause(client, parties, session, now):
    published(session, parties["stats"], now, name="企业社保缴纳信息", summary="企业社保缴纳情况",
              items="统一社会信用代码|企业名称|缴费金额")  # published, but nothing mounted
    sign_in(client, "xuqiu")
    response = file_demand(client, title="企业社保缴纳信息", items="缴费金额")
    page = text(client.get(response.location))
    assert "暂无可用数据" in page
    assert re.search(r'id="root-cause">目录未挂接资源<', page)


def test_a_bad_demand_names_each_field_and_keeps_what_was_typed(client, parties):
    sign_in(client, "xuqiu")
    response = file_demand(client, title="", description="核验企业", needed_by="明天")
    assert response.status_code == 422
    page = text(response)
    assert "日期格式应为 YYYY-MM-DD" in page
    assert 'value="明天"' in page and "核验企业" in page


def test_a_draft_is_kept_and_submitted_later(client, parties, session):
    sign_in(client, "xuqiu")
    saved = file_demand(client, submit=False)
    demand = session.scalar(select(Demand))
    assert demand.status is DemandStatus.DRAFT and flashes(client.get(saved.location)) == [f"已保存需求草稿：{demand.ref}"]
    post(client, f"/requester/demands/{demand.id}/submit", {"lock_version": demand.lock_version})
    session.refresh(demand)
    assert demand.status is DemandStatus.SUBMITTED


def test_a_draft_the_matcher_cannot_read_stays_a_draft_with_a_clear_message(client, parties, session):
    sign_in(client, "xuqiu")
    file_demand(client, submit=False, title="？？？", description="……", items="！！")
    demand = session.scalar(select(Demand))
    sent = post(client, f"/requester/demands/{demand.id}/submit", {"lock_version": demand.lock_version})
    assert sent.status_code == 302
    assert any("没有可识别的文字" in message for message in flashes(client.get(sent.location)))
    session.refresh(demand)
    assert demand.status is DemandStatus.DRAFT


def test_the_demand_list_filters_and_sorts(client, parties, session):
    sign_in(client, "xuqiu")
    file_demand(client, title="企业登记信息核验")
    file_demand(client, submit=False, title="不动产登记信息")
    drafts = text(client.get("/requester/demands?status=draft"))
    assert "不动产登记信息" in drafts and "企业登记信息核验" not in drafts
    by_title = text(client.get("/requester/demands?sort=title"))
    assert by_title.index("不动产登记信息") < by_title.index("企业登记信息核验")


def test_another_departments_demand_is_not_shown(client, parties, session):
    sign_in(client, "xuqiu")
    file_demand(client)
    demand = session.scalar(select(Demand))
    switch_to(client, "yibao")
    response = client.get(f"/requester/demands/{demand.id}")
    assert response.status_code == 404 and "不存在或无权查看" in text(response)
    assert "Traceback" not in text(response)
    assert demand.title not in text(client.get("/requester/demands"))


def test_a_provider_cannot_open_the_requester_pages(client, parties):
    sign_in(client, "tongji")
    response = client.get("/requester/search")
    assert response.status_code == 403 and "只有需求方可以打开此页面" in text(response)


def test_an_expired_login_on_a_requester_page_asks_to_sign_in_again(client, parties):
    sign_in(client, "xuqiu")
    with client.session_transaction() as s:
        s["seen"] -= 121 * 60
    response = client.get("/requester/demands")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert "登录已超时，请重新登录" in text(client.get(response.location))


# -- applications and grants ---------------------------------------------------------------------


def test_an_unconditional_entry_is_granted_and_downloads_only_the_granted_items(client, parties, session, mounted_entry):
    sign_in(client, "xuqiu")
    response = post(client, f"/requester/entries/{mounted_entry.id}/apply",
                    {"purpose": "资质审批核验", "items": ["统一社会信用代码", "企业名称"]})
    assert response.status_code == 302
    listing = client.get(response.location)
    assert flashes(listing) == ["已自动授权（无条件共享），可在“我的授权”中下载数据"]
    grant = session.scalar(select(Grant))
    grants = text(client.get("/requester/grants"))
    assert f"/requester/grants/{grant.id}/data?format=csv" in grants
    download = client.get(f"/requester/grants/{grant.id}/data?format=csv")
    lines = download.get_data(as_text=True).lstrip("\ufeff").splitlines()
    download.close()
    assert download.status_code == 200 and lines[0] == "统一社会信用代码,企业名称" and len(lines) == 13
    record = session.scalar(select(Delivery).where(Delivery.grant_id == grant.id))
    session.refresh(record)
    assert record.status == "completed" and record.rows == 12


def test_a_conditional_entry_waits_for_the_provider(client, parties, session, now):
    entry = published(session, parties["stats"], now, sharing_type="有条件共享", sharing_condition="仅用于审批")
    sign_in(client, "xuqiu")
    response = post(client, f"/requester/entries/{entry.id}/apply", {"purpose": "资质审批核验"})
    assert flashes(client.get(response.location)) == ["申请已提交，等待提供方审批"]
    page = text(client.get("/requester/applications?status=pending"))
    assert "企业登记信息" in page and "待审批" in page
    assert "还没有共享申请" in text(client.get("/requester/applications?status=granted"))


def test_an_application_without_a_purpose_says_so(client, parties, session, mounted_entry):
    sign_in(client, "xuqiu")
    response = post(client, f"/requester/entries/{mounted_entry.id}/apply", {"purpose": " "})
    assert response.status_code == 422
    assert flashes(response) == ["须说明使用目的"] and session.scalar(select(Grant)) is None


def test_another_departments_grant_downloads_nothing(client, parties, session, mounted_entry):
    sign_in(client, "xuqiu")
    post(client, f"/requester/entries/{mounted_entry.id}/apply", {"purpose": "资质审批核验"})
    grant = session.scalar(select(Grant))
    switch_to(client, "yibao")
    response = client.get(f"/requester/grants/{grant.id}/data?format=csv")
    assert response.status_code == 404 and "不存在或无权查看" in text(response)
    assert session.scalar(select(Delivery)) is None
    assert "还没有授权" in text(client.get("/requester/grants"))


def test_an_application_lists_its_status(client, parties, session, mounted_entry):
    sign_in(client, "xuqiu")
    post(client, f"/requester/entries/{mounted_entry.id}/apply", {"purpose": "资质审批核验"})
    page = text(client.get("/requester/applications"))
    assert "已授权" in page and "企业登记信息" in page
    assert session.scalar(select(Grant)).application.status is ApplicationStatus.GRANTED
