"""Browser tests: a live server on a real database of its own, driven by Debian's Chromium.

The usual tests run inside a transaction rolled back at their end, which a server thread with its
own connections cannot see.  So every browser test gets a freshly migrated database of its own
(``own_database_url``) and a server
(werkzeug, threaded, on a free port of 127.0.0.1) whose app owns its engine, exactly as
``exchange serve`` runs.  Data is set up through the services in committed transactions.

Screenshots are saved under ``EXCHANGE_TEST_ARTIFACTS`` (default: a folder in pytest's temporary
directory).  Without Chromium or the playwright package the tests skip, saying why (and fail under
``EXCHANGE_NO_SKIP``).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from catalog.actors import SYSTEM
from catalog.codes import make_uscc
from catalog.db import session_scope
from catalog.services import DepartmentData, create_department
from exchange import create_app
from exchange.accounts.services import create_user

PASSWORD = "password-123"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# -- a database of the browser tests' own: ``own_database_url`` of tests/conftest.py -------------


@pytest.fixture
def browser_db_url(own_database_url) -> str:
    return own_database_url


# -- the live server ----------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: object
    storage: Path

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.app.extensions["exchange"].sessions

    def session(self):
        """A committed unit of work on the server's database (to set up or check data)."""
        return session_scope(self.sessions)


@pytest.fixture
def live_server(browser_db_url, tmp_path) -> Iterator[LiveServer]:
    storage = tmp_path / "files"
    app = create_app({"database_url": browser_db_url, "storage_dir": str(storage),
                      "secret_key": "browser-tests"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, storage=storage)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["exchange"].engine.dispose()


@dataclass
class People:
    department: object
    other_department: object


@pytest.fixture
def people(live_server) -> People:
    """Two departments and a user of every role (password ``password-123``):
    ``tongji`` (provider of 台州市统计局), ``jiaotong`` (provider of 台州市交通运输局),
    ``xuqiu`` (requester), ``bureau`` and ``admin``."""
    with live_server.session() as s:
        stats = create_department(s, actor=SYSTEM, data=DepartmentData(
            name="台州市统计局", code=make_uscc("331000", 101), level="市", region_code="331000"))
        transport = create_department(s, actor=SYSTEM, data=DepartmentData(
            name="台州市交通运输局", code=make_uscc("331000", 102), level="市", region_code="331000"))
        for username, role, dept in (("tongji", "provider", stats), ("jiaotong", "provider", transport),
                                     ("xuqiu", "requester", transport), ("bureau", "bureau", None),
                                     ("admin", "admin", None)):
            create_user(s, actor=SYSTEM, username=username, password=PASSWORD, role=role,
                        department=dept.id if dept else None)
        return People(department=stats, other_department=transport)


# -- the browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", accept_downloads=True,
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where screenshots go: EXCHANGE_TEST_ARTIFACTS, or a folder in pytest's temporary directory."""
    configured = os.environ.get("EXCHANGE_TEST_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(page, artifacts):
    """Save a full-page screenshot of what the browser shows now, named for the page."""

    def take(name: str) -> Path:
        path = artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    page.wait_for_load_state("load")  # the stylesheet applied before a test reads the layout
