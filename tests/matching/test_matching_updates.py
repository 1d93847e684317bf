"""Incremental updates change results without a rebuild."""

from __future__ import annotations

from matching import Query, Record

from .matching_fixtures import fresh_index


def test_upserted_record_becomes_findable():
    index = fresh_index()
    index.upsert([Record("new-1", "网吧经营单位信息", "", ["网吧名称", "地址"], "文化局")])
    assert index.search(Query("网吧名单")).candidates[0].key == "new-1"


def test_upsert_replaces_a_record_with_the_same_key():
    index = fresh_index()
    index.upsert([Record("ent-1", "古树名木清单", "", ["树种", "树龄"], "林业局")])
    keys = [c.key for c in index.search(Query("企业登记信息")).candidates]
    assert index.search(Query("古树名木")).candidates[0].key == "ent-1" and "ent-1" not in keys[:1]


def test_removed_record_is_no_longer_offered():
    index = fresh_index()
    assert index.remove(["ent-3"]) == 1
    assert "ent-3" not in [c.key for c in index.search(Query("公共停车场")).candidates]


def test_removing_an_unknown_key_counts_nothing():
    assert fresh_index().remove(["nope"]) == 0


def test_upsert_updates_status_used_for_the_verdict():
    index = fresh_index()
    record = index.get("ent-1")
    from dataclasses import replace
    index.upsert([replace(record, mounted=False)])
    assert index.search(Query("企业登记信息")).unmet_reason == "not_mounted"
