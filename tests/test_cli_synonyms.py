"""``exchange synonyms`` and ``exchange jobs run rematch`` on a database of their own."""

from __future__ import annotations

import pandas as pd

from .conftest import SHARED_DATA
from .test_cli import count, db, failed, fresh, ok, run, shared  # noqa: F401 - fixtures

CATALOG = SHARED_DATA / "templates" / "catalog_sample.csv"
DEMANDS = SHARED_DATA / "templates" / "demands_sample.csv"


def test_add_list_and_remove_a_group(db):
    assert "已添加" in ok("synonyms", "add", "车辆识别代号", "车辆识别代码", "--kind", "abbreviation", "--note", "交管")
    listed = ok("synonyms", "list", "-q", "识别")
    assert "车辆识别代号|车辆识别代码" in listed and "简称" in listed
    ok("synonyms", "remove", "车辆识别代号", "车辆识别代码")
    assert count(db, "SELECT count(*) FROM synonyms") == 0
    assert count(db, "SELECT count(*) FROM audit_events WHERE object_type = 'synonym'") == 2


def test_a_bad_group_is_one_clear_line(db):
    stderr = failed(run("synonyms", "add", "学号", "。。。"))
    assert "同义词组不符合要求" in stderr and "只有标点" in stderr
    stderr = failed(run("synonyms", "remove", "甲", "乙"))
    assert "没有这组同义词" in stderr


def test_import_is_all_or_nothing_and_export_round_trips(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("词条,类型\n学号|学籍号,简称\n学号,\n", encoding="utf-8")
    stderr = failed(run("synonyms", "import", bad))
    assert "第3行" in stderr and "“词条”列" in stderr
    assert count(db, "SELECT count(*) FROM synonyms") == 0
    good = tmp_path / "good.csv"
    good.write_text("词条,类型,备注\n学号|学籍号,简称,教育\n出生日期|生日,,\n", encoding="utf-8")
    assert "新增 2" in ok("synonyms", "import", good)
    target = tmp_path / "out.xlsx"
    ok("synonyms", "export", target)
    frame = pd.read_excel(target, dtype=str, engine="calamine").fillna("")
    assert sorted(frame["词条"]) == ["出生日期|生日", "学号|学籍号"]
    assert "未变 2" in ok("synonyms", "import", target)


def test_the_rematch_job_runs_from_the_command_line(db):
    ok("catalog", "import", shared(CATALOG), "--create-departments", "--status", "published")
    ok("demands", "import", shared(DEMANDS), "--create-departments")
    first = ok("jobs", "run", "rematch")
    assert "changed_entries all" in first and "rematched 3" in first
    again = ok("jobs", "run", "rematch")
    assert "changed_entries 0" in again and "rematched 0" in again
    assert "rematch" in ok("jobs", "list")
