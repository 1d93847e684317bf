"""Exemptions from a kind of flag as pages: the provider asks from its flags inbox, with a reason;
the bureau grants (with a reason and an end date) or refuses; both follow the requests here."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from catalog.actors import Role

from ..app import db, runtime
from ..freshness.exemptions import EXEMPTION_SORTS, decide_exemption, list_exemptions, request_exemption
from ..freshness.models import Flag, ExemptionStatus
from .auth import actor, roles_required
from .pages import attempt, list_args

bp = Blueprint("exemptions", __name__, url_prefix="/exemptions")
STATUSES = [(s.value, s.label) for s in ExemptionStatus]


@bp.route("")
@roles_required(Role.PROVIDER, Role.BUREAU, Role.ADMIN)
def listing():
    args = list_args(sorts=tuple(EXEMPTION_SORTS), default_sort="-id", filters=("status",))
    status = args.filters["status"] if args.filters["status"] in {s for s, _label in STATUSES} else None
    page = list_exemptions(db(), actor=actor(), now=runtime().now(), status=status, sort=args.sort, page=args.page,
                           page_size=args.page_size)
    return render_template("exemptions/list.html", page=page, args=args, statuses=STATUSES,
                           deciding=actor().oversees_all, today=runtime().now().date())


@bp.route("/flags/<int:flag_id>", methods=["POST"])
@roles_required(Role.PROVIDER)
def ask(flag_id: int):
    flag = db().get(Flag, flag_id)
    if flag is None:
        abort(404)
    attempt(lambda: request_exemption(db(), actor=actor(), entry_id=flag.entry_id, kind=flag.kind.value, reason=request.form.get("reason", ""),
                                      now=runtime().now(), channels=runtime().channels),
            done=_("已提交豁免申请，等待大数据局审核"))
    return redirect(request.referrer or url_for("provider.flags"))


@bp.route("/<int:exemption_id>/decide", methods=["POST"])
@roles_required(Role.BUREAU, Role.ADMIN)
def decide(exemption_id: int):
    form = request.form
    grant = form.get("grant") == "yes"
    lock = form.get("lock_version", "")
    attempt(lambda: decide_exemption(db(), actor=actor(), exemption_id=exemption_id, grant=grant,
                                     reason=form.get("reason", ""), lock_version=int(lock) if lock.isdigit() else -1,
                                     ends_at=_end_of(form.get("ends_at", "")) if grant else None,
                                     now=runtime().now(), channels=runtime().channels),
            done=_("已批准豁免") if grant else _("已拒绝豁免"))
    return redirect(url_for("exemptions.listing"))


def _end_of(day: str) -> dt.datetime | None:
    """The end of an ``YYYY-MM-DD`` day (UTC), or None (the service names the missing field)."""
    try:
        return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.max, tzinfo=dt.UTC)
    except ValueError:
        return None
