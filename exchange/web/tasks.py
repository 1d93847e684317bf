"""Long operations with progress: run in a background thread, polled by the page.

A task runs a function ``work(session, progress)`` in its own database session (committed when
it returns, rolled back when it raises).  ``progress(stage, done, total)`` updates what
``GET /tasks/<id>.json`` reports; the page at ``/tasks/<id>`` shows a bar and reloads when the task
ends.  Only the user who started a task sees it (anyone else gets a 404, running or finished).

Tasks live in the memory of the serving process that started them: the last ``KEEP`` finished ones
are remembered (the oldest finished are forgotten first; running ones never), and a restart forgets
them all.  With several worker processes (gunicorn) a task's page is found only by the worker that
started it, so run a single worker or route each user to one worker (sticky sessions); what a task
writes (imports, job runs) is in the database either way.  An app given a session factory (tests
bound to one connection) runs tasks inline, in the request's own session, the same way.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from functools import partial
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, jsonify, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from catalog.db import session_scope
from catalog.errors import CatalogError

from ..app import db, runtime
from .i18n import N_

bp = Blueprint("tasks", __name__)
log = logging.getLogger(__name__)
KEEP = 200  # finished tasks remembered per process


@dataclass
class Task:
    id: str
    owner_id: int
    title: str
    subject: str = ""  # what the task works on, shown after the title as it is (a job's name)
    stage: str = ""
    done: int = 0
    total: int = 0
    state: str = "running"  # running, done, failed
    message: str = ""
    detail: str = ""  # shown under a failure's message as it is (a job's error)
    result: dict = field(default_factory=dict)
    next_url: str | None = None  # where the page goes when the task ends well
    links: list[tuple[str, str, dict]] = field(default_factory=list)  # (label, endpoint, arguments)
    problems: list[dict] = field(default_factory=list)  # the first problems of a failed import

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    @property
    def percent(self) -> int:
        if self.state != "running":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "stage": self.stage, "done": self.done,
                "total": self.total, "percent": self.percent, "state": self.state, "message": self.message}


Work = Callable[..., dict]
Failed = Callable[[Task, CatalogError], None]


class Tasks:
    def __init__(self):
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def start(self, *, owner_id: int, title: str, work: Work, on_error: Failed | None = None,
              next_url: str | None = None, subject: str = "", links: list | None = None) -> Task:
        task = Task(id=uuid.uuid4().hex, owner_id=owner_id, title=title, next_url=next_url, subject=subject,
                    links=list(links or []))
        self.remember(task)
        rt = runtime()
        if rt.engine is None:  # tests: the session factory is bound to the test's connection
            _run(task, _request_scope, work, on_error)
        else:
            app = current_app._get_current_object()
            scope = partial(session_scope, rt.sessions)
            threading.Thread(target=_in_app, args=(app, task, scope, work, on_error),
                             name=f"task-{task.id[:8]}", daemon=True).start()
        return task

    def remember(self, task: Task) -> None:
        """Keep ``task``; past ``KEEP`` finished tasks, forget the oldest finished ones."""
        with self._lock:
            self._tasks[task.id] = task
            finished = [key for key, kept in self._tasks.items() if kept.state != "running"]
            for old in finished[:max(0, len(finished) - KEEP)]:
                del self._tasks[old]

    def get(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)


@contextmanager
def _request_scope():
    """The request's own session as a unit of work (commit on success, roll back on error)."""
    try:
        yield db()
        db().commit()
    except BaseException:
        db().rollback()
        raise


def _in_app(app, task, scope, work, on_error) -> None:
    with app.app_context():
        _run(task, scope, work, on_error)


def _run(task: Task, scope, work: Work, on_error: Failed | None) -> None:
    try:
        with scope() as session:
            task.result = work(session, task.progress) or {}
        task.state = "done"
    except CatalogError as exc:
        if on_error is not None:  # before the state changes: the page shows all of it at once
            on_error(task, exc)
        task.message, task.state = exc.message, "failed"
    except Exception:  # noqa: BLE001 — the page says it failed; the log keeps the details
        log.exception("task %s (%s) failed", task.id, task.title)
        task.state, task.message = "failed", N_("服务器内部错误，已记录")


def tasks() -> Tasks:
    return current_app.extensions["exchange_tasks"]


def own_task(task_id: str) -> Task:
    task = tasks().get(task_id)
    if task is None or task.owner_id != current_user.user.id:
        abort(404)
    return task


@bp.route("/tasks/<task_id>.json")
@login_required
def task_status(task_id: str):
    task = own_task(task_id)
    return jsonify({**task.as_dict(), "stage": _(task.stage) if task.stage else ""})


@bp.route("/tasks/<task_id>")
@login_required
def task_page(task_id: str):
    return render_template("tasks/progress.html", task=own_task(task_id))
