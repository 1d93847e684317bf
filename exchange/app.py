"""The application factory: settings, database, API, error handling.  Nothing connects at import."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field

from flask import Flask, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_engine, make_session_factory
from catalog.search import TextIndex

from .config import Settings
from .deadlines import Deadlines
from .demands.matching import MatchEngine
from .notifications.services import Channels
from .workdays import WorkCalendar


@dataclass
class Runtime:
    """What the running app shares between requests: settings, engine, sessions and the clock."""

    settings: Settings
    engine: Engine | None
    sessions: sessionmaker[Session]
    text_index: TextIndex = field(default_factory=TextIndex)
    deadlines: Deadlines | None = None
    channels: Channels = field(default_factory=Channels)
    matcher: MatchEngine = field(default_factory=lambda: MatchEngine(background=True))

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def create_app(overrides: dict | None = None, *, session_factory: sessionmaker | None = None) -> Flask:
    """Build the app.  ``overrides`` sets settings by field name (``database_url``, …) or Flask
    config keys (upper case); tests pass ``session_factory`` bound to their own transaction."""
    overrides = dict(overrides or {})
    flask_config = {k: overrides.pop(k) for k in list(overrides) if k.isupper()}
    settings = Settings.from_env(**overrides)
    logging.basicConfig(level=settings.log_level.upper())

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_upload_mb << 20,
        JSON_SORT_KEYS=False,
        **flask_config,
    )
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
    deadlines = Deadlines(WorkCalendar.from_settings(settings))
    channels = Channels(smtp_url=settings.smtp_url, webhook_url=settings.webhook_url)
    app.extensions["exchange"] = Runtime(settings=settings, engine=engine, sessions=session_factory,
                                         deadlines=deadlines, channels=channels)

    from .api import init_api
    from .audit.capture import audit_flushes

    audit_flushes()

    init_api(app)
    app.teardown_appcontext(_close_session)
    from .web import init_web

    init_web(app)
    return app


def runtime(app: Flask | None = None) -> Runtime:
    from flask import current_app

    return (app or current_app).extensions["exchange"]


def db() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = runtime().sessions()
        if has_request_context():  # the audit trail's "from where"
            g.db_session.info["client"] = request.remote_addr or ""
    return g.db_session


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
