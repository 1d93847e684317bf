"""Normalisation and synonyms."""

from __future__ import annotations

import pytest

from matching import MatchConfig, Synonyms
from matching.normalize import Normalizer


@pytest.mark.parametrize("raw, folded", [
    ("公共停車場", "公共停车场"),
    ("ＡＢＣ１２３", "abc123"),
    ("企业（名称）、地址", "企业 名称 地址"),
    ("  多   空格 ", "多 空格"),
])
def test_text_is_folded_to_one_surface_form(raw, folded):
    assert Normalizer(MatchConfig()).text(raw) == folded


def test_title_drops_years_and_the_department_prefix():
    normalizer = Normalizer(MatchConfig())
    assert normalizer.title("市民政局2023年低保名单", "市民政局") == "低保名单"


def test_pairs_sharing_a_term_join_one_group():
    synonyms = Synonyms.from_pairs([("公民身份号码", "身份证号"), ("身份证号", "身份证")])
    assert synonyms.lookup("身份证") == ("公民身份号码", "synonym")


def test_groups_of_two_tables_merge_keeping_the_first_canonical():
    merged = Synonyms.from_groups([["社会保险", "社保"]], kind="abbreviation").merged(
        Synonyms.from_groups([["社保", "社险"]]))
    assert merged.lookup("社险")[0] == "社会保险"


def test_default_table_knows_common_abbreviations():
    assert Synonyms.default().lookup("低保") == ("最低生活保障", "abbreviation")


def test_unknown_term_is_its_own_canonical():
    assert Synonyms.default().lookup("古树名木") == ("古树名木", None)


def test_groups_round_trip_through_plain_data():
    synonyms = Synonyms.default()
    assert Synonyms(synonyms.groups()) == synonyms
