"""Background tasks: kept in the serving process's memory, seen only by their owner, bounded by
``KEEP`` (finished ones forgotten first), and failing with a message and nothing written."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from catalog import services as catalog
from catalog.actors import SYSTEM
from catalog.errors import ValidationError
from catalog.models import Department
from exchange import create_app
from exchange.web import tasks as tasks_module
from exchange.web.tasks import Task, Tasks, tasks


def finished(name: str) -> Task:
    return Task(id=name, owner_id=1, title=name, state="done")


def test_past_keep_the_oldest_finished_tasks_are_forgotten_and_running_ones_kept(monkeypatch):
    monkeypatch.setattr(tasks_module, "KEEP", 2)
    kept = Tasks()
    kept.remember(Task(id="running", owner_id=1, title="running"))
    for name in ("first", "second", "third"):
        kept.remember(finished(name))
    assert [name for name in ("running", "first", "second", "third") if kept.get(name)] == ["running", "second", "third"]


def test_a_task_ending_in_a_domain_error_writes_nothing_and_says_why(app, session):
    heard = []

    def work(session, progress):
        catalog.create_department(session, actor=SYSTEM, data=catalog.DepartmentData(name="半途部门"))
        session.flush()
        raise ValidationError("第 3 行：共享条件必填")

    with app.test_request_context():
        task = tasks().start(owner_id=1, title="导入目录", work=work, on_error=lambda t, exc: heard.append(exc.message))
    assert (task.state, task.message, task.percent) == ("failed", "第 3 行：共享条件必填", 100)
    assert heard == ["第 3 行：共享条件必填"]
    assert session.scalar(select(func.count()).select_from(Department).where(Department.name == "半途部门")) == 0


def test_an_unexpected_error_fails_the_task_and_is_logged_without_internals(app, caplog):
    def work(session, progress):
        progress("写入", 1, 2)
        raise RuntimeError("连接串 postgresql://secret@db")

    with app.test_request_context():
        task = tasks().start(owner_id=1, title="导入目录", work=work)
    assert (task.state, task.message) == ("failed", "服务器内部错误，已记录")
    assert "secret" not in task.message and "连接串 postgresql://secret@db" in caplog.text


@pytest.fixture
def served(database_url, tmp_path):
    """An app that owns its engine, as ``exchange serve`` runs: tasks go to a thread."""
    app = create_app({"database_url": database_url, "storage_dir": str(tmp_path / "files"), "TESTING": True})
    yield app
    app.extensions["exchange"].engine.dispose()


def test_a_served_app_runs_a_task_in_a_thread_of_its_own_with_its_own_session(served):
    release, seen = threading.Event(), {}

    def work(session, progress):
        seen["thread"] = threading.current_thread().name
        progress("读取", 0, 1)
        release.wait(60)
        return {"one": session.scalar(select(1))}

    with served.test_request_context():
        task = tasks().start(owner_id=7, title="读取", work=work)
        assert task.state == "running"  # the request did not wait for it
        [thread] = [t for t in threading.enumerate() if t.name == f"task-{task.id[:8]}"]
        release.set()
    thread.join(60)
    assert (task.state, task.result, seen["thread"]) == ("done", {"one": 1}, f"task-{task.id[:8]}")
