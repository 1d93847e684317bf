"""The web pages: server-rendered (Jinja) over the same services as the REST API.

Login sessions (Flask-Login), CSRF on every form (Flask-WTF; the token-authenticated API under
``/api/v1`` is exempt), Chinese first with English available (Flask-Babel), role-based navigation,
and error pages in the user's language.  Pages hold no logic and run no queries of their own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from .. import app as platform
from .auth import WebUser, load_user
from .tasks import Tasks

HERE = Path(__file__).resolve().parent
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"
API_PREFIX = "/api/"

csrf = CSRFProtect()
login_manager = LoginManager()


def init_web(app: Flask) -> None:
    settings = platform.runtime(app).settings
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, for pages only
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the login
    app.config.setdefault("REMEMBER_COOKIE_DURATION", dt.timedelta(days=14))
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SECURE", settings.secure_cookies)  # EXCHANGE_SECURE_COOKIES: HTTPS only
    # Flask has defaults of its own for these (so setdefault would keep them): set them outright
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.secure_cookies)
    app.config["EXCHANGE_IDLE"] = dt.timedelta(minutes=settings.session_minutes)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(HERE / "translations"))
    app.extensions["exchange_tasks"] = Tasks()

    csrf.init_app(app)
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT_LOCALE,
          default_timezone=settings.timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why, itself
    login_manager.user_loader(load_user)

    from . import admin, auth, bureau, errors, filters, home, provider, requester, tasks, vocabulary, exemptions

    app.register_blueprint(Blueprint("web", __name__, template_folder="templates", static_folder="static",
                                     static_url_path="/assets"))  # the pages' templates and assets
    for module in (auth, home, tasks, provider, admin, requester, bureau, vocabulary, exemptions):
        app.register_blueprint(module.bp)
    app.before_request(_guard)
    app.context_processor(_layout_context)
    errors.init_errors(app)
    filters.init_filters(app)
    app.add_url_rule("/", "index", lambda: redirect(url_for("home.index")))


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def select_locale() -> str:
    """The language the user chose (kept in the session and a cookie); Chinese otherwise."""
    lang = session.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LOCALE


def _guard():
    """Pages only: CSRF on every form post, and the idle limit of a login."""
    if is_api_request() or request.endpoint == "web.static":
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    from .auth import enforce_idle_limit

    return enforce_idle_limit()


def _layout_context() -> dict:
    from .nav import navigation

    user = current_user if current_user.is_authenticated else None
    return {"nav": navigation(user) if isinstance(user, WebUser) else [], "languages": LANGUAGES,
            "me": user, "locale": select_locale()}
