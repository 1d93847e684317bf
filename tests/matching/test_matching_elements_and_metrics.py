"""Data-element suggestions, blocking entries and evaluation metrics."""

from __future__ import annotations

from dataclasses import replace

import pytest

from matching import Query, blocking_entries, suggest_elements
from matching.evaluation import Outcome, ndcg_at, recall_at, reciprocal_rank, summarise

from .matching_fixtures import CATALOG, ELEMENTS, fresh_index


@pytest.mark.parametrize("item, expected", [
    ("身份证号", "公民身份号码"),
    ("统一信用代码", "统一社会信用代码"),
    ("法人代表姓名", "法定代表人姓名"),
    ("联系电话", "联系电话"),
])
def test_item_is_offered_its_standard_element_first(index, item, expected):
    assert index.suggest_elements(item)[0].name == expected


def test_one_off_suggestions_need_no_index():
    assert suggest_elements("手机号码", ELEMENTS)[0].name == "联系电话"


def test_entries_blocking_most_demands_rank_first():
    records = [replace(r, mounted=False) if r.key in {"ent-1", "ent-3"} else r for r in CATALOG]
    index = fresh_index(records)
    results = [index.search(Query(t)) for t in ("企业登记信息", "企业登记", "公共停车场")]
    ranked = blocking_entries(results)
    assert [(b.key, b.reason, b.demands) for b in ranked][:2] == [
        ("ent-1", "not_mounted", 2), ("ent-3", "not_mounted", 1)]


@pytest.mark.parametrize("ranked, value", [
    (["a", "b", "c"], 1.0),
    (["c", "b", "a"], 0.0),
])
def test_ndcg_is_one_for_the_ideal_ranking(ranked, value):
    judgments = {"a": 2, "b": 1}
    assert (ndcg_at(ranked, judgments) == 1.0) == (value == 1.0)


def test_reciprocal_rank_counts_the_first_full_answer():
    assert reciprocal_rank(["x", "b", "a"], {"a": 2, "b": 1}) == pytest.approx(1 / 3)


def test_recall_is_capped_at_k():
    assert recall_at(["a"], {k: 2 for k in "abcdefghijkl"}, k=1) == 1.0


def test_summary_separates_unmet_recognition_from_false_unmet():
    scores = summarise([Outcome({}, [], True), Outcome({"a": 2}, ["a"], False),
                        Outcome({"a": 2}, ["a"], True)])
    assert (scores.unmet_recognised, scores.false_unmet) == (1.0, 0.5)
