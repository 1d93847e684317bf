"""Ranking, explanations and verdicts on a small catalog."""

from __future__ import annotations

import json

import pytest

from matching import CatalogIndex, Query, Record, Synonyms
from matching.scoring import FEATURES

from .matching_fixtures import CATALOG, ELEMENTS, fresh_index


@pytest.mark.parametrize("query, expected", [
    (Query("企业登记信息"), "ent-1"),
    (Query("企業登記信息"), "ent-1"),
    (Query("低保对象名单"), "ent-2"),
    (Query("公共停车场泊位"), "ent-3"),
    (Query("公共停車場泊位數"), "ent-3"),
    (Query("残疾人家庭无障碍改造"), "ent-4"),
    (Query("社保参保人员"), "ent-5"),
    (Query("养老院床位"), "ent-8"),
    (Query("企业登纪信息"), "ent-1"),
])
def test_demand_ranks_its_entry_first(index, query, expected):
    assert index.search(query).candidates[0].key == expected


@pytest.mark.parametrize("requested, matched, kind", [
    ("身份证号", "公民身份号码", "synonym"),
    ("企业名称", "企业名称", "exact"),
    ("统一信用代码", "统一社会信用代码", "abbreviation"),
    ("注册资金", "注册资本", "synonym"),
    ("登记状况", "登记状态", "fuzzy"),
])
def test_requested_item_is_explained_with_its_kind(index, requested, matched, kind):
    query = Query("企业登记", items=[requested]) if kind != "synonym" or requested == "注册资金" \
        else Query("低保对象", items=[requested])
    top = index.search(query).candidates[0]
    explanation = {m.requested: m for m in top.explanation}
    assert (explanation[requested].matched, explanation[requested].kind) == (matched, kind)


def test_a_related_term_is_found_below_a_synonym_and_explained_as_related():
    licence = Query("营业执照信息", items=["营业执照号"])
    catalog = [*CATALOG, Record("ent-9", "市场主体登记信息", "", ["市场主体登记号", "主体名称"], "市场监督管理局")]

    def top(kind):
        synonyms = Synonyms([(kind, ["市场主体登记", "营业执照"])])
        return CatalogIndex.build(catalog, synonyms=synonyms, elements=ELEMENTS).search(licence).candidates[0]

    related, synonym = top("related"), top("synonym")
    assert related.key == synonym.key == "ent-9"
    item = related.explanation[0]
    assert (item.requested, item.matched, item.kind, item.score) == ("营业执照号", "市场主体登记号", "related", 0.85)
    assert synonym.explanation[0].kind == "synonym" and synonym.score > related.score


@pytest.mark.parametrize("demand, entry", [
    ("驾校名单", "机动车驾驶员培训机构信息"),
    ("律所登记信息", "律师事务所登记信息"),
    ("公厕分布", "城区公共厕所信息"),
    ("网约车平台公司", "网络预约出租汽车经营者信息"),
])
def test_built_in_table_knows_common_government_abbreviations(demand, entry):
    others = [Record(f"other-{n}", title, "", [], "某局") for n, title in enumerate(
        ("校外培训机构信息", "司法鉴定机构登记信息", "城区公共停车场信息", "出租汽车企业信息"))]
    catalog = [Record("wanted", entry, "", [], "某局"), *others]
    assert CatalogIndex.build(catalog).search(Query(demand)).candidates[0].key == "wanted"

def test_traditional_characters_match_their_simplified_entry(index):
    result = index.search(Query("最低生活保障對象", items=["姓名", "身份證號"]))
    assert result.candidates[0].key == "ent-2"


def test_field_list_alone_finds_the_entry(index):
    result = index.search(Query(items=["统一社会信用代码", "法定代表人", "登记状态"]))
    assert result.candidates[0].key == "ent-1"


def test_matched_demand_is_marked_matched(index):
    result = index.search(Query("企业登记信息"))
    assert (result.status, result.unmet_reason) == ("matched", None)


def test_demand_without_entry_is_unmet_with_no_entry(index):
    result = index.search(Query("出入境证件签发记录", items=["护照号码", "签发日期"]))
    assert (result.status, result.unmet_reason) == ("unmet", "no_entry")


@pytest.mark.parametrize("title", ["低保家庭收入核对", "养老机构护理员培训"])
def test_unmet_demand_names_the_likely_provider(index, title):
    result = index.search(Query(title))
    assert (result.unmet_reason, result.likely_provider) == ("no_entry", "民政局")


@pytest.mark.parametrize("status, reason", [
    ({"mounted": False}, "not_mounted"),
    ({"stale": True}, "stale"),
    ({"sharing": "not_shared"}, "not_shared"),
    ({"refused": True}, "refused"),
])
def test_blocked_entry_gives_its_root_cause(status, reason):
    from dataclasses import replace

    from .matching_fixtures import CATALOG
    records = [replace(r, **status) if r.key == "ent-1" else r for r in CATALOG]
    result = fresh_index(records).search(Query("企业登记信息"))
    assert (result.status, result.unmet_reason, result.blocking_keys) == (
        "unmet", reason, ("ent-1",))


def test_candidate_scores_are_confidences_between_zero_and_one(index):
    scores = [c.score for c in index.search(Query("企业信息")).candidates]
    assert scores and all(0.0 <= s <= 1.0 for s in scores)


def test_result_serialises_to_json(index):
    result = index.search(Query("企业登记信息", items=["身份证号", "企业名称"]))
    payload = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert payload["candidates"][0]["explanation"][1]["kind"] == "exact"


def test_top_k_limits_the_candidates(index):
    assert len(index.search(Query("信息 名单 企业 机构"), top_k=2).candidates) <= 2


@pytest.mark.parametrize("demand, short_form", [("劳动模范名单", "劳模"), ("公共厕所位置", "公厕")])
def test_four_character_word_credits_titles_using_its_short_form(demand, short_form):
    index = fresh_index([Record("a", f"市级{short_form}信息"), Record("b", f"省级{short_form}信息"),
                         Record("c", f"{demand[:2]}合同备案"), *CATALOG])
    found = dict(index.candidate_features(Query(demand)))
    assert found["a"][FEATURES.index("title_coverage")] > 0
