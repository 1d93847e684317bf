"""The home page: where each role starts, with what waits on the user."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from catalog.actors import Role

from ..app import db, runtime
from ..demands.services import DemandFilter, list_demands
from ..freshness.services import list_flags
from ..sharing.services import list_applications, list_objections
from .i18n import N_

bp = Blueprint("home", __name__)


@bp.route("/home")
@login_required
def index():
    waiting = _provider_waiting() if current_user.role is Role.PROVIDER else []
    return render_template("home.html", waiting=waiting)


def _provider_waiting() -> list[tuple[str, int, str]]:
    """(what, how many, where) for the department's open work: each a count from its list service."""
    who, now, s = current_user.actor, runtime().now(), db()
    return [
        (N_("未解决的目录问题"), list_flags(s, actor=who, now=now, state="open", page_size=1).total, "provider.flags"),
        (N_("待答复的需求"), list_demands(s, actor=who, filters=DemandFilter(status="matched"), now=now,
                                     page_size=1).total, "provider.demands"),
        (N_("待审批的共享申请"), list_applications(s, actor=who, status="pending", page_size=1).total,
         "provider.applications"),
        (N_("待答复的异议"), list_objections(s, actor=who, status="open", page_size=1).total, "provider.objections"),
    ]
