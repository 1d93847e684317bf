"""Learning synonyms from providers' confirmations, and the ``rematch`` job that re-matches only
the open demands that changed entries may affect, keeping verdicts."""

from __future__ import annotations

import datetime as dt

import pytest

from sqlalchemy import select

from catalog import services as catalog_services
from catalog.actors import SYSTEM
from exchange.app import runtime
from exchange.demands.matching import MatchEngine
from exchange.demands.models import Demand, DemandStatus, MatchState
from exchange.demands.rematch import rematch
from exchange.runs import JobStatus
from exchange.synonyms.models import Synonym, SynonymKind

from .conftest import auth
from .test_demands import new_demand, parties, post, published_entry, step  # noqa: F401
from .test_synonyms import VEHICLE_QUERY, preview, vehicle_entries

API = "/api/v1"


@pytest.fixture(autouse=True)
def inline_rebuilds(app):
    runtime(app).matcher = MatchEngine()  # the next search sees an edit (the web app rebuilds in the background)


def confirmed_vehicle_demand(client, parties, registered):
    """A demand for the VIN in the requester's words, matched, routed and confirmed by the provider."""
    demand = new_demand(client, parties["requester"], title="机动车登记", description="核验机动车登记情况",
                        items=["车辆识别代码", "机动车所有人"])
    submitted = step(client, parties["requester"], demand["id"], "submit").get_json()
    offered = {m["entry"]["id"]: m for m in submitted["matches"]}
    assert {"requested": "车辆识别代码", "matched": "车辆识别代号", "kind": "fuzzy"}.items() <= \
        offered[registered.id]["explanation"][0].items()
    step(client, parties["bureau"], demand["id"], "accept")
    step(client, parties["bureau"], demand["id"], "route", provider_id=parties["stats_bureau"].id,
         entry_ids=[registered.id])
    confirmed = step(client, parties["provider"], demand["id"], "confirm", entry_id=registered.id)
    assert confirmed.status_code == 200, confirmed.get_json()
    return demand


def test_a_confirmed_fuzzy_pair_becomes_a_learned_synonym_naming_its_demand(client, parties, session, now):
    registered, _ = vehicle_entries(session, parties, now)
    demand = confirmed_vehicle_demand(client, parties, registered)
    learned = client.get(f"{API}/synonyms", query_string={"kind": "learned"}, headers=auth(parties["bureau"])).get_json()
    assert [(s["terms"], s["demand_id"]) for s in learned["items"]] == [(["车辆识别代号", "车辆识别代码"], demand["id"])]
    assert demand["ref"] in learned["items"][0]["note"]


def test_a_later_demand_ranks_better_because_of_a_learned_pair(client, parties, session, now):
    registered, basic = vehicle_entries(session, parties, now)
    before = preview(client, parties["requester"], **VEHICLE_QUERY)
    assert before[0]["key"] == str(basic.id)
    confirmed_vehicle_demand(client, parties, registered)
    after = preview(client, parties["requester"], **VEHICLE_QUERY)
    assert after[0]["key"] == str(registered.id)
    assert after[0]["explanation"][0]["kind"] == "synonym"


def test_the_bureau_can_correct_a_learned_pair(client, parties, session, now):
    registered, basic = vehicle_entries(session, parties, now)
    confirmed_vehicle_demand(client, parties, registered)
    learned = session.scalars(select(Synonym).where(Synonym.kind == SynonymKind.LEARNED)).one()
    removed = client.delete(f"{API}/synonyms/{learned.id}", headers=auth(parties["bureau"]))
    assert removed.status_code == 204
    assert preview(client, parties["requester"], **VEHICLE_QUERY)[0]["key"] == str(basic.id)


def test_a_contained_name_is_not_learned(client, parties, session, now):
    """姓名 inside 法定代表人姓名 is containment, not a synonym: learning it would rewrite every name."""
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息",
                            items="统一社会信用代码|企业名称|法定代表人姓名")
    demand = new_demand(client, parties["requester"], items=["统一社会信用代码", "姓名"])
    step(client, parties["requester"], demand["id"], "submit")
    step(client, parties["bureau"], demand["id"], "accept")
    step(client, parties["bureau"], demand["id"], "route", provider_id=parties["stats_bureau"].id, entry_ids=[entry.id])
    step(client, parties["provider"], demand["id"], "confirm", entry_id=entry.id)
    assert session.scalars(select(Synonym)).all() == []


# -- the rematch job --------------------------------------------------------------------------------


def submitted_demand(client, parties, **fields):
    demand = new_demand(client, parties["requester"], **fields)
    return step(client, parties["requester"], demand["id"], "submit").get_json()


def later(now, minutes):
    return now + dt.timedelta(minutes=minutes)


def test_a_new_entry_reaches_only_the_demands_it_can_answer(client, parties, session, sessions, now):
    published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    vehicles = submitted_demand(client, parties, title="机动车登记", description="机动车登记情况",
                                items=["号牌号码", "车辆识别代号"])
    fishing = submitted_demand(client, parties, title="海洋渔船捕捞日志", description="近海渔船每日捕捞量",
                               items=["渔船编号", "捕捞量"])
    engine = MatchEngine()
    first = rematch(sessions, now=later(now, 1), engine=engine)
    assert first.status is JobStatus.OK and first.counts["changed_entries"] == "all"
    assert first.counts["rematched"] == 2

    new = published_entry(session, parties["stats_bureau"], later(now, 2), name="机动车登记信息",
                          items="号牌号码|车辆识别代号|机动车所有人")
    for filler in ("社会保险参保信息", "不动产登记信息", "婚姻登记信息"):
        published_entry(session, parties["stats_bureau"], now, name=filler)
    run = rematch(sessions, now=later(now, 3), engine=engine)
    assert run.status is JobStatus.OK, run.error
    assert run.counts["changed_entries"] == 1 and run.counts["rematched"] == 1
    session.expire_all()
    assert new.id in {m.entry_id for m in session.get(Demand, vehicles["id"]).matches}
    untouched = session.get(Demand, fishing["id"])
    assert untouched.diagnosis["matched_at"] == later(now, 1).isoformat()
    assert new.id not in {m.entry_id for m in untouched.matches}


def test_nothing_changed_means_nothing_rematched(client, parties, session, sessions, now):
    published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    submitted_demand(client, parties)
    engine = MatchEngine()
    rematch(sessions, now=later(now, 1), engine=engine)
    again = rematch(sessions, now=later(now, 2), engine=engine)
    assert again.counts == {"changed_entries": 0, "open_demands": 1, "rematched": 0, "matched": 0, "unmet": 0,
                            "failed": 0}


def test_a_withdrawn_entry_leaves_the_demands_that_held_it(client, parties, session, sessions, now):
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    for filler in ("社会保险参保信息", "不动产登记信息"):
        published_entry(session, parties["stats_bureau"], now, name=filler)
    demand = submitted_demand(client, parties)
    assert demand["matches"][0]["entry"]["id"] == entry.id
    assert demand["diagnosis"]["unmet_reason"] == "not_mounted"
    engine = MatchEngine()
    rematch(sessions, now=later(now, 1), engine=engine)
    catalog_services.transition(session, actor=SYSTEM, entry_id=entry.id, action="withdraw", now=later(now, 2),
                                reason="停止提供")
    session.commit()
    run = rematch(sessions, now=later(now, 3), engine=engine)
    assert run.counts["rematched"] == 1 and run.counts["unmet"] == 1
    session.expire_all()
    stored = session.get(Demand, demand["id"])
    assert stored.diagnosis["unmet_reason"] == "no_entry"
    assert entry.id not in {m.entry_id for m in stored.matches}


def test_verdicts_survive_rematching_and_a_rejected_entry_is_never_offered_again(client, parties, session,
                                                                                  sessions, now):
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    other = published_entry(session, parties["stats_bureau"], now, name="企业登记基本信息")
    demand = submitted_demand(client, parties)
    step(client, parties["bureau"], demand["id"], "accept")
    step(client, parties["bureau"], demand["id"], "route", provider_id=parties["stats_bureau"].id)
    declined = step(client, parties["provider"], demand["id"], "decline", entry_id=other.id, reason="口径不同")
    assert declined.status_code == 200, declined.get_json()
    step(client, parties["bureau"], demand["id"], "route", provider_id=parties["stats_bureau"].id)
    engine = MatchEngine()
    for minutes in (1, 3):
        _touch(session, other, later(now, minutes - 1))
        session.commit()
        assert rematch(sessions, now=later(now, minutes), engine=engine).status is JobStatus.OK
    session.expire_all()
    states = {m.entry_id: m.state for m in session.get(Demand, demand["id"]).matches}
    assert states[other.id] is MatchState.REJECTED
    assert states[entry.id] is MatchState.SUGGESTED
    offered = client.get(f"{API}/demands/{demand['id']}", headers=auth(parties["bureau"])).get_json()["matches"]
    assert [m["state"] for m in offered if m["entry"]["id"] == other.id] == ["rejected"]


def _touch(session, entry, when):
    """The entry changed (as an edit or a re-mount would mark it)."""
    session.get(type(entry), entry.id).updated_at = when


def test_closed_demands_are_left_alone(client, parties, session, sessions, now):
    published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    demand = submitted_demand(client, parties)
    stored = session.get(Demand, demand["id"])
    stored.status = DemandStatus.CLOSED
    session.commit()
    run = rematch(sessions, now=later(now, 1), engine=MatchEngine())
    assert run.counts["open_demands"] == 0 and run.counts["rematched"] == 0


def test_the_job_reports_each_demand_matched_as_progress(client, parties, session, sessions, now):
    published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    for title in ("企业登记信息核验", "企业登记情况查询"):
        submitted_demand(client, parties, title=title)
    heard = []
    run = rematch(sessions, now=later(now, 1), engine=MatchEngine(), progress=lambda *told: heard.append(told))
    assert run.status is JobStatus.OK and run.counts["rematched"] == 2
    assert heard == [("运行中", 0, 1), ("重新匹配需求", 1, 2), ("重新匹配需求", 2, 2), ("已完成", 1, 1)]
