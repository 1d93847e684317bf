"""The matcher on a slice of the real catalog (skipped when the data is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matching import CatalogIndex, Query, Record

DATA = Path(__file__).parents[3] / "shared" / "data" / "catalog_real.csv"
PORTAL = "cnpds:zhejiang_taizhou"


@pytest.fixture(scope="module")
def portal_index() -> CatalogIndex:
    if not DATA.exists():
        pytest.skip(f"real catalog not found at ../shared/data ({DATA.name})")
    with open(DATA, newline="", encoding="utf-8") as handle:
        rows = [(n, r) for n, r in enumerate(csv.DictReader(handle)) if r["source"] == PORTAL]
    return CatalogIndex.build(Record(f"row-{n}", r["resource_name"], r["summary"], r["items"],
                                     r["department"]) for n, r in rows)


@pytest.mark.parametrize("query, title_part", [
    (Query("公交车实时位置", items=["车牌", "经度", "纬度"]), "公交车车辆时间位置"),
    (Query("河道水情", items=["测站编码", "水位"]), "河道水情"),
    (Query("行政執法證件"), "行政执法证件"),
])
def test_real_demand_finds_its_entry_in_the_top_three(portal_index, query, title_part):
    titles = [c.title for c in portal_index.search(query, top_k=3).candidates]
    assert any(title_part in t for t in titles)


def test_feedback_brings_the_neighbours_of_the_best_answers_into_the_top_ten(portal_index,
                                                                              monkeypatch):
    """A bare field list of reservoir readings: other water-regime entries (河道水情, 闸坝水情)
    join the reservoir ones, ahead of rainfall entries that share only 时间 with it."""
    query = Query(items=["测站编码", "时间", "库上水位", "入库流量", "蓄水量"])
    with_feedback = portal_index.search(query).candidates
    monkeypatch.setattr(portal_index, "config", portal_index.config.replace(feedback_weight=0.0))
    without = portal_index.search(query).candidates
    assert (sum("水情" in c.title for c in with_feedback)
            > sum("水情" in c.title for c in without) >= 3)


def test_real_demand_without_answer_is_unmet(portal_index):
    result = portal_index.search(Query("婚姻登记信息", items=["男方姓名", "女方姓名", "登记日期"]))
    assert result.unmet_reason == "no_entry"


def test_importing_matching_loads_no_heavy_or_forbidden_module():
    import subprocess
    import sys
    code = ("import sys, matching; bad = [m for m in ('sqlalchemy', 'flask', 'catalog', "
            "'exchange', 'jieba', 'opencc') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
