"""The bureau's synonym table through the API: who may edit, list/filter/sort/page, optimistic
locking, import and export all or nothing, the audit trail, and the matcher using the edits."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy import select

import matching
from catalog.actors import SYSTEM
from exchange.app import runtime
from exchange.audit.models import AuditEvent
from exchange.demands.matching import MatchEngine
from exchange.synonyms import services as synonyms

from .conftest import auth
from .test_demands import parties, post, published_entry  # noqa: F401  (fixture and helpers)

API = "/api/v1"


@pytest.fixture(autouse=True)
def inline_rebuilds(app):
    """The web app rebuilds the matcher in the background after an edit; these tests look at the
    next search, so they wait for the rebuild."""
    runtime(app).matcher = MatchEngine()


def add(client, token, terms, **body):
    return post(client, token, "/synonyms", terms=terms, **body)


def listed(client, token, **query):
    response = client.get(f"{API}/synonyms", query_string=query, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_bureau_adds_a_group_and_everyone_reads_it(client, parties):
    created = add(client, parties["bureau"], ["车辆识别代号", "车辆识别代码", "VIN码"], kind="abbreviation",
                  note="公安交管用语")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["terms"] == ["车辆识别代号", "车辆识别代码", "VIN码"] and body["kind"] == "abbreviation"
    assert body["lock_version"] == 1 and body["created_by"] is not None
    seen = listed(client, parties["requester"], q="VIN")
    assert [s["id"] for s in seen["items"]] == [body["id"]]


@pytest.mark.parametrize("role", ["requester", "provider"])
def test_only_the_bureau_edits_the_table(client, parties, role):
    response = add(client, parties[role], "登记日期|注册日期")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "permission_denied"


def test_the_list_filters_sorts_and_pages(client, parties):
    for terms, kind in (("甲方|委托方", "synonym"), ("乙方|受托方", "synonym"), ("社区|居委会", "related")):
        assert add(client, parties["bureau"], terms, kind=kind).status_code == 201
    related = listed(client, parties["bureau"], kind="related")
    assert [s["terms"] for s in related["items"]] == [["社区", "居委会"]]
    first = listed(client, parties["bureau"], sort="-id", page_size=2, page=1)
    second = listed(client, parties["bureau"], sort="-id", page_size=2, page=2)
    assert first["total"] == 3 and first["pages"] == 2 and len(second["items"]) == 1
    ids = [s["id"] for s in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    bad = client.get(f"{API}/synonyms", query_string={"sort": "password"}, headers=auth(parties["bureau"]))
    assert bad.status_code == 422 and "sort" in bad.get_json()["error"]["details"]


def test_a_stale_lock_version_is_a_conflict(client, parties):
    group = add(client, parties["bureau"], "出生日期|生日").get_json()
    url = f"{API}/synonyms/{group['id']}"
    changed = client.patch(url, json={"lock_version": 1, "note": "常见口语"}, headers=auth(parties["bureau"]))
    assert changed.status_code == 200 and changed.get_json()["lock_version"] == 2
    stale = client.patch(url, json={"lock_version": 1, "kind": "related"}, headers=auth(parties["bureau"]))
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"
    assert client.get(url, headers=auth(parties["bureau"])).get_json()["kind"] == "synonym"


def test_removing_a_group_forgets_it(client, parties):
    group = add(client, parties["bureau"], "学号|学籍号").get_json()
    url = f"{API}/synonyms/{group['id']}"
    assert client.delete(url, query_string={"lock_version": 5}, headers=auth(parties["bureau"])).status_code == 409
    assert client.delete(url, headers=auth(parties["bureau"])).status_code == 204
    assert client.get(url, headers=auth(parties["bureau"])).status_code == 404


def test_the_same_group_twice_is_a_conflict(client, parties):
    assert add(client, parties["bureau"], "学号|学籍号").status_code == 201
    again = add(client, parties["bureau"], [" 学号", "学籍号 "])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "duplicate"


@pytest.mark.parametrize("terms, why", [
    ("学号", "两个不同的词"),
    ("学号|学号", "两个不同的词"),
    ("学号|？？！！", "只有标点"),
    ("学号|" + "长" * 51, "超过50个字"),
    (["词%d" % i for i in range(10_000)], "最多20个词"),
    ("", "两个不同的词"),
])
def test_a_bad_group_is_refused_naming_the_terms(client, parties, terms, why):
    response = add(client, parties["bureau"], terms)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert why in "".join(error["details"]["terms"])


def test_an_unknown_kind_is_refused_with_the_choices(client, parties):
    response = add(client, parties["bureau"], "学号|学籍号", kind="maybe")
    assert response.status_code == 422 and "related" in response.get_json()["error"]["details"]["kind"][0]


def test_mixed_scripts_are_terms_like_any_other(client, parties):
    response = add(client, parties["bureau"], ["GDP总量", "地区生产总值", "ＧＤＰ总量"])
    assert response.status_code == 201
    assert response.get_json()["terms"] == ["GDP总量", "地区生产总值"]  # full width folded, then de-duplicated


def test_edits_are_in_the_audit_trail(client, parties, session):
    group = add(client, parties["bureau"], "学号|学籍号").get_json()
    client.patch(f"{API}/synonyms/{group['id']}", json={"lock_version": 1, "kind": "abbreviation"},
                 headers=auth(parties["bureau"]))
    client.delete(f"{API}/synonyms/{group['id']}", headers=auth(parties["bureau"]))
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "synonym",
                                                              AuditEvent.object_id == group["id"])
                              .order_by(AuditEvent.id)).all()
    assert actions == ["synonym.create", "synonym.update", "synonym.delete"]


# -- import and export ------------------------------------------------------------------------------


def upload(client, token, content: bytes, name: str, **query):
    return client.post(f"{API}/synonyms/import", query_string=query, headers=auth(token),
                       data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8-sig")


def test_an_import_adds_and_updates_groups(client, parties):
    add(client, parties["bureau"], "学号|学籍号")
    sheet = csv_bytes("词条,类型,备注\n学号|学籍号,简称,教育口\n出生日期|生日,,\n")
    result = upload(client, parties["bureau"], sheet, "synonyms.csv")
    assert result.status_code == 200, result.get_json()
    assert {k: result.get_json()[k] for k in ("rows", "created", "updated")} == {"rows": 2, "created": 1, "updated": 1}
    kinds = {tuple(s["terms"]): s["kind"] for s in listed(client, parties["bureau"])["items"]}
    assert kinds == {("学号", "学籍号"): "abbreviation", ("出生日期", "生日"): "synonym"}


def test_an_import_with_a_bad_row_writes_nothing_and_names_every_problem(client, parties):
    sheet = csv_bytes("词条,类型,备注\n出生日期|生日,,\n学号,,\n社区|居委会,差不多,\n出生日期|生日,,\n")
    result = upload(client, parties["bureau"], sheet, "synonyms.csv")
    assert result.status_code == 422
    problems = {(p["row"], p["column"]) for p in result.get_json()["error"]["details"]}
    assert problems == {(3, "词条"), (4, "类型"), (5, "词条")}
    assert listed(client, parties["bureau"])["total"] == 0


def test_an_import_without_the_terms_column_says_so(client, parties):
    result = upload(client, parties["bureau"], csv_bytes("名称,备注\n甲,乙\n"), "synonyms.csv")
    assert result.status_code == 422 and "词条" in result.get_json()["error"]["message"]


def test_a_dry_run_checks_and_writes_nothing(client, parties):
    result = upload(client, parties["bureau"], csv_bytes("词条\n甲方|委托方\n"), "s.csv", dry_run="true")
    assert result.status_code == 200 and result.get_json()["created"] == 1
    assert listed(client, parties["bureau"])["total"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_imports_back_unchanged(client, parties, fmt):
    add(client, parties["bureau"], "学号|学籍号", kind="abbreviation", note="教育口")
    add(client, parties["bureau"], "社区|居委会", kind="related")
    exported = client.get(f"{API}/synonyms/export", query_string={"format": fmt}, headers=auth(parties["requester"]))
    assert exported.status_code == 200
    frame = (pd.read_csv(io.BytesIO(exported.data), dtype=str, keep_default_na=False) if fmt == "csv"
             else pd.read_excel(io.BytesIO(exported.data), dtype=str, engine="calamine").fillna(""))
    assert list(frame["词条"]) == ["学号|学籍号", "社区|居委会"] and list(frame["类型"]) == ["简称", "近义"]
    again = upload(client, parties["bureau"], exported.data, f"back.{fmt}").get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


# -- the matcher uses the table ---------------------------------------------------------------------


FILLER = ["企业登记信息", "社会保险参保信息", "不动产登记信息", "婚姻登记信息", "食品经营许可信息", "建设工程施工许可信息"]
VEHICLE_QUERY = dict(title="机动车基本信息", items=["车辆识别代码", "号牌号码"])


def vehicle_entries(session, parties, now):
    """Two vehicle entries: one names the VIN 车辆识别代号 (a requester writes 车辆识别代码), the
    other has the requester's title but no VIN; and unrelated entries, as a real catalog has."""
    registered = published_entry(session, parties["stats_bureau"], now, name="机动车登记信息",
                                 summary="机动车登记信息", items="车辆识别代号|号牌号码|机动车所有人")
    basic = published_entry(session, parties["stats_bureau"], now, name="机动车基本信息",
                            summary="机动车基本信息", items="号牌号码|号牌种类|车身颜色")
    for name in FILLER:
        published_entry(session, parties["stats_bureau"], now, name=name, summary=name)
    return registered, basic


def preview(client, token, **query):
    response = post(client, token, "/match/preview", **query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["candidates"]


def test_an_added_group_changes_the_next_search_and_a_removed_one_undoes_it(client, parties, session, now):
    registered, basic = vehicle_entries(session, parties, now)
    query = VEHICLE_QUERY
    before = preview(client, parties["requester"], **query)
    assert before[0]["key"] == str(basic.id)
    group = add(client, parties["bureau"], "车辆识别代号|车辆识别代码").get_json()
    after = preview(client, parties["requester"], **query)
    assert after[0]["key"] == str(registered.id)
    assert after[0]["explanation"][0]["kind"] == "synonym"
    client.delete(f"{API}/synonyms/{group['id']}", headers=auth(parties["bureau"]))
    assert preview(client, parties["requester"], **query)[0]["key"] == str(basic.id)


def test_a_related_group_offers_the_near_term_scored_below_a_synonym(client, parties, session, now):
    registered, basic = vehicle_entries(session, parties, now)
    group = add(client, parties["bureau"], "车辆识别代号|车辆识别代码", kind="related").get_json()
    related = preview(client, parties["requester"], **VEHICLE_QUERY)
    assert related[0]["key"] == str(registered.id)
    assert {k: related[0]["explanation"][0][k] for k in ("requested", "matched", "kind", "score")} == \
        {"requested": "车辆识别代码", "matched": "车辆识别代号", "kind": "related", "score": 0.85}
    client.patch(f"{API}/synonyms/{group['id']}", json={"kind": "synonym", "lock_version": group["lock_version"]},
                 headers=auth(parties["bureau"]))
    same = preview(client, parties["requester"], **VEHICLE_QUERY)
    assert (same[0]["explanation"][0]["kind"], same[0]["explanation"][0]["score"]) == ("synonym", 0.97)
    assert same[0]["score"] > related[0]["score"]


def test_in_the_background_the_old_index_answers_until_the_new_one_is_ready(client, parties, session, now):
    registered, basic = vehicle_entries(session, parties, now)
    engine = MatchEngine(background=True)
    old = engine.refresh(session, now)
    synonyms.create_synonym(session, actor=SYSTEM, terms=["车辆识别代号", "车辆识别代码"], now=now)
    session.commit()
    assert engine.refresh(session, now) is old  # no request waits for the rebuild
    engine.wait(timeout=60)
    new = engine.refresh(session, now)
    assert new is not old
    best = new.search(matching.Query(**VEHICLE_QUERY)).candidates[0]
    assert best.key == str(registered.id) and best.explanation[0].kind == "synonym"
