"""Exemptions from a kind of flag: the provider asks, the bureau grants or refuses (optimistic
locking), the scan honours a running exemption and the flags come back after it ends; audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from exchange.app import Runtime
from exchange.audit.models import AuditEvent
from exchange.freshness.scan import scan
from exchange.notifications.models import Notification

from .conftest import auth
from .test_freshness import flags_of, published_entry

API = "/api/v1/flag-exemptions"


@pytest.fixture
def people(user, stats_bureau, transport):
    return {"provider": user("stats", "provider", stats_bureau)[1], "bureau": user("bureau", "bureau")[1],
            "other": user("traffic", "provider", transport)[1], "requester": user("agency", "requester", transport)[1]}


@pytest.fixture
def clock(monkeypatch, now):
    """The API's clock, set by the test."""
    current = {"now": now}
    monkeypatch.setattr(Runtime, "now", staticmethod(lambda: current["now"]))
    return current


@pytest.fixture
def unmounted(session, stats_bureau, now):
    return published_entry(session, stats_bureau, now, mounted=False, last_updated=now.date())


def ask(client, token, entry_id, kind="unmounted", reason="该目录为汇总口径，数据以纸质年鉴发布"):
    return client.post(API, json={"entry_id": entry_id, "kind": kind, "reason": reason}, headers=auth(token))


def decide(client, token, exemption, **decision):
    payload = {"lock_version": exemption["lock_version"], "reason": "同意", **decision}
    return client.post(f"{API}/{exemption['id']}/decide", json=payload, headers=auth(token))


def test_a_granted_exemption_resolves_the_flag_and_it_comes_back_after_the_end(
        client, session, sessions, people, unmounted, clock, now):
    scan(sessions, now=now)
    asked = ask(client, people["provider"], unmounted.id)
    assert asked.status_code == 201 and asked.json["status"] == "requested"
    ends = now + dt.timedelta(days=90)
    granted = decide(client, people["bureau"], asked.json, grant=True, ends_at=ends.isoformat())
    assert granted.status_code == 200 and granted.json["status"] == "granted"
    assert scan(sessions, now=now).counts["unmounted"] == {"opened": 0, "kept": 0, "resolved": 1}
    assert scan(sessions, now=now + dt.timedelta(days=89)).counts["unmounted"]["opened"] == 0
    after = now + dt.timedelta(days=91)
    assert scan(sessions, now=after).counts["unmounted"]["opened"] == 1
    assert flags_of(session, unmounted.id, "unmounted")[-1] == (unmounted.provider_id, None)


def test_an_exemption_covers_only_its_kind(client, session, sessions, people, stats_bureau, clock, now):
    entry = published_entry(session, stats_bureau, now, mounted=False, update_cycle="每年")
    asked = ask(client, people["provider"], entry.id, kind="stale").json
    decide(client, people["bureau"], asked, grant=True, ends_at=(now + dt.timedelta(days=30)).isoformat())
    scan(sessions, now=now)
    assert flags_of(session, entry.id, "stale") == []
    assert flags_of(session, entry.id, "unmounted") == [(stats_bureau.id, None)]


def test_a_refusal_needs_a_reason_and_leaves_the_flags(client, session, sessions, people, unmounted, clock, now):
    asked = ask(client, people["provider"], unmounted.id).json
    blank = decide(client, people["bureau"], asked, grant=False, reason=" ")
    assert blank.status_code == 422 and blank.json["error"]["details"] == {"reason": ["必填"]}
    refused = decide(client, people["bureau"], asked, grant=False, reason="应当挂接资源")
    assert refused.json["status"] == "refused" and refused.json["decision_reason"] == "应当挂接资源"
    scan(sessions, now=now)
    assert flags_of(session, unmounted.id, "unmounted") == [(unmounted.provider_id, None)]
    told = session.scalars(select(Notification).where(Notification.kind == "exemption_decided")).one()
    assert (told.department_id, told.title) == (unmounted.provider_id, f"豁免申请已拒绝：{unmounted.name}")


@pytest.mark.parametrize("decision, field", [
    ({"grant": True}, "ends_at"),
    ({"grant": True, "ends_at": "2026-01-01T00:00:00+08:00"}, "ends_at"),
])
def test_a_grant_needs_an_end_date_after_now(client, people, unmounted, clock, decision, field):
    asked = ask(client, people["provider"], unmounted.id).json
    response = decide(client, people["bureau"], asked, **decision)
    assert response.status_code == 422 and field in response.json["error"]["details"]


def test_a_second_decision_on_the_same_version_is_a_conflict(client, people, unmounted, clock, now):
    asked = ask(client, people["provider"], unmounted.id).json
    ends = (now + dt.timedelta(days=30)).isoformat()
    assert decide(client, people["bureau"], asked, grant=True, ends_at=ends).status_code == 200
    late = decide(client, people["bureau"], asked, grant=False, reason="不同意")
    assert (late.status_code, late.json["error"]["code"]) == (409, "stale_version")


def test_one_pending_request_per_entry_and_kind(client, people, unmounted, clock):
    assert ask(client, people["provider"], unmounted.id).status_code == 201
    again = ask(client, people["provider"], unmounted.id)
    assert (again.status_code, again.json["error"]["code"]) == (409, "exemption_pending")
    assert ask(client, people["provider"], unmounted.id, kind="stale").status_code == 201


@pytest.mark.parametrize("who, status", [("other", 403), ("bureau", 403), ("requester", 403)])
def test_only_the_entrys_provider_may_ask(client, people, unmounted, clock, who, status):
    response = ask(client, people[who], unmounted.id)
    assert response.status_code == status and response.json["error"]["code"] == "permission_denied"


def test_a_provider_cannot_decide(client, people, unmounted, clock, now):
    asked = ask(client, people["provider"], unmounted.id).json
    response = decide(client, people["provider"], asked, grant=True, ends_at=(now + dt.timedelta(days=9)).isoformat())
    assert response.status_code == 403


def test_bad_input_names_the_field(client, people, unmounted, clock):
    response = client.post(API, json={"entry_id": unmounted.id, "kind": "late", "reason": ""},
                           headers=auth(people["provider"]))
    assert response.status_code == 422 and set(response.json["error"]["details"]) == {"kind", "reason"}


def test_the_list_filters_and_pages_and_providers_see_their_own(client, people, unmounted, clock, now):
    for kind in ("unmounted", "stale", "inconsistent"):
        ask(client, people["provider"], unmounted.id, kind=kind)
    first = client.get(f"{API}?status=requested&page_size=2", headers=auth(people["bureau"])).json
    assert (first["total"], len(first["items"]), first["pages"]) == (3, 2, 2)
    stale = client.get(f"{API}?kind=stale", headers=auth(people["provider"])).json
    assert [e["kind"] for e in stale["items"]] == ["stale"]
    assert client.get(API, headers=auth(people["other"])).json["total"] == 0
    assert client.get(API, headers=auth(people["requester"])).status_code == 403
    assert client.get(f"{API}?active=true", headers=auth(people["bureau"])).json["total"] == 0


def test_requests_and_decisions_are_audited_and_the_bureau_is_told(client, session, people, unmounted, clock, now):
    asked = ask(client, people["provider"], unmounted.id).json
    decide(client, people["bureau"], asked, grant=True, ends_at=(now + dt.timedelta(days=30)).isoformat())
    events = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "flag_exemption",
                                                      AuditEvent.object_id == asked["id"]).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_role) for e in events] == [("flag_exemption.request", "provider"),
                                                         ("flag_exemption.status", "bureau")]
    assert events[1].after["status"] == "granted"
    told = session.scalars(select(Notification).where(Notification.kind == "exemption_requested")).one()
    assert told.title == f"豁免申请待审核：{unmounted.name}" and told.user_id is not None
