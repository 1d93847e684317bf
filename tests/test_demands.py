"""The demand workflow and sharing applications, through the API as each role uses them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from catalog import services as catalog_services
from catalog.actors import SYSTEM
from catalog.errors import ImportFailed

from .conftest import SHARED_DATA, auth, enterprise_table, entry_fields

API = "/api/v1"


@pytest.fixture
def parties(user, department, stats_bureau):
    housing = department("台州市住房和城乡建设局", 201)
    health = department("台州市医疗保障局", 202)
    bureau_dept = department("台州市大数据发展管理局", 203)
    return {
        "provider": user("stats", "provider", stats_bureau)[1],
        "requester": user("housing", "requester", housing)[1],
        "other_requester": user("health", "requester", health)[1],
        "bureau": user("bureau", "bureau", bureau_dept)[1],
        "stats_bureau": stats_bureau,
    }


def published_entry(session, provider, now, **overrides):
    data = catalog_services.parse_entry_fields(entry_fields(provider_id=provider.id, **overrides))
    entry = catalog_services.create_entry(session, actor=SYSTEM, data=data, now=now)
    for action in ("submit", "publish"):
        catalog_services.transition(session, actor=SYSTEM, entry_id=entry.id, action=action, now=now)
    session.commit()
    return entry


def post(client, token, path, **body):
    return client.post(f"{API}{path}", json=body, headers=auth(token))


def new_demand(client, token, **overrides):
    body = dict(title="企业登记信息核验", description="核验申请企业的登记状态",
                items=["统一社会信用代码", "企业名称", "登记状态"], legal_basis="《建筑业企业资质管理规定》",
                scenario="建筑业企业资质核准", desired_cycle="每日", desired_method="接口")
    body.update(overrides)
    response = post(client, token, "/demands", **body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client, token, demand_id, action, **body):
    return post(client, token, f"/demands/{demand_id}/{action}", **body)


def test_a_filed_demand_is_a_draft_with_a_reference_and_its_items(client, parties):
    demand = new_demand(client, parties["requester"])
    assert demand["status"] == "draft"
    assert demand["ref"].startswith("XQ-")
    assert demand["items"] == ["统一社会信用代码", "企业名称", "登记状态"]
    assert (demand["desired_cycle"], demand["desired_method"]) == ("daily", "api")


def test_submitting_starts_the_bureau_review_deadline_in_working_days(client, parties):
    demand = new_demand(client, parties["requester"])
    submitted = step(client, parties["requester"], demand["id"], "submit").get_json()
    assert submitted["status"] == "submitted"
    deadline = dt.datetime.fromisoformat(submitted["deadline"])
    submitted_at = dt.datetime.fromisoformat(submitted["submitted_at"])
    assert dt.timedelta(days=2) <= deadline - submitted_at <= dt.timedelta(days=7)


def walk_to_matched(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now)
    demand = new_demand(client, parties["requester"])
    step(client, parties["requester"], demand["id"], "submit")
    step(client, parties["bureau"], demand["id"], "accept")
    routed = step(client, parties["bureau"], demand["id"], "route",
                  provider_id=parties["stats_bureau"].id, entry_ids=[entry.id])
    assert routed.status_code == 200, routed.get_json()
    return entry, routed.get_json()


def test_the_whole_path_from_request_to_feedback(client, parties, session, now):
    entry, demand = walk_to_matched(client, parties, session, now)
    assert demand["status"] == "matched" and demand["matches"][0]["entry"]["id"] == entry.id
    confirmed = step(client, parties["provider"], demand["id"], "confirm", entry_id=entry.id).get_json()
    assert confirmed["status"] == "confirmed"
    application = post(client, parties["requester"], "/applications", entry_id=entry.id,
                       purpose="资质核准", demand_id=demand["id"]).get_json()
    assert application["status"] == "granted"
    fulfilled = client.get(f"{API}/demands/{demand['id']}", headers=auth(parties["requester"])).get_json()
    assert fulfilled["status"] == "fulfilled"
    closed = step(client, parties["requester"], demand["id"], "close", satisfied=True, feedback="满足").get_json()
    assert (closed["status"], closed["satisfied"]) == ("closed", True)
    history = client.get(f"{API}/demands/{demand['id']}/history", headers=auth(parties["bureau"])).get_json()
    assert [h["to_status"] for h in history] == ["draft", "submitted", "accepted", "matched", "confirmed",
                                                 "fulfilled", "closed"]


@pytest.mark.parametrize("action, role, status", [
    ("accept", "requester", 403), ("accept", "provider", 403), ("route", "requester", 403),
    ("submit", "other_requester", 404), ("submit", "bureau", 200),
])
def test_who_may_take_which_step(client, parties, action, role, status):
    demand = new_demand(client, parties["requester"])
    if action != "submit":
        step(client, parties["requester"], demand["id"], "submit")
    response = step(client, parties[role], demand["id"], action, provider_id=parties["stats_bureau"].id)
    assert response.status_code == status, response.get_json()


def test_returning_a_demand_needs_a_reason_and_the_requester_can_resubmit(client, parties):
    demand = new_demand(client, parties["requester"])
    step(client, parties["requester"], demand["id"], "submit")
    refused = step(client, parties["bureau"], demand["id"], "return")
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["details"]
    returned = step(client, parties["bureau"], demand["id"], "return", reason="请补充使用依据").get_json()
    assert returned["status"] == "returned"
    assert step(client, parties["requester"], demand["id"], "submit").get_json()["status"] == "submitted"


def test_steps_out_of_order_are_refused(client, parties):
    demand = new_demand(client, parties["requester"])
    response = step(client, parties["bureau"], demand["id"], "accept")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"


def test_only_the_routed_provider_confirms(client, parties, session, now, user, transport):
    entry, demand = walk_to_matched(client, parties, session, now)
    outsider = user("traffic", "provider", transport)[1]
    response = step(client, outsider, demand["id"], "confirm", entry_id=entry.id)
    assert response.status_code in (403, 404)


def test_declining_needs_a_reason_and_the_entry_is_not_offered_again(client, parties, session, now):
    entry, demand = walk_to_matched(client, parties, session, now)
    assert step(client, parties["provider"], demand["id"], "decline").status_code == 422
    declined = step(client, parties["provider"], demand["id"], "decline", reason="该目录不含登记状态").get_json()
    assert declined["status"] == "declined" and declined["matches"][0]["state"] == "rejected"
    rerouted = step(client, parties["bureau"], demand["id"], "route", provider_id=parties["stats_bureau"].id,
                    entry_ids=[entry.id]).get_json()
    assert rerouted["matches"][0]["state"] == "rejected"


def test_an_unmet_demand_carries_its_root_cause(client, parties, session, now):
    _, demand = walk_to_matched(client, parties, session, now)
    unmet = step(client, parties["bureau"], demand["id"], "unmet", reason="未挂接资源", unmet_reason="not_mounted")
    assert unmet.get_json()["unmet_reason"] == "not_mounted"


def test_requesters_see_only_their_own_demands(client, parties):
    new_demand(client, parties["requester"])
    other = client.get(f"{API}/demands", headers=auth(parties["other_requester"])).get_json()
    mine = client.get(f"{API}/demands", headers=auth(parties["requester"])).get_json()
    assert (other["total"], mine["total"]) == (0, 1)


def test_overdue_demands_are_listed(client, parties, session):
    demand = new_demand(client, parties["requester"])
    step(client, parties["requester"], demand["id"], "submit")
    from exchange.demands.models import Demand

    session.get(Demand, demand["id"]).deadline = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    session.commit()
    listed = client.get(f"{API}/demands?overdue=true", headers=auth(parties["bureau"])).get_json()
    assert [d["id"] for d in listed["items"]] == [demand["id"]] and listed["items"][0]["overdue"] is True


# -- sharing applications -------------------------------------------------------------------------


def test_an_unconditional_entry_is_granted_at_once_with_its_items(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now)
    application = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验",
                       items=["企业名称"]).get_json()
    assert application["status"] == "granted"
    assert application["grant"]["items"] == ["企业名称"]


def test_a_not_shared_entry_is_refused_with_its_basis(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now, sharing_type="不予共享",
                            not_shared_basis="涉及国家秘密", open_attribute="", sharing_method="")
    application = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验").get_json()
    assert application["status"] == "refused" and "涉及国家秘密" in application["reason"]


def conditional_application(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now, sharing_type="有条件共享",
                            sharing_condition="须说明使用依据")
    response = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验")
    return response.get_json()


def test_a_conditional_application_waits_for_the_provider(client, parties, session, now):
    application = conditional_application(client, parties, session, now)
    assert application["status"] == "pending" and application["deadline"]
    decided = post(client, parties["provider"], f"/applications/{application['id']}/decide", approve=True,
                   lock_version=application["lock_version"]).get_json()
    assert decided["status"] == "granted" and decided["grant"]["id"]


def test_a_second_decision_on_the_same_application_is_a_conflict(client, parties, session, now):
    application = conditional_application(client, parties, session, now)
    path = f"/applications/{application['id']}/decide"
    first = post(client, parties["provider"], path, approve=True, lock_version=application["lock_version"])
    second = post(client, parties["bureau"], path, approve=True, lock_version=application["lock_version"])
    assert first.status_code == 200 and second.status_code == 409
    grants = client.get(f"{API}/grants", headers=auth(parties["bureau"])).get_json()
    assert grants["total"] == 1


def test_refusing_an_application_needs_a_reason(client, parties, session, now):
    application = conditional_application(client, parties, session, now)
    path = f"/applications/{application['id']}/decide"
    assert post(client, parties["provider"], path, approve=False, lock_version=application["lock_version"]).status_code == 422


def test_applying_for_items_the_entry_lacks_is_refused(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now)
    response = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验",
                    items=["婚姻状况"])
    assert response.status_code == 422 and "婚姻状况" in str(response.get_json()["error"]["details"])


def test_a_revoked_grant_is_marked_with_its_reason(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now)
    grant = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验").get_json()["grant"]
    revoked = post(client, parties["provider"], f"/grants/{grant['id']}/revoke", reason="超范围使用").get_json()
    assert revoked["revoke_reason"] == "超范围使用" and revoked["revoked_at"]
    active = client.get(f"{API}/grants?active=true", headers=auth(parties["requester"])).get_json()
    assert active["total"] == 0


def test_an_objection_is_charged_to_the_provider_and_answered(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now)
    objection = post(client, parties["requester"], "/objections", entry_id=entry.id,
                     description="登记状态与实际不符").get_json()
    assert objection["provider_id"] == parties["stats_bureau"].id and objection["status"] == "open"
    answered = post(client, parties["provider"], f"/objections/{objection['id']}/answer", answer="已更正").get_json()
    assert answered["status"] == "answered"


# -- demands collected by spreadsheet -------------------------------------------------------------

DEMANDS_SAMPLE = SHARED_DATA / "templates" / "demands_sample.csv"


def demand_sheet(path):
    from catalog.templates import read_sheet
    from exchange.demands.importing import DEMANDS

    return read_sheet(path, filename=path.name, template=DEMANDS, max_bytes=1 << 20)


@pytest.fixture
def deadlines():
    from exchange.deadlines import Deadlines
    from exchange.workdays import WorkCalendar

    return Deadlines(WorkCalendar())


def test_a_campaign_sheet_files_and_submits_every_demand(session, now, deadlines):
    from exchange.demands.importing import import_demands
    from exchange.demands.models import Demand

    result = import_demands(session, actor=SYSTEM, sheet=demand_sheet(DEMANDS_SAMPLE), now=now,
                            deadlines=deadlines, create_departments=True)
    assert (result.created, result.departments_created) == (3, 3)
    demand = session.scalar(select(Demand).where(Demand.ref == "XQ-2023-003"))
    assert demand.status.value == "submitted" and demand.deadline is not None
    assert [i.name for i in demand.items][:2] == ["停車場名稱", "地址"]  # kept as the requester wrote it
    assert demand.desired_cycle.value == "realtime"  # written 實時, in traditional characters


def test_reimporting_a_campaign_sheet_updates_by_reference(session, now, deadlines):
    from exchange.demands.importing import import_demands

    import_demands(session, actor=SYSTEM, sheet=demand_sheet(DEMANDS_SAMPLE), now=now, deadlines=deadlines,
                   create_departments=True)
    again = import_demands(session, actor=SYSTEM, sheet=demand_sheet(DEMANDS_SAMPLE), now=now, deadlines=deadlines)
    assert (again.created, again.updated) == (0, 3)


def test_an_unknown_requesting_department_is_named_and_nothing_is_filed(session, now, deadlines):
    from exchange.demands.importing import import_demands
    from exchange.demands.models import Demand

    with pytest.raises(ImportFailed) as caught:
        import_demands(session, actor=SYSTEM, sheet=demand_sheet(DEMANDS_SAMPLE), now=now, deadlines=deadlines)
    assert {(p.row, p.column) for p in caught.value.problems} == {(2, "需求部门"), (3, "需求部门"), (4, "需求部门")}
    assert session.scalar(select(func.count()).select_from(Demand)) == 0


def test_routing_a_demand_puts_it_in_the_providers_inbox_with_the_deadline(client, parties, session, now):
    _, demand = walk_to_matched(client, parties, session, now)
    inbox = client.get(f"{API}/notifications", headers=auth(parties["provider"])).get_json()
    note = inbox["items"][0]
    assert (note["kind"], note["object_id"]) == ("demand_routed", demand["id"])
    assert demand["ref"] in note["body"] and "答复期限" in note["body"]


# -- delivery under a grant -----------------------------------------------------------------------


@pytest.fixture
def granted_table(client, parties, session, now, tmp_path):
    """A published entry with a mounted table whose columns are its items, and a grant on two items."""
    from catalog import mounts

    entry = published_entry(session, parties["stats_bureau"], now)
    url = enterprise_table(tmp_path / "source.sqlite", 25)
    mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=url, table="enterprises", now=now)
    session.commit()
    application = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验",
                       items=["统一社会信用代码", "企业名称"]).get_json()
    return application["grant"]


def test_a_delivery_holds_only_the_granted_items_and_is_logged(client, parties, granted_table, session):
    from exchange.sharing.models import Delivery

    response = client.get(f"{API}/grants/{granted_table['id']}/data?format=csv&limit=10",
                          headers=auth(parties["requester"]))
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    response.close()  # as a WSGI server does when the body has been sent
    assert response.status_code == 200 and lines[0] == "统一社会信用代码,企业名称" and len(lines) == 11
    record = session.scalar(select(Delivery).where(Delivery.grant_id == granted_table["id"]))
    session.refresh(record)
    assert (record.status, record.rows, record.items) == ("completed", 10, ["统一社会信用代码", "企业名称"])
    assert record.bytes == len(response.get_data())


def test_asking_for_an_item_not_granted_is_refused(client, parties, granted_table):
    response = client.get(f"{API}/grants/{granted_table['id']}/data?items=法定代表人", headers=auth(parties["requester"]))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "items_not_granted"


def test_a_revoked_grant_delivers_nothing(client, parties, granted_table):
    post(client, parties["provider"], f"/grants/{granted_table['id']}/revoke", reason="超范围使用")
    response = client.get(f"{API}/grants/{granted_table['id']}/data", headers=auth(parties["requester"]))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "grant_revoked"


def test_another_department_cannot_use_the_grant(client, parties, granted_table):
    response = client.get(f"{API}/grants/{granted_table['id']}/data", headers=auth(parties["other_requester"]))
    assert response.status_code in (403, 404)


def test_an_entry_with_nothing_mounted_says_so(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now)
    grant = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验").get_json()["grant"]
    response = client.get(f"{API}/grants/{grant['id']}/data", headers=auth(parties["requester"]))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_mounted"


# -- matching wired to the workflow ---------------------------------------------------------------


def test_a_submitted_demand_carries_the_matchers_suggestions_with_explanations(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息",
                            items="统一社会信用代码|企业名称|法定代表人|登记状态")
    demand = new_demand(client, parties["requester"], items=["统一信用代码", "企业名称"])
    submitted = step(client, parties["requester"], demand["id"], "submit").get_json()
    best = submitted["matches"][0]
    assert best["entry"]["id"] == entry.id and best["state"] == "suggested"
    pairs = {(e["requested"], e["matched"]) for e in best["explanation"]}
    assert ("统一信用代码", "统一社会信用代码") in pairs
    assert submitted["diagnosis"]["status"] in ("matched", "unmet")


def test_a_demand_for_data_nobody_registered_is_unmet_with_no_entry(client, parties, session, now):
    published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    demand = new_demand(client, parties["requester"], title="海洋渔船捕捞日志", description="近海渔船每日捕捞量",
                        items=["渔船编号", "捕捞量"])
    submitted = step(client, parties["requester"], demand["id"], "submit").get_json()
    assert submitted["diagnosis"]["status"] == "unmet"
    assert submitted["diagnosis"]["unmet_reason"] == "no_entry"


def test_the_preview_shows_what_exists_while_a_demand_is_written(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    response = post(client, parties["requester"], "/match/preview", title="企業登記資訊")  # traditional
    candidates = response.get_json()["candidates"]
    assert response.status_code == 200 and candidates[0]["key"] == str(entry.id)


def test_an_empty_preview_is_a_clear_error(client, parties):
    response = post(client, parties["requester"], "/match/preview", title="   ")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "empty_query"


# -- counts, usage and the audit trail of the workflow -----------------------------------------------


def test_overdue_demands_are_counted_by_who_they_wait_on(client, parties, session, now):
    from exchange.demands.models import Demand

    _, demand = walk_to_matched(client, parties, session, now)
    session.get(Demand, demand["id"]).deadline = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    session.commit()
    counts = client.get(f"{API}/demands/overdue-counts", headers=auth(parties["bureau"])).get_json()
    assert counts == [{"department_id": parties["stats_bureau"].id, "waiting_on": "provider", "overdue": 1}]


def test_open_and_overdue_objections_are_counted_per_department(client, parties, session, now):
    from exchange.sharing.models import Objection

    entry = published_entry(session, parties["stats_bureau"], now)
    first = post(client, parties["requester"], "/objections", entry_id=entry.id, description="错误一").get_json()
    post(client, parties["requester"], "/objections", entry_id=entry.id, description="错误二")
    session.get(Objection, first["id"]).deadline = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    session.commit()
    counts = client.get(f"{API}/objections/counts", headers=auth(parties["bureau"])).get_json()
    assert counts == [{"department_id": parties["stats_bureau"].id, "open": 2, "overdue": 1}]


def test_deliveries_are_counted_for_the_bureau(client, parties, granted_table):
    response = client.get(f"{API}/grants/{granted_table['id']}/data?limit=5", headers=auth(parties["requester"]))
    response.get_data()
    response.close()
    usage = client.get(f"{API}/deliveries/usage", headers=auth(parties["bureau"])).get_json()
    assert [(u["deliveries"], u["rows"]) for u in usage] == [(1, 5)]
    assert client.get(f"{API}/deliveries/usage", headers=auth(parties["requester"])).status_code == 403


def test_workflow_steps_and_deliveries_are_in_the_audit_trail(client, parties, granted_table, session):
    from sqlalchemy import select as sql_select

    from exchange.audit.models import AuditEvent

    client.get(f"{API}/grants/{granted_table['id']}/data?limit=1", headers=auth(parties["requester"])).close()
    actions = {(e.object_type, e.action) for e in session.scalars(sql_select(AuditEvent))}
    assert {("sharing_application", "sharing_application.create"), ("grant", "grant.grant"),
            ("grant", "grant.deliver")} <= actions


@pytest.mark.parametrize("role, allowed", [
    ("provider", True), ("bureau", True), ("requester", False), ("other_requester", False), ("outsider", False),
])
def test_who_may_decide_a_conditional_application(client, parties, session, now, user, transport, role, allowed):
    parties = {**parties, "outsider": user("traffic", "provider", transport)[1]}
    application = conditional_application(client, parties, session, now)
    response = post(client, parties[role], f"/applications/{application['id']}/decide", approve=True,
                    lock_version=application["lock_version"])
    assert (response.status_code == 200) is allowed
    assert response.status_code in ((200,) if allowed else (403, 404))


@pytest.mark.parametrize("role, allowed", [
    ("provider", True), ("bureau", True), ("requester", False), ("other_requester", False),
])
def test_who_may_revoke_a_grant(client, parties, session, now, role, allowed):
    entry = published_entry(session, parties["stats_bureau"], now)
    grant = post(client, parties["requester"], "/applications", entry_id=entry.id, purpose="核验").get_json()["grant"]
    response = post(client, parties[role], f"/grants/{grant['id']}/revoke", reason="收回")
    assert response.status_code in ((200,) if allowed else (403, 404))


@pytest.mark.parametrize("role, allowed", [
    ("provider", True), ("bureau", True), ("requester", False), ("other_requester", False),
])
def test_who_may_answer_an_objection(client, parties, session, now, role, allowed):
    entry = published_entry(session, parties["stats_bureau"], now)
    objection = post(client, parties["requester"], "/objections", entry_id=entry.id, description="有误").get_json()
    response = post(client, parties[role], f"/objections/{objection['id']}/answer", answer="已核实")
    assert response.status_code in ((200,) if allowed else (403, 404))


@pytest.mark.parametrize("role", ["provider", "bureau"])
def test_only_requesters_file_demands_and_applications(client, parties, session, now, role):
    entry = published_entry(session, parties["stats_bureau"], now)
    application = post(client, parties[role], "/applications", entry_id=entry.id, purpose="核验")
    assert application.status_code == 403
    if role == "provider":
        demand = post(client, parties[role], "/demands", title="甲", description="乙")
        assert demand.status_code == 403
