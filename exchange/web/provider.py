"""Provider pages (提供方): the department's catalog, entry forms, import with progress, the mount
wizard, the flags inbox, and the demands, applications and objections waiting on the department."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from catalog import exporting, importing, mounts, services
from catalog.actors import Role
from catalog.errors import CatalogError, Conflict, ImportFailed, ValidationError
from catalog.exporting import write_error_workbook
from catalog.templates import CATALOG, read_sheet
from catalog.vocab import (Category, DataType, EntryStatus, OpenAttribute, ResourceFormat, SharingMethod,
                           SharingType, UpdateCycle)

from ..api.catalog import _entry_fields as entry_fields
from ..app import db, runtime
from ..audit.services import record_import
from ..demands.models import DemandStatus
from ..downloads import error_workbook, new_error_workbook
from ..demands.services import DEMAND_SORTS, DemandFilter, act, get_demand, list_demands
from ..demands.services import history as demand_history
from ..freshness.models import FlagKind
from ..freshness.services import FLAG_SORTS, STATES, list_flags
from ..sharing.models import ApplicationStatus, ObjectionStatus
from ..sharing.services import (APPLICATION_SORTS, OBJECTION_SORTS, answer_objection, decide, list_applications,
                                list_objections)
from .auth import actor, roles_required
from .i18n import N_
from .pages import attempt, blank_to_none, field_errors, flash_error, list_args
from .tasks import own_task, tasks

bp = Blueprint("provider", __name__, url_prefix="/provider")
provider_only = roles_required(Role.PROVIDER)

ENTRY_SORTS = ("name", "resource_code", "updated_at", "last_updated", "publish_date")
ENTRY_FILTERS = ("q", "status", "sharing_type", "update_cycle", "mounted")
CHOICES = {
    "status": [(s.value, s.label) for s in EntryStatus],
    "sharing_type": [(s.value, s.label) for s in SharingType],
    "update_cycle": [(s.value, s.label) for s in UpdateCycle],
    "mounted": [("yes", N_("已挂接")), ("no", N_("未挂接"))],
    "category": [(s.label, s.label) for s in Category],
    "format": [(s.label, s.label) for s in ResourceFormat],
    "sharing_method": [(s.label, s.label) for s in SharingMethod],
    "open_attribute": [(s.label, s.label) for s in OpenAttribute],
    "sharing_label": [(s.label, s.label) for s in SharingType],
    "cycle_label": [(s.label, s.label) for s in UpdateCycle],
    "data_type": [(s.label, s.label) for s in DataType],
}


# -- the department's catalog ----------------------------------------------------------------------


def _entry_filter(args) -> services.EntryFilter:
    f = args.filters
    return services.EntryFilter(
        provider_id=actor().department_id, q=f["q"] or None, status=f["status"] or None,
        sharing_type=f["sharing_type"] or None, update_cycle=f["update_cycle"] or None,
        mounted={"yes": True, "no": False}.get(f["mounted"]), sort=args.sort)


@bp.route("/entries")
@provider_only
def entries():
    args = list_args(sorts=ENTRY_SORTS, default_sort="-updated_at", filters=ENTRY_FILTERS)
    filters = _entry_filter(args)
    page = services.list_entries(db(), actor=actor(), filters=filters, page=args.page,
                                 page_size=args.page_size, text_index=runtime().text_index)
    mounted = services.mounted_entry_ids(db(), [e.id for e in page.items])
    return render_template("provider/entries.html", page=page, args=args, mounted=mounted, choices=CHOICES)


@bp.route("/entries/export.xlsx")
@provider_only
def entries_export():
    """The department's entries, as filtered, in the national template: edit and import them back."""
    args = list_args(sorts=ENTRY_SORTS, default_sort="-updated_at", filters=ENTRY_FILTERS)
    buffer = io.BytesIO()
    exporting.export_catalog(db(), actor=actor(), target=buffer, fmt="xlsx", filters=_entry_filter(args))
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name="信息资源目录.xlsx")


@bp.route("/entries/<int:entry_id>")
@provider_only
def entry(entry_id: int):
    found = services.get_entry(db(), actor=actor(), entry_id=entry_id)
    _require_own(found)
    history = services.list_status_changes(db(), entry_id=entry_id)
    active = mounts.active_mounts(db(), entry_id)
    return render_template("provider/entry.html", entry=found, history=history, mounts=active)


def _require_own(entry) -> None:
    """A provider's pages show its own department's entries only (others' are a 403)."""
    actor().require_write_for(entry.provider_id, "其他部门的目录")


@bp.route("/entries/new", methods=["GET", "POST"])
@provider_only
def entry_new():
    values, errors = _blank_form(), {}
    if request.method == "POST":
        values = _form_values()

        def register():
            data = services.parse_entry_fields({**_rule_fields(values), "provider_id": actor().department_id})
            return services.create_entry(db(), actor=actor(), data=data, now=runtime().now())

        created, refused = attempt(register)
        if refused is None:
            flash(_("已登记目录草稿：%(code)s", code=created.resource_code), "success")
            return redirect(url_for("provider.entry", entry_id=created.id))
        errors = field_errors(refused)
    return render_template("provider/entry_form.html", values=values, errors=errors, entry=None,
                           choices=CHOICES), 422 if errors else 200


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@provider_only
def entry_edit(entry_id: int):
    found = services.get_entry(db(), actor=actor(), entry_id=entry_id)
    _require_own(found)
    values, errors, status = _values_of(found), {}, 200
    if request.method == "POST":
        values = _form_values()
        try:
            data = services.parse_entry_fields({**_rule_fields(values), "provider_id": found.provider_id})
            lock = int(values["lock_version"]) if str(values["lock_version"]).isdigit() else 0
            services.update_entry(db(), actor=actor(), entry_id=entry_id, data=data, lock_version=lock,
                                  now=runtime().now())
            db().commit()
        except Conflict as exc:
            db().rollback()
            flash(_("保存失败：此目录已被他人修改。下面是您填写的内容，当前版本已重新载入，请核对后再保存。")
                  if exc.code == "stale_version" else _(exc.message), "error")
            found = services.get_entry(db(), actor=actor(), entry_id=entry_id)
            values["lock_version"] = found.lock_version
            status = 409
        except CatalogError as exc:
            db().rollback()
            flash_error(exc)
            errors, status = field_errors(exc), 422
        else:
            flash(_("已保存"), "success")
            return redirect(url_for("provider.entry", entry_id=entry_id))
    return render_template("provider/entry_form.html", values=values, errors=errors, entry=found,
                           choices=CHOICES), status


ITEM_ROWS = 5  # blank item rows offered below the existing ones


def _blank_form() -> dict:
    return {"category": Category.DEPARTMENTAL.label, "items": [{} for _ in range(ITEM_ROWS)]}


def _values_of(entry) -> dict:
    data = services.entry_data(entry)
    values = {
        "name": entry.name, "summary": entry.summary, "category": entry.category.label,
        "classification_code": entry.classification_code, "format": entry.format.label,
        "format_detail": entry.format_detail, "sharing_type": entry.sharing_type.label,
        "sharing_condition": entry.sharing_condition, "not_shared_basis": entry.not_shared_basis,
        "sharing_method": entry.sharing_method.label if entry.sharing_method else "",
        "open_attribute": entry.open_attribute.label if entry.open_attribute else "",
        "update_cycle": entry.update_cycle.label,
        "publish_date": entry.publish_date.isoformat() if entry.publish_date else "",
        "last_updated": entry.last_updated.isoformat() if entry.last_updated else "",
        "related_codes": " ".join(data.related_codes), "lock_version": entry.lock_version,
        "items": [{"name": i.name, "data_type": i.data_type.label if i.data_type else "",
                   "length": i.length or "", "element_id": i.element_id or ""} for i in data.items],
    }
    values["items"] += [{} for _ in range(ITEM_ROWS)]
    return values


FIELDS = ("name", "summary", "category", "classification_code", "format", "format_detail", "sharing_type",
          "sharing_condition", "not_shared_basis", "sharing_method", "open_attribute", "update_cycle",
          "publish_date", "last_updated", "related_codes", "lock_version")


def _form_values() -> dict:
    form = request.form
    values = {name: form.get(name, "").strip() for name in FIELDS}
    columns = [form.getlist(f"item_{key}") for key in ("name", "data_type", "length", "element_id")]
    values["items"] = [dict(zip(("name", "data_type", "length", "element_id"), (c.strip() for c in row)))
                       for row in zip(*columns)]
    return values


def _rule_fields(values: dict) -> dict:
    """The form's text → the fields the cataloguing rules take (blank means absent)."""
    fields = {k: blank_to_none(values.get(k)) for k in FIELDS if k != "lock_version"}
    fields["related_codes"] = (values.get("related_codes") or "").replace(",", " ").split()
    fields["items"] = [_item(row) for row in values["items"] if (row.get("name") or "").strip()]
    return entry_fields({k: v for k, v in fields.items() if v is not None})


def _item(row: dict) -> dict:
    length, element = (row.get("length") or "").strip(), (row.get("element_id") or "").strip()
    return {"name": row["name"].strip(), "data_type": blank_to_none(row.get("data_type")),
            "length": int(length) if length.isdigit() else (length or None),
            "element_id": int(element) if element.isdigit() else None}


@bp.route("/entries/<int:entry_id>/<any(submit, withdraw):action>", methods=["POST"])
@provider_only
def entry_transition(entry_id: int, action: str):
    found = services.get_entry(db(), actor=actor(), entry_id=entry_id)
    _require_own(found)
    attempt(lambda: services.transition(db(), actor=actor(), entry_id=entry_id, action=action, now=runtime().now(),
                                        reason=blank_to_none(request.form.get("reason"))),
            done=_("已提交审核") if action == "submit" else _("已撤销"))
    return redirect(url_for("provider.entry", entry_id=entry_id))


# -- import with progress ----------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@provider_only
def import_form():
    if request.method == "GET":
        return render_template("provider/import.html")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要导入的文件（xlsx 或 csv）"), "error")
        return render_template("provider/import.html"), 422
    settings = runtime().settings
    try:
        sheet = read_sheet(upload.stream, filename=upload.filename, template=CATALOG,
                           max_bytes=settings.max_upload_mb << 20)
    except CatalogError as exc:
        flash_error(exc)
        return render_template("provider/import.html"), 422
    task = _start_import(sheet, upload.filename, dry_run=bool(request.form.get("dry_run")))
    return redirect(url_for("tasks.task_page", task_id=task.id))


def _start_import(sheet, file_name: str, *, dry_run: bool):
    who, now, storage = actor(), runtime().now(), runtime().settings.storage_path

    def work(session, progress) -> dict:
        session.info["actor"] = who
        result = importing.import_catalog(session, actor=who, sheet=sheet, now=now, dry_run=dry_run,
                                          progress=progress)
        if not dry_run:
            record_import(session, actor=who, kind=CATALOG.kind, file_name=file_name, counts=result.as_dict(),
                          now=now)
        return {N_("行数"): result.rows, N_("新增"): result.created, N_("更新"): result.updated,
                N_("未变"): result.unchanged, N_("试导入（未写入）"): N_("是") if dry_run else N_("否")}

    def failed(task, exc: CatalogError) -> None:
        if not isinstance(exc, ImportFailed):
            return
        rows = {number: record for number, record in sheet.records()}
        write_error_workbook(exc.problems, new_error_workbook(storage, task.id, now=now), template=CATALOG, rows=rows)
        task.problems = [p.as_dict() for p in exc.problems[:50]]
        task.links.append((N_("下载错误工作簿"), "provider.import_errors", {"task_id": task.id}))
        task.links.append((N_("重新导入"), "provider.import_form", {}))

    title = N_("试导入目录") if dry_run else N_("导入目录")
    return tasks().start(owner_id=who.user_id, title=title, work=work, on_error=failed,
                         next_url=url_for("provider.entries"))


@bp.route("/import/<task_id>/errors.xlsx")
@provider_only
def import_errors(task_id: str):
    task = own_task(task_id)
    path = error_workbook(runtime().settings.storage_path, task.id)
    if not path.is_file():
        abort(404)
    return send_file(path.resolve(), as_attachment=True, download_name="导入错误.xlsx")


# -- the mount wizard ------------------------------------------------------------------------------


MOUNT_KINDS = {"file": N_("上传文件"), "table": N_("数据库表"), "api": N_("接口（API）")}
IMPORT_STAGES = (N_("校验"), N_("写入"))  # what the catalog import reports as it goes


@bp.route("/entries/<int:entry_id>/mount", methods=["GET", "POST"])
@provider_only
def mount_wizard(entry_id: int):
    found = services.get_entry(db(), actor=actor(), entry_id=entry_id)
    _require_own(found)
    kind = request.values.get("kind", "")
    if kind not in MOUNT_KINDS:
        return render_template("provider/mount.html", entry=found, kind=None, kinds=MOUNT_KINDS, values={})
    if request.method == "GET":
        return render_template("provider/mount.html", entry=found, kind=kind, kinds=MOUNT_KINDS, values={})
    mounted, refused = attempt(lambda: _mount(found.id, kind), done=_("挂接成功"))
    if refused is not None:
        return render_template("provider/mount.html", entry=found, kind=kind, kinds=MOUNT_KINDS,
                               values=request.form, errors=field_errors(refused)), 422
    return redirect(url_for("provider.mount_result", entry_id=entry_id, mount_id=mounted.id))


def _mount(entry_id: int, kind: str):
    form, settings, now, who = request.form, runtime().settings, runtime().now(), actor()
    if kind == "file":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationError("请选择要上传的文件", details={"file": ["必填"]})
        return mounts.mount_file(db(), actor=who, entry_id=entry_id, stream=upload.stream,
                                 filename=upload.filename, storage=settings.storage_path,
                                 max_bytes=settings.max_upload_mb << 20, now=now)
    if kind == "table":
        return mounts.mount_table(db(), actor=who, entry_id=entry_id, url=form.get("url", "").strip(),
                                  table=form.get("table", ""), change_column=blank_to_none(form.get("change_column")),
                                  timeout=settings.mount_timeout, now=now)
    return mounts.mount_api(db(), actor=who, entry_id=entry_id, url=form.get("url", "").strip(), now=now)


@bp.route("/entries/<int:entry_id>/mounts/<int:mount_id>")
@provider_only
def mount_result(entry_id: int, mount_id: int):
    found = services.get_entry(db(), actor=actor(), entry_id=entry_id)
    _require_own(found)
    mounted = next((m for m in found.mounts if m.id == mount_id), None)
    if mounted is None:
        abort(404)
    return render_template("provider/mount_result.html", entry=found, mount=mounted)


@bp.route("/mounts/<int:mount_id>/unmount", methods=["POST"])
@provider_only
def unmount(mount_id: int):
    removed = mounts.unmount(db(), actor=actor(), mount_id=mount_id, now=runtime().now())
    db().commit()
    flash(_("已撤除挂接"), "success")
    return redirect(url_for("provider.entry", entry_id=removed.entry_id))


# -- the flags inbox ---------------------------------------------------------------------------------


@bp.route("/flags")
@provider_only
def flags():
    args = list_args(sorts=tuple(FLAG_SORTS), default_sort="opened_at", filters=("kind", "state"))
    args.filters["state"] = request.args.get("state", "open")  # the inbox opens on what is still open
    state = args.filters["state"] if args.filters["state"] in STATES else None
    kind = args.filters["kind"] if args.filters["kind"] in {k.value for k in FlagKind} else None
    page = list_flags(db(), actor=actor(), now=runtime().now(), kind=kind, state=state, page=args.page, page_size=args.page_size,
                      sort=args.sort)
    return render_template("provider/flags.html", page=page, args=args, now=runtime().now(),
                           kinds=[(k.value, k.label) for k in FlagKind],
                           states=[("open", N_("未解决")), ("resolved", N_("已解决"))])


# -- demands, applications and objections waiting on the department --------------------------------


@bp.route("/demands")
@provider_only
def demands():
    args = list_args(sorts=tuple(DEMAND_SORTS), default_sort="deadline", filters=("q", "status", "overdue"))
    f = args.filters
    filters = DemandFilter(status=f["status"] or None, q=f["q"] or None,
                           overdue={"yes": True, "no": False}.get(f["overdue"]))
    page = list_demands(db(), actor=actor(), filters=filters, now=runtime().now(), page=args.page,
                        page_size=args.page_size, sort=args.sort)
    return render_template("provider/demands.html", page=page, args=args, now=runtime().now(),
                           statuses=[(s.value, s.label) for s in DemandStatus],
                           overdue=[("yes", N_("已逾期")), ("no", N_("未逾期"))])


@bp.route("/demands/<int:demand_id>")
@provider_only
def demand(demand_id: int):
    found = get_demand(db(), actor=actor(), demand_id=demand_id)
    return render_template("provider/demand.html", demand=found, now=runtime().now(),
                           steps=demand_history(db(), actor=actor(), demand_id=demand_id))


@bp.route("/demands/<int:demand_id>/<any(confirm, decline):action>", methods=["POST"])
@provider_only
def demand_answer(demand_id: int, action: str):
    entry_id = request.form.get("entry_id", "")
    lock = request.form.get("lock_version", "")
    attempt(lambda: act(db(), actor=actor(), demand_id=demand_id, action=action, now=runtime().now(),
                        deadlines=runtime().deadlines, channels=runtime().channels,
                        reason=blank_to_none(request.form.get("reason")),
                        lock_version=int(lock) if lock.isdigit() else 0,
                        entry_id=int(entry_id) if entry_id.isdigit() else None),
            done=_("已确认可满足需求") if action == "confirm" else _("已拒绝，并说明了理由"))
    return redirect(url_for("provider.demand", demand_id=demand_id))


@bp.route("/applications")
@provider_only
def applications():
    return _by_status(list_applications, APPLICATION_SORTS, ApplicationStatus, "provider/applications.html")


def _by_status(lister, sorts: dict, statuses, template: str):
    """A list the department answers, filtered by status, soonest deadline first by default."""
    args = list_args(sorts=tuple(sorts), default_sort="deadline", filters=("status",))
    page = lister(db(), actor=actor(), status=args.filters["status"] or None, page=args.page,
                  page_size=args.page_size, sort=args.sort)
    return render_template(template, page=page, args=args, now=runtime().now(),
                           statuses=[(s.value, s.label) for s in statuses])


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@provider_only
def application_decide(application_id: int):
    lock, approve = request.form.get("lock_version", ""), request.form.get("approve") == "1"
    attempt(lambda: decide(db(), actor=actor(), application_id=application_id, approve=approve,
                           now=runtime().now(), lock_version=int(lock) if lock.isdigit() else 0,
                           reason=blank_to_none(request.form.get("reason")), channels=runtime().channels),
            done=_("已授权") if approve else _("已拒绝申请"))
    return redirect(url_for("provider.applications", **request.args))


@bp.route("/objections")
@provider_only
def objections():
    return _by_status(list_objections, OBJECTION_SORTS, ObjectionStatus, "provider/objections.html")


@bp.route("/objections/<int:objection_id>/answer", methods=["POST"])
@provider_only
def objection_answer(objection_id: int):
    attempt(lambda: answer_objection(db(), actor=actor(), objection_id=objection_id,
                                     answer=request.form.get("answer", ""), now=runtime().now()),
            done=_("已答复异议"))
    return redirect(url_for("provider.objections", **request.args))
