"""More kinds of flag (demand waiting on a mount, declared and observed dates that disagree),
escalation of old flags to the bureau, and one summary notification per department."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from catalog import mounts
from catalog.actors import SYSTEM
from exchange.app import Runtime
from exchange.demands.models import Demand, DemandMatch, DemandStatus, MatchState, UnmetReason
from exchange.freshness.models import Flag
from exchange.freshness.rules import FreshnessConfig
from exchange.freshness.scan import scan
from exchange.notifications.models import Notification
from exchange.notifications.services import Channels

from .conftest import auth, failing
from .test_freshness import flags_of, published_entry

API = "/api/v1"


def demand_on(session, entry, requester, *, status: str, unmet_reason: str | None = None,
              state: str = "suggested") -> Demand:
    demand = Demand(ref=f"XQ-{status}-{entry.id}", title="企业登记信息需求", description="办理审批需要",
                    requester_id=requester.id, status=DemandStatus(status),
                    unmet_reason=UnmetReason(unmet_reason) if unmet_reason else None)
    demand.matches.append(DemandMatch(entry_id=entry.id, rank=1, score=0.9, state=MatchState(state)))
    session.add(demand)
    session.commit()
    return demand


def notes(session, kind: str) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


@pytest.mark.parametrize("status, unmet_reason, state, waiting", [
    ("matched", None, "suggested", True),
    ("confirmed", None, "confirmed", True),
    ("unmet", "not_mounted", "suggested", True),
    ("unmet", "no_entry", "suggested", False),
    ("matched", None, "rejected", False),
    ("closed", None, "suggested", False),
])
def test_a_demand_waits_on_an_unmounted_entry_it_was_matched_to(
        session, sessions, stats_bureau, transport, now, status, unmet_reason, state, waiting):
    entry = published_entry(session, stats_bureau, now, mounted=False, last_updated=now.date())
    demand_on(session, entry, transport, status=status, unmet_reason=unmet_reason, state=state)
    scan(sessions, now=now)
    assert flags_of(session, entry.id, "demand_waiting") == ([(stats_bureau.id, None)] if waiting else [])


def test_the_demand_waiting_flag_is_resolved_when_something_is_mounted(session, sessions, stats_bureau, transport, now):
    entry = published_entry(session, stats_bureau, now, mounted=False, last_updated=now.date())
    demand_on(session, entry, transport, status="matched")
    scan(sessions, now=now)
    mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url="https://data.example/api", now=now)
    session.commit()
    assert scan(sessions, now=now).counts["demand_waiting"] == {"opened": 0, "kept": 0, "resolved": 1}


@pytest.mark.parametrize("declared, observed, inconsistent", [
    (dt.date(2026, 11, 1), dt.datetime(2026, 10, 12, 8, tzinfo=dt.UTC), True),   # catalog updated, data still
    (dt.date(2026, 9, 1), dt.datetime(2026, 10, 30, 8, tzinfo=dt.UTC), True),    # data moved, catalog not
    (dt.date(2026, 10, 25), dt.datetime(2026, 11, 1, 23, tzinfo=dt.UTC), False),  # 7 days apart: allowed
    (dt.date(2026, 10, 24), dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC), True),   # 8 days apart
    (dt.date(2026, 11, 1), None, False),                                          # nothing observed
])
def test_declared_update_and_observed_change_far_apart_are_inconsistent(
        session, sessions, stats_bureau, now, declared, observed, inconsistent):
    entry = published_entry(session, stats_bureau, now, last_updated=declared)
    entry.mounts[0].data_changed_at = observed
    session.commit()
    scan(sessions, now=now)
    flags = session.scalars(select(Flag).where(Flag.entry_id == entry.id, Flag.kind == "inconsistent")).all()
    assert len(flags) == (1 if inconsistent else 0)
    if inconsistent:
        assert flags[0].details == {"declared_update": declared.isoformat(),
                                    "observed_change": observed.date().isoformat(), "allowed_days": 7}


def test_flags_open_past_the_escalation_period_go_to_the_bureau_once(
        client, session, sessions, stats_bureau, transport, user, now, monkeypatch):
    published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    published_entry(session, transport, now, update_cycle="每年", name="公交线路")
    _, bureau = user("bureau", "bureau")
    session.commit()
    config = FreshnessConfig(escalation_days=30)
    scan(sessions, now=now, config=config)
    assert scan(sessions, now=now + dt.timedelta(days=29), config=config).counts["escalated"] == 0
    later = now + dt.timedelta(days=31)
    run = scan(sessions, now=later, config=config)
    assert (run.counts["escalated"], run.counts["bureau_notified"]) == (3, 1)
    assert scan(sessions, now=later + dt.timedelta(days=1), config=config).counts["escalated"] == 0
    [note] = notes(session, "flags_escalated")
    assert note.title == "3 条目录问题超期未整改，已升级督办"
    assert note.body == "涉及 2 个部门：未按期更新 2 条，未挂接资源 1 条。查看：/api/v1/flags?escalated=true&state=open"
    monkeypatch.setattr(Runtime, "now", staticmethod(lambda: later))  # the API's clock
    listed = client.get(f"{API}/flags?escalated=true&sort=opened_at", headers=auth(bureau)).json
    assert listed["total"] == 3
    assert {(f["age_days"], f["escalated_at"] is not None) for f in listed["items"]} == {(31, True)}


def test_each_department_with_new_flags_gets_one_summary(session, sessions, stats_bureau, transport, now):
    for name in ("人口统计年鉴", "经济普查", "物价指数"):
        published_entry(session, stats_bureau, now, name=name, update_cycle="每年", mounted=name != "物价指数")
    published_entry(session, transport, now, name="公交线路", update_cycle="每年")
    run = scan(sessions, now=now)
    summaries = {n.department_id: (n.title, n.body) for n in notes(session, "flags_opened")}
    assert run.counts["departments_notified"] == 2
    assert summaries[stats_bureau.id] == (
        "本部门新增目录问题 4 条，请及时整改",
        f"未按期更新 3 条，未挂接资源 1 条。查看：/api/v1/flags?department_id={stats_bureau.id}&state=open")
    assert summaries[transport.id][0] == "本部门新增目录问题 1 条，请及时整改"
    scan(sessions, now=now + dt.timedelta(days=1))  # nothing new: nobody is told again
    assert len(notes(session, "flags_opened")) == 2


def test_a_scan_failing_at_its_notifications_leaves_no_flag_and_no_notification(
        session, sessions, connection, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now, update_cycle="每年", mounted=False)
    with failing(connection, "INSERT INTO NOTIFICATIONS", "磁盘已满"):
        failed = scan(sessions, now=now)
    assert failed.status.value == "failed" and "磁盘已满" in failed.error
    assert session.scalar(select(func.count()).select_from(Flag)) == 0
    assert notes(session, "flags_opened") == []
    repaired = scan(sessions, now=now)
    assert repaired.counts["stale"]["opened"] == 1 and len(flags_of(session, entry.id, "unmounted")) == 1
    assert len(notes(session, "flags_opened")) == 1


def test_the_summaries_queue_their_email_and_webhook_copies(session, sessions, stats_bureau, transport, user, now):
    account, _ = user("stats", "provider", stats_bureau)
    account.email = "stats@example.gov.cn"
    published_entry(session, stats_bureau, now, update_cycle="每年")
    published_entry(session, transport, now, update_cycle="每年", name="公交线路")
    channels = Channels(smtp_url="smtp://mail.example.gov.cn/exchange", webhook_url="https://hooks.example.gov.cn/x")
    scan(sessions, now=now, channels=channels)
    copies = {(n.department_id, s.channel, s.target) for n in notes(session, "flags_opened") for s in n.sends}
    assert copies == {(stats_bureau.id, "webhook", channels.webhook_url), (transport.id, "webhook", channels.webhook_url),
                      (stats_bureau.id, "email", "stats@example.gov.cn")}
