"""Data-element suggestions, and bad input at the matcher's doors (empty or absurdly long text,
only punctuation, mixed scripts, 10,000 requested items): a clear error or a sensible answer,
never a crash or a hang."""

from __future__ import annotations

import time

import pytest

from catalog.actors import SYSTEM
from catalog.elements import import_elements
from catalog.templates import ELEMENTS, read_sheet

from .conftest import SHARED_DATA, auth
from .test_demands import new_demand, parties, post, published_entry, step  # noqa: F401

API = "/api/v1"
ELEMENTS_FILE = SHARED_DATA / "data_elements_real.csv"


@pytest.fixture
def elements(session):
    sheet = read_sheet(ELEMENTS_FILE, filename=ELEMENTS_FILE.name, template=ELEMENTS, max_bytes=1 << 26)
    import_elements(session, actor=SYSTEM, sheet=sheet)
    session.commit()


def suggested(client, token, **query):
    return client.get(f"{API}/elements/suggest", query_string=query, headers=auth(token))


def test_an_item_gets_its_standard_element_first_with_why(client, parties, elements):
    response = suggested(client, parties["provider"], name="身份证件号")
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    best = item["suggestions"][0]
    assert best["name"] == "身份证件号码" and best["element_id"] is not None
    assert best["kind"] == "fuzzy" and "相近" in best["reason"]
    scores = [s["score"] for s in item["suggestions"]]
    assert scores == sorted(scores, reverse=True)


def test_the_bureau_synonyms_reach_the_suggestions(client, parties, elements):
    before = suggested(client, parties["provider"], name="证照号").get_json()["items"][0]["suggestions"]
    assert not [s for s in before if s["name"] == "身份证件号码" and s["kind"] == "synonym"]
    post(client, parties["bureau"], "/synonyms", terms=["身份证件号码", "证照号"])
    best = suggested(client, parties["provider"], name="证照号").get_json()["items"][0]["suggestions"][0]
    assert (best["name"], best["kind"], best["reason"]) == ("身份证件号码", "synonym", "同义名称")


def test_a_list_of_items_is_answered_item_by_item(client, parties, elements):
    response = post(client, parties["provider"], "/elements/suggest", items=["姓名", "！！！", "办理人姓名"], top_k=3)
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [i["name"] for i in items] == ["姓名", "！！！", "办理人姓名"]
    assert items[0]["suggestions"][0]["kind"] == "exact"
    assert items[1]["suggestions"] == [] and "可识别" in items[1]["note"]
    assert all(len(i["suggestions"]) <= 3 for i in items)


def test_suggestions_are_fast_enough_to_type_with(client, parties, elements):
    suggested(client, parties["provider"], name="姓名")  # the first call builds the element index
    started = time.perf_counter()
    for prefix in ("身", "身份", "身份证", "身份证件", "身份证件号"):
        assert suggested(client, parties["provider"], name=prefix).status_code == 200
    assert time.perf_counter() - started < 5  # a generous bound: a hang or a rebuild per call fails it


@pytest.mark.parametrize("query, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "名" * 101}, "name"),
    ({"name": "姓名", "title": "题" * 201}, "title"),
])
def test_bad_suggestion_requests_name_the_field(client, parties, elements, query, field):
    response = suggested(client, parties["provider"], **query)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


def test_ten_thousand_items_to_suggest_for_are_refused_at_once(client, parties, elements):
    started = time.perf_counter()
    response = post(client, parties["provider"], "/elements/suggest", items=[f"项{i}" for i in range(10_000)])
    assert response.status_code == 422 and "300" in response.get_json()["error"]["details"]["name"][0]
    assert time.perf_counter() - started < 5


# -- the matcher's doors ----------------------------------------------------------------------------


def test_a_demand_of_only_punctuation_cannot_be_submitted_and_says_why(client, parties, session, now):
    published_entry(session, parties["stats_bureau"], now)
    demand = new_demand(client, parties["requester"], title="？？？", description="……！！", items=["——", "、、"])
    response = step(client, parties["requester"], demand["id"], "submit")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "empty_query" and "标点" in error["message"]
    again = client.get(f"{API}/demands/{demand['id']}", headers=auth(parties["requester"])).get_json()
    assert again["status"] == "draft"


def test_ten_thousand_requested_items_are_refused_at_the_edge(client, parties):
    body = dict(title="企业信息", description="企业信息", items=[f"信息项{i}" for i in range(10_000)])
    for path in ("/demands", "/match/preview"):
        response = post(client, parties["requester"], path, **body)
        assert response.status_code == 422, path
        assert "300" in str(response.get_json()["error"]["details"]["items"])


@pytest.mark.parametrize("body, field", [
    ({"title": "企" * 201}, "title"),
    ({"description": "企" * 5001}, "description"),
    ({"description": "企" * 4500}, "description"),  # within the form's limit, past the matcher's
    ({"items": ["企" * 150]}, "items"),
])
def test_absurdly_long_preview_text_is_refused_naming_the_field(client, parties, body, field):
    response = post(client, parties["requester"], "/match/preview", **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


def test_a_long_description_is_matched_on_its_beginning(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息")
    demand = new_demand(client, parties["requester"], description="需要企业登记信息。" + "说明" * 2400)
    submitted = step(client, parties["requester"], demand["id"], "submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["matches"][0]["entry"]["id"] == entry.id


def test_mixed_scripts_are_matched_sensibly(client, parties, session, now):
    entry = published_entry(session, parties["stats_bureau"], now, name="企业登记信息",
                            items="统一社会信用代码|企业名称|ＧＤＰ")
    candidates = post(client, parties["requester"], "/match/preview", title="企業登記 info 2024",
                      items=["GDP", "企业名称"]).get_json()["candidates"]
    assert candidates[0]["key"] == str(entry.id)
    assert candidates[0]["explanation"][0]["kind"] == "exact"
