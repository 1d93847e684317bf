"""Bureau pages (大数据局): the dashboard with its charts read from the daily snapshots (drill-down
lists, blocking entries, scorecards with their thresholds; a provider sees its own department), the review queues for demands and catalog
submissions, data elements, job runs with "run now", and the audit trail with its chain check."""

from __future__ import annotations

import datetime as dt
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from catalog import services as catalog
from catalog.actors import Role
from catalog.errors import CatalogError, ValidationError
from catalog.services import Page
from catalog.vocab import DepartmentLevel, EntryStatus, SharingType

from ..app import db, runtime
from ..audit import services as audit
from ..dashboards import lists, scorecards
from ..dashboards import services as dashboards
from ..dashboards.api import download
from ..dashboards.exporting import COLUMN_LABELS, FORMATS
from ..dashboards.facts import AGE_BANDS, Moment
from ..dashboards.figures import Figure
from ..demands.models import DemandStatus, UnmetReason
from ..demands.services import DEMAND_SORTS, DemandFilter, act, get_demand, history, list_demands
from ..freshness.models import FlagKind
from ..freshness.rules import FreshnessConfig
from ..freshness.services import last_runs
from ..oversight import RUN_SORTS, list_job_runs
from ..runs import JobStatus
from .auth import actor, roles_required
from .i18n import N_
from .pages import ListArgs, attempt, blank_to_none, list_args
from .tasks import tasks

bp = Blueprint("bureau", __name__, url_prefix="/bureau")
bureau_only = roles_required(Role.BUREAU, Role.ADMIN)
SUBMISSION_SORTS = ("name", "resource_code", "updated_at")


def _scheduler():
    from .. import scheduler  # the scheduler module pulls in APScheduler: only when a page needs it

    return scheduler


def _jobs() -> dict:
    return _scheduler().JOBS


# -- the dashboards (read from the daily snapshots) ----------------------------------------------

dashboard_readers = roles_required(Role.BUREAU, Role.ADMIN, Role.PROVIDER)  # the service narrows a provider
SCOPE_FILTERS = ("level", "department_id", "start", "end")
TOP_N = (5, 10, 20)
CHART_FIGURES = ("mounted_rate", "timely_rate")


def _moment() -> Moment:
    return Moment(runtime().now(), runtime().settings.timezone)


def _scope_and_period() -> tuple[dashboards.Scope, dashboards.Period, str | None]:
    """The scope and period the query string asks for; a bad filter falls back to the default and
    says why (the page answers 422)."""
    a = request.args
    department = a.get("department_id", "").strip()
    level = a.get("level", "").strip() or None
    problem = None
    try:
        start, end = _date(a.get("start"), "start"), _date(a.get("end"), "end")
        period = dashboards.period_for(db(), start=start, end=end)
        if department and not department.isdigit():
            raise ValidationError(_("部门编号应为数字"), details={"department_id": ["应为数字"]})
    except ValidationError as exc:
        problem, period, department = _(exc.message), dashboards.period_for(db()), ""
    try:
        scope = dashboards.scope_for(db(), actor(), department_id=int(department) if department else None, level=level)
    except ValidationError as exc:
        problem, scope = _(exc.message), dashboards.scope_for(db(), actor())
    return scope, period, problem


def _date(text: str | None, name: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD"), details={name: ["YYYY-MM-DD"]}) from None


def _export_format() -> str | None:
    fmt = request.args.get("format", "")
    return fmt if fmt in FORMATS else None


def _page(rows: list[dict], total: int, args: ListArgs) -> Page:
    return Page(items=rows, total=total, page=args.page, page_size=args.page_size)


def extremes(picked: list[dict], figure: str) -> dict:
    """The chart of one rate: the best and the worst departments (percent, best first)."""
    return {"departments": [r["department"] for r in picked],
            "rates": [round(r["value"] * 100, 1) for r in picked], "title": _("%(figure)s（%%）", figure=_(Figure(figure).label))}


def dashboard_view(summary: dict, ranked: dict[str, list[dict]], trend: list[dict]) -> dict:
    """The charts' data: labels translated, series in the order ECharts draws them."""
    f = summary["figures"]
    matches = ("demands", "demands_suggested", "demands_confirmed_mounted", "suggestions_confirmed",
               "suggestions_rejected", "suggestions_pending")
    return {
        "mounted": extremes(ranked["mounted_rate"], "mounted_rate"),
        "timely": extremes(ranked["timely_rate"], "timely_rate"),
        "trend": {"days": [r["day"].isoformat() for r in trend],
                  "series": [{"name": _(Figure(name).label), "data": [None if r[name] is None else round(r[name] * 100, 1)
                                                                      for r in trend]}
                             for name in ("mounted_rate", "timely_rate", "satisfaction_rate")]},
        "flags": [{"name": _(FlagKind(k).label), "value": v} for k, v in f["flags_by_kind"].items() if v],
        "ages": {"labels": [_("%(band)s 天", band=b) for b in f["flags_by_age"]], "values": list(f["flags_by_age"].values())},
        "unmet": [{"name": _(UnmetReason(k).label), "value": v} for k, v in f["unmet_by_reason"].items() if v],
        "matches": {"labels": [_(Figure(m).label) for m in matches], "values": [f[m] for m in matches]},
    }


@bp.route("/dashboard")
@dashboard_readers
def dashboard():
    scope, period, problem = _scope_and_period()
    args = list_args(sorts=tuple(dashboards.SORTABLE), default_sort="mounted_rate",
                     filters=(*SCOPE_FILTERS, "top"))
    n = int(args.filters["top"]) if args.filters["top"].isdigit() and int(args.filters["top"]) in TOP_N else TOP_N[1]
    if fmt := _export_format():
        return download(dashboards.department_rows(db(), scope=scope, period=period, sort=args.sort), fmt, _("部门统计"))
    summary = dashboards.summary(db(), scope=scope, period=period)
    rows, total = dashboards.department_page(db(), scope=scope, period=period, sort=args.sort, page=args.page,
                                             page_size=args.page_size)
    ranked = {figure: dashboards.extremes(db(), scope=scope, period=period, figure=figure, n=n)
              for figure in CHART_FIGURES}
    trend = dashboards.trend(db(), scope=scope, period=period, figures=list(TREND_CHART))
    if problem:
        flash(_("筛选条件有误：%(problem)s", problem=problem), "error")
    return render_template("bureau/dashboard.html", summary=summary, f=summary["figures"], table=_page(rows, total, args),
                           args=args, charts=dashboard_view(summary, ranked, trend), scope=scope, top_n=TOP_N, n=n,
                           levels=[(lv.value, lv.label) for lv in DepartmentLevel], oversees_all=actor().oversees_all,
                           flag_labels={k.value: k.label for k in FlagKind},
                           unmet_labels={r.value: r.label for r in UnmetReason}), 422 if problem else 200


TREND_CHART = ("mounted_rate", "timely_rate", "satisfaction_rate")


@bp.route("/dashboard/snapshot", methods=["POST"])
@bureau_only
def dashboard_snapshot():
    """Take today's snapshot now (the page says so when none exists yet)."""
    _run_job("dashboard-snapshot")
    return redirect(url_for("bureau.dashboard"))


LIST_FILTERS = ("level", "department_id", "kind", "age", "unmet_reason")


@bp.route("/dashboard/lists/<figure>")
@dashboard_readers
def dashboard_list(figure: str):
    """The rows behind one number, live, page by page (or every row as CSV/XLSX)."""
    if figure not in lists.LISTS:
        abort(404)
    scope, _period, problem = _scope_and_period()
    args = list_args(sorts=tuple(lists.SORTS[lists.LISTS[figure].kind]), default_sort="", filters=LIST_FILTERS)
    f, fmt = args.filters, _export_format()
    extra = {"flag_kind": f["kind"] if f["kind"] in {k.value for k in FlagKind} else None,
             "age": f["age"] if f["age"] in dict(AGE_BANDS) else None,
             "unmet_reason": f["unmet_reason"] if f["unmet_reason"] in {r.value for r in UnmetReason} else None}
    page = lists.drilldown(db(), figure=figure, scope=scope, moment=_moment(), page=1 if fmt else args.page,
                           page_size=None if fmt else args.page_size, sort=args.sort, **extra)
    listing = lists.LISTS[figure]
    if fmt:
        return download(page.items, fmt, _(listing.label))
    return render_template("bureau/dashboard_list.html", page=page, args=args, figure=figure, listing=listing,
                           scope=scope, labels=COLUMN_LABELS, flag_labels={k.value: k.label for k in FlagKind},
                           sortable=lists.SORTS[listing.kind],
                           unmet_labels={r.value: r.label for r in UnmetReason})


@bp.route("/dashboard/blocking")
@dashboard_readers
def blocking():
    """Unmounted or stale entries ranked by the open demands waiting on them."""
    scope, _period, _problem = _scope_and_period()
    args = list_args(sorts=lists.BLOCKING_SORTS, default_sort="", filters=("level", "department_id"))
    fmt = _export_format()
    page = lists.blocking_entries(db(), scope=scope, moment=_moment(),
                                  config=FreshnessConfig(timezone=runtime().settings.timezone),
                                  page=1 if fmt else args.page, page_size=None if fmt else args.page_size,
                                  sort=args.sort)
    if fmt:
        return download(page.items, fmt, _("阻塞需求的目录"))
    return render_template("bureau/blocking.html", page=page, args=args)


@bp.route("/dashboard/scorecards")
@dashboard_readers
def scorecards_page():
    """Red, yellow or green per department and figure; the bureau edits the thresholds here."""
    scope, period, problem = _scope_and_period()
    args = list_args(sorts=tuple(dashboards.SORTABLE), default_sort="name", filters=SCOPE_FILTERS)
    limits = scorecards.thresholds(db())
    if fmt := _export_format():
        rows = dashboards.department_rows(db(), scope=scope, period=period, sort=args.sort)
        return download([scorecards.score(r, limits) for r in rows], fmt, _("考核"))
    rows, total = dashboards.department_page(db(), scope=scope, period=period, sort=args.sort, page=args.page,
                                             page_size=args.page_size)
    table = _page([scorecards.score(r, limits) for r in rows], total, args)
    if problem:
        flash(_("筛选条件有误：%(problem)s", problem=problem), "error")
    return render_template("bureau/scorecards.html", table=table, args=args, limits=limits, period=period,
                           levels=[(lv.value, lv.label) for lv in DepartmentLevel],
                           colours=scorecards.COLOUR_LABELS, may_edit=actor().oversees_all), 422 if problem else 200


@bp.route("/dashboard/thresholds/<figure>", methods=["POST"])
@bureau_only
def threshold_edit(figure: str):
    form = request.form
    numbers = {}
    for name in ("green", "yellow", "lock_version"):
        try:
            numbers[name] = (int if name == "lock_version" else float)(form.get(name, ""))
        except ValueError:
            flash(_("阈值应为数字：%(field)s", field=name), "error")
            return redirect(url_for("bureau.scorecards_page"))
    attempt(lambda: scorecards.set_threshold(db(), actor=actor(), figure=figure, now=runtime().now(), **numbers),
            done=_("阈值已保存"))
    return redirect(url_for("bureau.scorecards_page"))


# -- the demand review queue ---------------------------------------------------------------------


@bp.route("/demands")
@bureau_only
def demands():
    args = list_args(sorts=tuple(DEMAND_SORTS), default_sort="deadline", filters=("q", "status", "overdue"))
    args.filters["status"] = request.args.get("status", DemandStatus.SUBMITTED.value)  # the queue opens on what waits
    f = args.filters
    filters = DemandFilter(status=f["status"] or None, q=f["q"] or None,
                           overdue={"yes": True, "no": False}.get(f["overdue"]))
    page = list_demands(db(), actor=actor(), filters=filters, now=runtime().now(), page=args.page,
                        page_size=args.page_size, sort=args.sort)
    return render_template("bureau/demands.html", page=page, args=args, now=runtime().now(),
                           statuses=[(s.value, s.label) for s in DemandStatus],
                           overdue=[("yes", N_("已逾期")), ("no", N_("未逾期"))])


@bp.route("/demands/<int:demand_id>")
@bureau_only
def demand(demand_id: int):
    found = get_demand(db(), actor=actor(), demand_id=demand_id)
    departments = catalog.list_departments(db(), page_size=catalog.MAX_PAGE_SIZE).items
    return render_template("bureau/demand.html", demand=found, now=runtime().now(), departments=departments,
                           steps=history(db(), actor=actor(), demand_id=demand_id),
                           reasons=[(r.value, r.label) for r in UnmetReason])


@bp.route("/demands/<int:demand_id>/<any(accept, return, route, unmet):action>", methods=["POST"])
@bureau_only
def demand_action(demand_id: int, action: str):
    form, lock = request.form, request.form.get("lock_version", "")
    options = {}
    if action == "route":
        provider = form.get("provider_id", "")
        options = {"provider_id": int(provider) if provider.isdigit() else None,
                   "entry_ids": [int(i) for i in form.getlist("entry_ids") if i.isdigit()]}
    elif action == "unmet":
        options = {"unmet_reason": form.get("unmet_reason", "")}
    done = {"accept": _("已受理"), "return": _("已退回需求方"), "route": _("已分派给提供方"), "unmet": _("已标记为未满足")}
    attempt(lambda: act(db(), actor=actor(), demand_id=demand_id, action=action, now=runtime().now(),
                        deadlines=runtime().deadlines, channels=runtime().channels,
                        reason=blank_to_none(form.get("reason")), lock_version=int(lock) if lock.isdigit() else 0,
                        **options), done=done[action])
    return redirect(url_for("bureau.demand", demand_id=demand_id))


# -- the catalog submissions queue ---------------------------------------------------------------


@bp.route("/submissions")
@bureau_only
def submissions():
    args = list_args(sorts=SUBMISSION_SORTS, default_sort="updated_at", filters=("q", "sharing_type"))
    f = args.filters
    filters = catalog.EntryFilter(status=EntryStatus.SUBMITTED.value, q=f["q"] or None,
                                  sharing_type=f["sharing_type"] or None, sort=args.sort)
    page = catalog.list_entries(db(), actor=actor(), filters=filters, page=args.page, page_size=args.page_size,
                                text_index=runtime().text_index)
    return render_template("bureau/submissions.html", page=page, args=args,
                           sharing=[(s.value, s.label) for s in SharingType])


@bp.route("/submissions/<int:entry_id>")
@bureau_only
def submission(entry_id: int):
    found = catalog.get_entry(db(), actor=actor(), entry_id=entry_id)
    return render_template("bureau/submission.html", entry=found,
                           history=catalog.list_status_changes(db(), entry_id=entry_id))


@bp.route("/submissions/<int:entry_id>/<any(publish, return):action>", methods=["POST"])
@bureau_only
def submission_action(entry_id: int, action: str):
    lock = request.form.get("lock_version", "")
    _done, refused = attempt(
        lambda: catalog.transition(db(), actor=actor(), entry_id=entry_id, action=action, now=runtime().now(),
                                   reason=blank_to_none(request.form.get("reason")),
                                   lock_version=int(lock) if lock.isdigit() else None),
        done=_("已发布") if action == "publish" else _("已退回提供方"))
    if refused is not None:
        return redirect(url_for("bureau.submission", entry_id=entry_id))
    return redirect(url_for("bureau.submissions"))


# -- data elements -------------------------------------------------------------------------------


@bp.route("/elements")
@bureau_only
def elements():
    args = list_args(sorts=tuple(catalog.ELEMENT_SORTS), default_sort="identifier", filters=("q",))
    page = catalog.list_elements(db(), q=args.filters["q"] or None, sort=args.sort, page=args.page,
                                 page_size=args.page_size)
    return render_template("bureau/elements.html", page=page, args=args)


# -- job runs ------------------------------------------------------------------------------------


@bp.route("/jobs")
@bureau_only
def jobs():
    args = list_args(sorts=tuple(RUN_SORTS), default_sort="-started_at", filters=("job", "status"))
    f = args.filters
    job = f["job"] if f["job"] in _jobs() else None
    status = f["status"] if f["status"] in {s.value for s in JobStatus} else None
    page = list_job_runs(db(), actor=actor(), job=job, status=status, page=args.page, page_size=args.page_size,
                         sort=args.sort)
    return render_template("bureau/jobs.html", page=page, args=args, jobs=_jobs(),
                           last=last_runs(db(), jobs=list(_jobs())),
                           job_choices=[(name, name) for name in _jobs()],
                           statuses=[(s.value, s.label) for s in JobStatus])


@bp.route("/jobs/<name>/run", methods=["POST"])
@bureau_only
def job_run(name: str):
    """Start a job now as a background task and go to its progress page (or say it is running)."""
    _job_named(name)
    holder = _lease(name)
    if holder is None:
        return redirect(url_for("bureau.jobs", job=name))
    rt = runtime()
    work = partial(_job_work, name=name, holder=holder, sessions=rt.sessions, settings=rt.settings, now=rt.now())
    task = tasks().start(owner_id=actor().user_id, title=N_("立即运行任务"), subject=name, work=work,
                         on_error=_job_failed, links=[(N_("查看运行记录"), "bureau.jobs", {"job": name})])
    return redirect(url_for("tasks.task_page", task_id=task.id))


JOB_STAGES = (N_("运行中"), N_("已完成"), N_("查找受影响的需求"), N_("重新匹配需求"), N_("探测挂接资源"))  # jobs report these


class JobFailed(CatalogError):
    code = "job_failed"


def _job_work(_session, progress, *, name: str, holder: str, sessions, settings, now) -> dict:
    """The task: run the job under the lease taken for it; its counts, or its failure."""
    run = _scheduler().run_held(sessions, job=name, holder=holder, settings=settings, now=now, progress=progress)
    if run.error:
        raise JobFailed(N_("任务运行失败"), details=run.error)
    return {N_("耗时（毫秒）"): run.duration_ms, **shown_counts(run.counts)}


def _job_failed(task, exc: CatalogError) -> None:
    task.detail = str(exc.details or "")


def shown_counts(counts: dict) -> dict:
    """A run's counts as the progress page lists them: a nested count on one line."""
    return {key: " ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict)
            else value for key, value in (counts or {}).items()}


def _job_named(name: str):
    job = _jobs().get(name)
    if job is None:
        abort(404)
    return job


def _lease(name: str) -> str | None:
    """Take the job's lease for a run started here; None (and say so) while a run holds it.
    Ends the request's own transaction first: the job runs and records itself in its own."""
    db().commit()
    holder = _scheduler().lease_by_hand(runtime().sessions, job=name, by="web", now=runtime().now())
    if holder is not None:
        return holder
    flash(_("任务 %(name)s 正在运行（定时运行或他人刚刚启动），请等它结束后再试", name=name), "error")
    return None


def _run_job(name: str) -> None:
    """Run a scheduled job now, in the request, under its lease, and say how it went."""
    _job_named(name)
    holder = _lease(name)
    if holder is None:
        return
    run = _scheduler().run_held(runtime().sessions, job=name, holder=holder, settings=runtime().settings,
                                now=runtime().now())
    if run.error:
        flash(_("任务 %(name)s 运行失败：%(error)s", name=name, error=run.error), "error")
    else:
        flash(_("任务 %(name)s 已运行，耗时 %(ms)s 毫秒", name=name, ms=run.duration_ms), "success")


# -- the audit trail -----------------------------------------------------------------------------

AUDIT_FILTERS = ("object_type", "object_id", "actor_id", "action", "since", "until")
AUDIT_LABELS = {"object_id": N_("对象编号"), "actor_id": N_("操作者编号"), "since": N_("起始日期"), "until": N_("截止日期")}


@bp.route("/audit")
@bureau_only
def audit_trail():
    args = list_args(sorts=tuple(audit.EVENT_SORTS), default_sort="-id", filters=AUDIT_FILTERS)
    f, errors = args.filters, {}
    query = {"object_type": f["object_type"] or None, "action": f["action"] or None}
    for name in ("object_id", "actor_id"):
        if f[name] and not f[name].isdigit():
            errors[name] = _("：应为数字")
        query[name] = int(f[name]) if f[name].isdigit() else None
    for name in ("since", "until"):
        query[name], problem = _day(f[name], next_day=name == "until")
        if problem:
            errors[name] = problem
    if errors:
        flash(_("筛选条件有误：%(fields)s", fields="；".join(f"{_(AUDIT_LABELS[k])}{v}" for k, v in errors.items())), "error")
    page = audit.query(db(), actor=actor(), sort=args.sort, page=args.page, page_size=args.page_size, **query)
    return render_template("bureau/audit.html", page=page, args=args), 422 if errors else 200


def _day(text: str, *, next_day: bool) -> tuple[dt.datetime | None, str | None]:
    """A date typed as YYYY-MM-DD → the start of that day (of the next, for an end) in the local zone."""
    if not text:
        return None, None
    try:
        day = dt.date.fromisoformat(text) + dt.timedelta(days=1 if next_day else 0)
    except ValueError:
        return None, _("：日期格式应为 YYYY-MM-DD")
    return dt.datetime.combine(day, dt.time(), tzinfo=runtime().settings.zone).astimezone(dt.UTC), None


@bp.route("/audit/verify", methods=["POST"])
@bureau_only
def audit_verify():
    actor().require_role(Role.BUREAU, Role.ADMIN, action="校验审计日志")
    result = audit.verify(db())
    if result.ok:
        flash(_("链完整：%(count)s 条", count=result.count), "success")
    else:
        flash(_("审计链在第 %(id)s 条断开：%(message)s", id=result.broken_id, message=result.message or result.problem),
              "error")
    return redirect(url_for("bureau.audit_trail"))
