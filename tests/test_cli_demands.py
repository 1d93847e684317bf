"""The demand, matching and notification commands, on a database of their own."""

from __future__ import annotations

import pandas as pd

from .conftest import SHARED_DATA
from .test_cli import count, db, failed, fresh, ok, run, shared  # noqa: F401 - fixtures

CATALOG = SHARED_DATA / "templates" / "catalog_sample.csv"
DEMANDS = SHARED_DATA / "templates" / "demands_sample.csv"


def loaded(db) -> None:
    ok("catalog", "import", shared(CATALOG), "--create-departments")
    ok("demands", "import", shared(DEMANDS), "--create-departments")


def test_a_campaign_sheet_is_filed_submitted_and_matched(db):
    loaded(db)
    assert count(db, "SELECT count(*) FROM demands WHERE status = 'submitted'") == 3
    assert count(db, "SELECT count(*) FROM demands WHERE diagnosis IS NOT NULL") == 3
    assert count(db, "SELECT count(*) FROM demand_matches") > 0


def test_a_campaign_sheet_with_an_unknown_department_writes_nothing(db):
    stderr = failed(run("demands", "import", shared(DEMANDS)))
    assert "需求部门" in stderr and "第2行" in stderr
    assert count(db, "SELECT count(*) FROM demands") == 0


def test_match_export_lists_every_demand_with_its_candidates(db, tmp_path):
    loaded(db)
    target = tmp_path / "matches.csv"
    ok("match", "export", target, "--top", "3")
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["demand_ref", "rank", "resource_code", "resource_name", "provider", "score",
                                   "status", "unmet_reason", "explanation"]
    assert set(frame["demand_ref"]) == {"XQ-2023-001", "XQ-2023-002", "XQ-2023-003"}
    assert frame.groupby("demand_ref").size().max() <= 3


def test_match_run_needs_all_or_one_demand(db):
    assert run("match", "run").exit_code == 2
    loaded(db)
    assert "已匹配 1 项需求" in ok("match", "run", "--demand", "XQ-2023-001")
    assert "已匹配 3 项需求" in ok("match", "run", "--all")


def test_notifications_send_reports_what_it_did(db):
    output = ok("notifications", "send")
    assert "成功" in output and "sent 0" in output and "failed 0" in output


def test_notifications_remind_reports_how_many_it_sent(db):
    loaded(db)
    output = ok("notifications", "remind")
    assert "成功" in output and "reminded 0" in output
