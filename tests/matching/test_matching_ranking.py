"""Lexical evidence, features and the fitted confidence."""

from __future__ import annotations

import numpy as np
import pytest

from matching import CatalogIndex, MatchConfig, Query, Record, Synonyms
from matching.analysis import Analyzer
from matching.lexical import BigramBM25
from matching.scoring import FEATURES, TitleWords, rank, rarest, subjects_in_title
from matching.vocabulary import ItemVocabulary

from .matching_fixtures import CATALOG, fresh_index


def _bm25(texts: list[set[str]]) -> BigramBM25:
    lexical = BigramBM25(MatchConfig())
    for doc, grams in enumerate(texts):
        lexical.add(grams, doc)
    lexical.freeze()
    return lexical


def test_bm25_prefers_the_entry_holding_more_of_the_demand():
    lexical = _bm25([{"停车", "车场"}, {"停车", "车位"}, {"古树", "名木"}])
    scores = lexical.scores(lexical.weights(["停车", "车场"]))
    assert scores[0] > scores[1] > scores[2] == 0


def test_bm25_prefers_the_shorter_of_two_entries_holding_the_same_bigrams():
    lexical = _bm25([{"停车", "车场"}, {"停车", "车场", "收费", "标准", "管理", "办法"}])
    scores = lexical.scores(lexical.weights(["停车", "车场"]))
    assert scores[0] > scores[1]


@pytest.mark.parametrize("title, core", [
    ("危化企业名单", "危险化学品企业"),
    ("新办在册企业名单", "新办在册企业"),
    ("公共停车场信息", "公共停车场"),
])
def test_boilerplate_tail_of_a_dictionary_word_is_dropped(title, core):
    assert Analyzer(MatchConfig(), Synonyms.default()).title(title).core == core


def test_every_candidate_gets_one_value_per_named_feature(index):
    found = index.candidate_features(Query("企业登记信息", items=["企业名称"]))
    assert found and all(len(values) == len(FEATURES) for _, values in found)


def test_config_has_one_ranker_weight_per_feature():
    assert len(MatchConfig().ranker_weights) == len(FEATURES)


def test_rare_requested_item_outweighs_common_ones():
    result = fresh_index().search(Query(items=["名称", "地址", "床位数"]))
    assert result.candidates[0].key == "ent-8"


def _vocabulary(names: list[str]) -> ItemVocabulary:
    vocabulary = ItemVocabulary(MatchConfig(attribute_tail_min_names=3))
    for doc, name in enumerate(names):
        vocabulary.add(name, doc)
    return vocabulary


@pytest.mark.parametrize("item, subject", [
    ("儿童姓名", "儿童"),        # 姓名 ends many item names: a generic attribute
    ("接种点名称", "接种点"),
    ("床位数", ""),              # 位数 ends no other name: the item is its own attribute
    ("名称", ""),                # nothing left once the attribute is taken off
])
def test_item_subject_is_the_name_without_a_generic_attribute_tail(item, subject):
    vocabulary = _vocabulary(["企业名称", "机构名称", "单位名称", "法人姓名", "户主姓名",
                              "老人姓名", "床位数"])
    assert vocabulary.subject(item) == subject


@pytest.mark.parametrize("title, share", [
    ("留守儿童花名册", 1.0),
    ("在职职工花名册", 0.0),
    ("儿童福利机构", 1.0),
])
def test_field_list_subject_is_looked_for_in_the_entry_title(title, share):
    assert subjects_in_title({"儿童": 2.0}, title) == share


def test_rare_subject_bigrams_outweigh_common_ones():
    subjects = {"人防": 3.0, "设计": 1.0, "资质": 1.0}
    assert subjects_in_title(subjects, "人防工程监理企业") > subjects_in_title(
        subjects, "交通工程企业资质证书")


def test_field_list_entry_titled_with_the_items_subject_gets_the_subject_feature():
    index = CatalogIndex.build(CATALOG, config=MatchConfig(attribute_tail_min_names=2))
    found = dict(index.candidate_features(Query(items=["停车场名称", "停车场地址"])))
    position = FEATURES.index("item_subjects_in_title")
    assert found["ent-3"][position] == 1.0
    assert all(values[position] == 0.0 for key, values in found.items() if key != "ent-3")


@pytest.mark.parametrize("title, share", [
    ("等级民宿信息", 1.0),             # holds the rarest term
    ("信用等级评定信息", 0.5),         # holds only the commoner ones
    ("古树名木信息", 0.0),
])
def test_rarest_term_share_is_the_rarest_held_over_the_rarest_asked(title, share):
    weights = {"民宿": 4.0, "等级": 2.0, "评定": 1.0}
    assert rarest(weights, lambda term: term in title) == share


def test_rarest_term_features_ignore_words_the_catalog_never_uses():
    records = [Record(key="inn", title="等级民宿信息"), Record(key="credit", title="信用等级评定信息"),
               *(Record(key=f"grade-{n}", title=f"第{n}类等级评定结果") for n in range(6))]
    index = CatalogIndex.build(records)
    # 哈哈镇 is in no title: it would otherwise be the "rarest" word and dwarf the others.
    found = dict(index.candidate_features(Query("哈哈镇民宿等级评定")))
    position = FEATURES.index("rarest_in_title")
    assert found["inn"][position] == 1.0
    assert found["credit"][position] < 1.0


def _titles(*titles: tuple[int, ...]) -> TitleWords:
    """Candidates' title words as ids, every word weighing 1."""
    ids = np.array([word for title in titles for word in title], dtype=np.int32)
    return TitleWords(ids, np.ones(len(ids)), np.array([len(t) for t in titles]))


def _evidence(*levels: float) -> list[tuple[float, ...]]:
    """Feature rows whose fitted combinations are ordered like ``levels``."""
    return [(level,) * len(FEATURES) for level in levels]


def test_feedback_raises_an_entry_like_the_best_answers_above_an_equal_unlike_one():
    rows = _evidence(1.0, 0.5, 0.5)  # the leader, then two entries of equal evidence
    titles = _titles((1, 2), (3, 4), (1, 5))  # the last shares a word with the leader
    assert [slot for _, slot in rank(rows, titles, MatchConfig(feedback_weight=0.0))] == [0, 1, 2]
    assert [slot for _, slot in rank(rows, titles, MatchConfig())] == [0, 2, 1]


def test_feedback_lifts_no_entry_above_the_most_confident_one():
    config = MatchConfig(feedback_entries=4, feedback_weight=50.0)
    # The leader is unlike the other best entries; the last is like all of them.
    rows = _evidence(1.0, 0.9, 0.9, 0.9, 0.2)
    titles = _titles((9,), (1, 2), (1, 2), (1, 2), (1, 2))
    ranked = rank(rows, titles, config)
    lead = rank(rows, titles, config.replace(feedback_weight=0.0))[0]
    assert ranked[0] == lead and ranked[0][1] == 0
    assert max(score for score, _ in ranked) == lead[0]
    raised = dict((slot, score) for score, slot in ranked)[4]
    assert raised == lead[0]  # raised up to the leader's confidence, not above it
    assert [slot for _, slot in ranked] == [0, 1, 2, 3, 4]  # ties go by the evidence

