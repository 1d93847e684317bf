"""Bad input gets a MatchingError with a stable code, never a crash or a hang."""

from __future__ import annotations

import pytest

from matching import CatalogIndex, MatchingError, Query, Record, Synonyms


@pytest.mark.parametrize("query, code", [
    (Query(), "empty_query"),
    (Query("   "), "empty_query"),
    (Query("，。！？……——"), "empty_query"),
    (Query("企业" * 5000), "query_too_long"),
    (Query(items=[f"字段{i}" for i in range(10_000)]), "too_many_items"),
    (Query(items=["名" * 500]), "query_too_long"),
    (Query(items=["，，", "。", "  "]), "empty_query"),
    (Query("信息数据清单"), "empty_query"),      # boilerplate words only
    (Query("😀🎉"), "empty_query"),
])
def test_bad_demand_raises_its_stable_code(index, query, code):
    with pytest.raises(MatchingError) as raised:
        index.search(query)
    assert raised.value.code == code


@pytest.mark.parametrize("text", ["企业ABC登記 info 2023", "ｅｎｔｅｒｐｒｉｓｅ 企业", "统一社会信用代码😀",
                                  "\x00企业\u200b登记\t信息"])
def test_mixed_scripts_get_an_answer(index, text):
    assert index.search(Query(text)).status in {"matched", "unmet"}


@pytest.mark.parametrize("kwargs, code", [
    ({"key": "", "title": "x"}, "invalid_record"),
    ({"key": "k", "title": "x", "sharing": "sometimes"}, "invalid_record"),
])
def test_malformed_record_raises_invalid_record(kwargs, code):
    with pytest.raises(MatchingError) as raised:
        Record(**kwargs)
    assert raised.value.code == code


def test_duplicate_keys_in_one_build_raise_duplicate_key():
    with pytest.raises(MatchingError) as raised:
        CatalogIndex.build([Record("a", "x"), Record("a", "y")])
    assert raised.value.code == "duplicate_key"


@pytest.mark.parametrize("groups, kind", [([["only-one"]], "synonym"), ([["a", "b"]], "nickname")])
def test_malformed_synonyms_raise_invalid_synonyms(groups, kind):
    with pytest.raises(MatchingError) as raised:
        Synonyms.from_groups(groups, kind=kind)
    assert raised.value.code == "invalid_synonyms"


def test_error_serialises_with_code_and_message(index):
    with pytest.raises(MatchingError) as raised:
        index.search(Query())
    assert set(raised.value.to_dict()) == {"code", "message", "details"}


@pytest.mark.parametrize("top_k", [0, -5, 1001, 10_000, 2.5, "10", True, None])
def test_top_k_outside_one_to_the_limit_raises_invalid_top_k(index, top_k):
    with pytest.raises(MatchingError) as raised:
        index.search(Query("企业登记"), top_k=top_k)
    assert raised.value.code == "invalid_top_k" and raised.value.details["field"] == "top_k"


def test_largest_allowed_demand_gets_an_answer(index):
    items = [f"{chr(0x4E00 + i)}项" * 50 for i in range(300)]  # 300 items of 100 characters
    assert index.search(Query("企业" * 2000, "登记" * 2000, items)).status in {"matched", "unmet"}


@pytest.mark.parametrize("query", [Query(), Query("企业" * 5000), Query(items=["x"] * 10_000)])
def test_error_message_reads_chinese_first(index, query):
    with pytest.raises(MatchingError) as raised:
        index.search(query)
    assert "\u4e00" <= raised.value.message[0] <= "\u9fff"
