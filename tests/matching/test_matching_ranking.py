"""Lexical evidence, features and the fitted confidence."""

from __future__ import annotations

import pytest

from matching import MatchConfig, Query, Synonyms
from matching.analysis import Analyzer
from matching.lexical import BigramBM25
from matching.scoring import FEATURES

from .matching_fixtures import fresh_index


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
