"""Signing in and out, the language switch, the idle limit, and who may open which page."""

from __future__ import annotations

import datetime as dt
import functools

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from catalog.actors import Actor, Role

from ..accounts.models import User
from ..accounts.services import AuthenticationFailed, check_password
from ..app import db, runtime

bp = Blueprint("auth", __name__)


class WebUser:
    """The signed-in user as Flask-Login sees it: the account and the actor services take."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User):
        self.user = user
        self.actor: Actor = user.actor
        self.role: Role = user.role

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def name(self) -> str:
        return self.user.display_name or self.user.username

    @property
    def department(self):
        return self.user.department


def load_user(user_id: str) -> WebUser | None:
    user = db().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        return None
    db().info["actor"] = user.actor  # whom the audit trail names for this request's changes
    g.actor = user.actor
    return WebUser(user)


def actor() -> Actor:
    return current_user.actor


def roles_required(*roles: Role):
    """Only these roles may open the page: others get the 403 page (and the refusal is audited)."""

    def wrap(view):
        @functools.wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if current_user.role not in roles:
                from catalog.errors import PermissionDenied

                names = "、".join(r.label for r in roles)
                raise PermissionDenied(f"只有{names}可以打开此页面")
            return view(*args, **kwargs)

        return guarded

    return wrap


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired()])
    password = PasswordField("密码", validators=[DataRequired()])
    remember = BooleanField("记住我", default=False)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = check_password(db(), username=form.username.data.strip(), password=form.password.data)
        except AuthenticationFailed:
            flash(_("用户名或密码错误"), "error")
            status = 401
        else:
            return _sign_in(user, remember=form.remember.data)
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form, next=_safe_next()), status


def _sign_in(user: User, *, remember: bool):
    session.clear()
    login_user(WebUser(user), remember=remember)
    session["remember"] = bool(remember)
    session["seen"] = runtime().now().timestamp()
    flash(_("欢迎，%(name)s", name=user.display_name or user.username), "success")
    return redirect(_safe_next() or url_for("home.index"))


def _safe_next() -> str | None:
    """Only a path on this site: never send a user elsewhere after login."""
    target = request.values.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else None


@bp.route("/logout", methods=["POST"])
def logout():
    _end_login()
    flash(_("已退出登录"), "info")
    return redirect(url_for("auth.login"))


def _end_login() -> None:
    """Sign out and forget the session, but keep the language the user chose."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/language/<lang>", methods=["POST"])
def language(lang: str):
    from . import LANGUAGES

    if lang not in LANGUAGES:
        abort(404)
    session["lang"] = lang
    target = _safe_next() or request.referrer or url_for("home.index")
    response = redirect(target if target.startswith(("/", request.host_url)) else url_for("home.index"))
    response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


# The last-seen time is rewritten at most once a minute.  Sessions live in a signed cookie, so
# every rewrite sends the whole session back; a request running beside another (a preview
# typed into a form while it is submitted) would otherwise put back the session it read and
# drop what the other just stored, such as the message the next page shows.
SEEN_RESOLUTION = 60


def enforce_idle_limit():
    """A login unused for longer than the idle limit ends; the login page says so."""
    if not current_user.is_authenticated:
        return None
    now = runtime().now().timestamp()
    seen = session.get("seen")
    limit: dt.timedelta = current_app.config["EXCHANGE_IDLE"]
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    remembered = session.get("remember") or cookie in request.cookies  # "remember me" was ticked
    if seen is not None and not remembered and now - seen > limit.total_seconds():
        _end_login()
        flash(_("登录已超时，请重新登录"), "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if seen is None or now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    return None
