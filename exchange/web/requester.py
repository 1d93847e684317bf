"""Requester pages (需求方): search the catalog in plain words, file a demand with a live preview of
what already exists, follow demands with their steps, deadlines, matches and root cause, apply for
an entry, and download what was granted."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

import matching as pure
from catalog import services as catalog
from catalog.actors import Role
from catalog.errors import CatalogError, ValidationError
from catalog.vocab import SharingMethod, UpdateCycle

from ..app import db, runtime
from ..delivery import DeliveryLimits, Window
from ..demands.lookup import SEARCH_SORTS, search_catalog, submit_and_match
from ..demands.models import DemandStatus, UnmetReason
from ..demands.services import DEMAND_SORTS, DemandData, DemandFilter, act, create_demand, get_demand, history, list_demands
from ..sharing import delivery
from ..sharing.download import streamed
from ..sharing.models import ApplicationStatus
from ..sharing.services import APPLICATION_SORTS, GRANT_SORTS, apply, list_applications, list_grants
from .auth import actor, roles_required
from .i18n import N_
from .pages import attempt, blank_to_none, field_errors, list_args

bp = Blueprint("requester", __name__, url_prefix="/requester")
requester_only = roles_required(Role.REQUESTER)

PREVIEW_TOP = 5
DOWNLOAD_FORMATS = ("csv", "xlsx", "json")
BLOCKED = {r.value: r.label for r in UnmetReason}
KINDS = {"exact": N_("完全一致"), "synonym": N_("同义词"), "abbreviation": N_("简称"), "related": N_("近义"),
         "fuzzy": N_("相近"), "title": N_("见于名称"), "summary": N_("见于摘要"), "missing": N_("未找到")}


def _split_items(raw: str) -> list[str]:
    """Items typed one a line, or separated by commas, 、 or |."""
    for sep in (",", "，", "、", "|"):
        raw = raw.replace(sep, "\n")
    return [part.strip() for part in raw.splitlines() if part.strip()]


# -- search --------------------------------------------------------------------------------------


@bp.route("/search")
@requester_only
def search():
    args = list_args(sorts=SEARCH_SORTS, default_sort="rank", filters=("q", "items", "usable", "provider"))
    f, result = args.filters, None
    if f["q"] or f["items"]:
        try:
            result = search_catalog(db(), engine=runtime().matcher, text=f["q"], items=_split_items(f["items"]),
                                    now=runtime().now(), usable_only=f["usable"] == "yes",
                                    provider=f["provider"] or None, sort=args.sort, page=args.page,
                                    page_size=args.page_size)
        except pure.MatchingError as exc:
            flash(_("搜索条件有误：%(reason)s", reason=str(exc)), "error")
    return render_template("requester/search.html", args=args, result=result, blocked=BLOCKED, kinds=KINDS,
                           usable=[("yes", N_("只看可用的（已挂接、按期更新、可共享）"))])


@bp.route("/preview.json", methods=["POST"])
@requester_only
def preview_json():
    """Search-as-you-type while a demand is written: the page posts its fields with the CSRF token."""
    body = request.get_json(silent=True) or request.form
    text = " ".join(str(body.get(k) or "") for k in ("title", "description")).strip()
    items = body.get("items") or []
    items = _split_items(items) if isinstance(items, str) else [str(i) for i in items]
    if not text and not items:
        return jsonify({"candidates": [], "status": None, "unmet_reason": None})
    try:
        result = search_catalog(db(), engine=runtime().matcher, text=text, items=items, now=runtime().now(),
                                page_size=PREVIEW_TOP)
    except pure.MatchingError as exc:
        return jsonify({"error": {"code": exc.code, "message": str(exc), "details": {}}}), 422
    return jsonify({"status": result.status, "unmet_reason": result.unmet_reason,
                    "unmet_label": _blocked(result.unmet_reason),
                    "candidates": [_preview_row(hit) for hit in result.page.items]})


def _blocked(reason: str | None) -> str | None:
    """What keeps data from being usable, in the user's language."""
    label = BLOCKED.get(reason or "")
    return _(label) if label else None


def _preview_row(hit) -> dict:
    c = hit.candidate
    return {"entry_id": hit.entry.id, "title": c["title"], "provider": c["provider"], "score": c["score"],
            "resource_code": hit.entry.resource_code, "url": url_for("requester.entry", entry_id=hit.entry.id),
            "blocked_by": _blocked(c["blocked_by"]),
            "found": [m["requested"] for m in c["explanation"] if m["kind"] != "missing"],
            "missing": [m["requested"] for m in c["explanation"] if m["kind"] == "missing"]}


@bp.route("/entries/<int:entry_id>")
@requester_only
def entry(entry_id: int):
    found = catalog.get_entry(db(), actor=actor(), entry_id=entry_id)
    demands = list_demands(db(), actor=actor(), filters=DemandFilter(), now=runtime().now(), page_size=100).items
    return render_template("requester/entry.html", entry=found, demands=demands, errors={},
                           values={"demand_id": request.args.get("demand", "")})


# -- demands -------------------------------------------------------------------------------------

DEMAND_FIELDS = ("title", "description", "items", "legal_basis", "scenario", "desired_cycle", "desired_method",
                 "needed_by")
CHOICES = {"desired_cycle": [(c.label, c.label) for c in UpdateCycle],
           "desired_method": [(m.label, m.label) for m in SharingMethod]}


@bp.route("/demands")
@requester_only
def demands():
    args = list_args(sorts=tuple(DEMAND_SORTS), default_sort="-created_at", filters=("q", "status", "overdue"))
    f = args.filters
    filters = DemandFilter(status=f["status"] or None, q=f["q"] or None,
                           overdue={"yes": True, "no": False}.get(f["overdue"]))
    page = list_demands(db(), actor=actor(), filters=filters, now=runtime().now(), page=args.page,
                        page_size=args.page_size, sort=args.sort)
    return render_template("requester/demands.html", page=page, args=args, now=runtime().now(),
                           statuses=[(s.value, s.label) for s in DemandStatus],
                           overdue=[("yes", N_("已逾期")), ("no", N_("未逾期"))])


@bp.route("/demands/new", methods=["GET", "POST"])
@requester_only
def demand_new():
    values, errors = {k: request.form.get(k, "").strip() for k in DEMAND_FIELDS}, {}
    if request.method == "POST":
        created, refused = attempt(lambda: _file(values), done=None)
        if refused is None:
            flash(_("需求已提交：%(ref)s，请等待大数据局受理", ref=created.ref) if request.form.get("submit")
                  else _("已保存需求草稿：%(ref)s", ref=created.ref), "success")
            return redirect(url_for("requester.demand", demand_id=created.id))
        errors = field_errors(refused)
    return render_template("requester/demand_form.html", values=values, errors=errors, choices=CHOICES), \
        422 if errors else 200


def _file(values: dict):
    needed_by = values.get("needed_by") or ""
    try:
        needed = dt.date.fromisoformat(needed_by) if needed_by else None
    except ValueError:
        raise ValidationError("需求信息不符合要求", details={"needed_by": ["日期格式应为 YYYY-MM-DD"]}) from None
    data = DemandData(title=values["title"], description=values["description"], items=_split_items(values["items"]),
                      legal_basis=values["legal_basis"], scenario=values["scenario"],
                      desired_cycle=values["desired_cycle"], desired_method=values["desired_method"], needed_by=needed)
    demand = create_demand(db(), actor=actor(), data=data, now=runtime().now())
    if request.form.get("submit"):
        submit_and_match(db(), actor=actor(), demand_id=demand.id, engine=runtime().matcher, now=runtime().now(),
                         deadlines=runtime().deadlines, channels=runtime().channels)
    return demand


@bp.route("/demands/<int:demand_id>")
@requester_only
def demand(demand_id: int):
    found = get_demand(db(), actor=actor(), demand_id=demand_id)
    return render_template("requester/demand.html", demand=found, now=runtime().now(), blocked=BLOCKED, kinds=KINDS,
                           statuses={s.value: s.label for s in DemandStatus},
                           steps=history(db(), actor=actor(), demand_id=demand_id))


@bp.route("/demands/<int:demand_id>/<any(submit, close):action>", methods=["POST"])
@requester_only
def demand_action(demand_id: int, action: str):
    get_demand(db(), actor=actor(), demand_id=demand_id)  # another department's demand is a 404 page
    lock = request.form.get("lock_version", "")
    lock_version = int(lock) if lock.isdigit() else 0
    if action == "submit":
        attempt(lambda: submit_and_match(db(), actor=actor(), demand_id=demand_id, engine=runtime().matcher,
                                         now=runtime().now(), deadlines=runtime().deadlines,
                                         channels=runtime().channels, lock_version=lock_version),
                done=_("需求已提交，请等待大数据局受理"))
    else:
        satisfied = {"yes": True, "no": False}.get(request.form.get("satisfied", ""))
        attempt(lambda: act(db(), actor=actor(), demand_id=demand_id, action="close", now=runtime().now(),
                            deadlines=runtime().deadlines, channels=runtime().channels, lock_version=lock_version,
                            satisfied=satisfied, feedback=blank_to_none(request.form.get("feedback"))),
                done=_("需求已关闭，感谢反馈"))
    return redirect(url_for("requester.demand", demand_id=demand_id))


# -- applications and grants ---------------------------------------------------------------------


@bp.route("/entries/<int:entry_id>/apply", methods=["POST"])
@requester_only
def entry_apply(entry_id: int):
    demand_id = request.form.get("demand_id", "")
    try:
        made = apply(db(), actor=actor(), entry_id=entry_id, purpose=request.form.get("purpose", ""),
                     items=request.form.getlist("items"), now=runtime().now(), deadlines=runtime().deadlines,
                     demand_id=int(demand_id) if demand_id.isdigit() else None, channels=runtime().channels)
        db().commit()
    except CatalogError as exc:
        db().rollback()
        found = catalog.get_entry(db(), actor=actor(), entry_id=entry_id)
        demands = list_demands(db(), actor=actor(), filters=DemandFilter(), now=runtime().now(), page_size=100).items
        flash(_(exc.message), "error")
        return render_template("requester/entry.html", entry=found, demands=demands, values=request.form,
                               errors=field_errors(exc)), exc.status
    flash({ApplicationStatus.GRANTED: _("已自动授权（无条件共享），可在“我的授权”中下载数据"),
           ApplicationStatus.REFUSED: _("申请未通过：%(reason)s", reason=made.reason or ""),
           }.get(made.status, _("申请已提交，等待提供方审批")), "success" if made.status is not ApplicationStatus.REFUSED
          else "warning")
    return redirect(url_for("requester.applications"))


@bp.route("/applications")
@requester_only
def applications():
    args = list_args(sorts=tuple(APPLICATION_SORTS), default_sort="-id", filters=("status",))
    page = list_applications(db(), actor=actor(), status=args.filters["status"] or None, page=args.page,
                             page_size=args.page_size, sort=args.sort)
    return render_template("requester/applications.html", page=page, args=args, now=runtime().now(),
                           statuses=[(s.value, s.label) for s in ApplicationStatus])


@bp.route("/grants")
@requester_only
def grants():
    args = list_args(sorts=tuple(GRANT_SORTS), default_sort="-id", filters=("active",))
    args.filters["active"] = request.args.get("active", "yes")
    active_at = runtime().now() if args.filters["active"] == "yes" else None
    page = list_grants(db(), actor=actor(), active_at=active_at, sort=args.sort, page=args.page,
                       page_size=args.page_size)
    return render_template("requester/grants.html", page=page, args=args, now=runtime().now(),
                           formats=DOWNLOAD_FORMATS, active=[("yes", N_("有效的")), ("all", N_("全部（含过期、吊销）"))])


@bp.route("/grants/<int:grant_id>/data")
@requester_only
def grant_data(grant_id: int):
    """The granted data, streamed by the same service as the API (another department's grant: 403 page)."""
    fmt = request.args.get("format", "csv")
    if fmt not in DOWNLOAD_FORMATS:
        raise ValidationError("不支持的格式", details={"format": list(DOWNLOAD_FORMATS)})
    settings = runtime().settings
    started = delivery.start(db(), actor=actor(), grant_id=grant_id, items=None, fmt=fmt, window=Window(0, None),
                             storage=settings.storage_path, limits=DeliveryLimits.from_settings(settings),
                             now=runtime().now())
    db().commit()
    return streamed(started, sessions=runtime().sessions)
