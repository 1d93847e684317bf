"""Catalog entries: list, read, register, change, lifecycle, mount, import and export."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import exporting, importing, mounts, services
from catalog.errors import ValidationError
from catalog.templates import CATALOG, read_sheet
from catalog.vocab import Category

from ..app import db, runtime
from ..audit.services import record_import
from . import current_actor
from .schemas import (
    EntryCreate,
    EntryFilterArgs,
    EntryOut,
    EntryPatch,
    EntrySummary,
    ExportArgs,
    FileMountIn,
    ImportArgs,
    ImportOut,
    MountIn,
    MountOut,
    StatusChangeOut,
    TransitionIn,
    VersionOut,
    page_of,
)

blp = Blueprint("catalog", __name__, description="信息资源目录：登记、变更、发布、挂接、导入导出")
EntryPage = page_of(EntrySummary, "EntryPage")


def _with_mounted(entries) -> list:
    mounted = services.mounted_entry_ids(db(), [e.id for e in entries])
    for entry in entries:
        entry.mounted = entry.id in mounted
    return entries


def _filters(args: dict) -> services.EntryFilter:
    keys = ("provider_id", "sharing_type", "status", "update_cycle", "category", "mounted", "q", "sort")
    return services.EntryFilter(**{k: args[k] for k in keys if k in args})


DETAILED = (("category", "classification_code", Category.DEPARTMENTAL.label), ("format", "format_detail", None))


def _entry_fields(payload: dict) -> dict:
    """API payload → the rules' fields (category and format carry their detail after a slash)."""
    fields = dict(payload)
    for head, detail, default in DETAILED:
        value = fields.pop(detail, None)
        base = fields.get(head) or default
        if value and base:
            fields[head] = f"{base}/{value}"
    return fields


@blp.route("/entries")
class Entries(MethodView):
    @blp.arguments(EntryFilterArgs, location="query")
    @blp.response(200, EntryPage)
    def get(self, args):
        """List entries, with filters, text search, sorting and pagination."""
        page = services.list_entries(db(), actor=current_actor(), filters=_filters(args),
                                     page=args["page"], page_size=args["page_size"],
                                     text_index=runtime().text_index)
        _with_mounted(page.items)
        return page

    @blp.arguments(EntryCreate)
    @blp.response(201, EntryOut)
    def post(self, payload):
        """Register an entry as a draft (a provider's own department unless another is named)."""
        actor = current_actor()
        fields = _entry_fields(payload)
        if not any(fields.get(k) for k in ("provider_id", "provider", "provider_code")):
            fields["provider_id"] = actor.department_id
        data = services.parse_entry_fields(fields)
        entry = services.create_entry(db(), actor=actor, data=data, now=runtime().now())
        db().commit()
        return _detail(entry.id)


def _detail(entry_id: int):
    entry = services.get_entry(db(), actor=current_actor(), entry_id=entry_id)
    _with_mounted([entry])
    return entry


@blp.route("/entries/<int:entry_id>")
class Entry(MethodView):
    @blp.response(200, EntryOut)
    def get(self, entry_id):
        """One entry with its items and mounts."""
        return _detail(entry_id)

    @blp.arguments(EntryPatch)
    @blp.response(200, EntryOut)
    def patch(self, payload, entry_id):
        """Change an entry; give the lock_version you read (409 if someone changed it since).

        A change to a published entry makes it 变更中 until the bureau publishes the new version."""
        actor = current_actor()
        entry = services.get_entry(db(), actor=actor, entry_id=entry_id)
        current = services.entry_data(entry)
        fields = _entry_fields({**current.content(), "provider_id": entry.provider_id, **payload})
        fields["items"] = payload.get("items", [item.content() for item in current.items])
        lock_version = fields.pop("lock_version")
        data = services.parse_entry_fields(fields)
        services.update_entry(db(), actor=actor, entry_id=entry_id, data=data,
                              lock_version=lock_version, now=runtime().now())
        db().commit()
        return _detail(entry_id)


@blp.route("/entries/by-code/<path:code>")
@blp.response(200, EntryOut)
def entry_by_code(code):
    """One entry by its resource code (前段码/后段码)."""
    entry = services.get_entry(db(), actor=current_actor(), code=code)
    _with_mounted([entry])
    return entry


@blp.route("/entries/<int:entry_id>/<any(submit, publish, return, withdraw):action>", methods=["POST"])
@blp.arguments(TransitionIn)
@blp.response(200, EntryOut)
def entry_transition(payload, entry_id, action):
    """Lifecycle: submit (provider), publish or return (bureau), withdraw; return and withdraw need a reason."""
    services.transition(db(), actor=current_actor(), entry_id=entry_id, action=action,
                        now=runtime().now(), **payload)
    db().commit()
    return _detail(entry_id)


@blp.route("/entries/<int:entry_id>/versions")
@blp.response(200, VersionOut(many=True))
def entry_versions(entry_id):
    """Every published version of the entry, oldest first."""
    return services.list_versions(db(), actor=current_actor(), entry_id=entry_id)


@blp.route("/entries/<int:entry_id>/history")
@blp.response(200, StatusChangeOut(many=True))
def entry_history(entry_id):
    """Every lifecycle step: from, to, who, when, why."""
    services.get_entry(db(), actor=current_actor(), entry_id=entry_id)
    return services.list_status_changes(db(), entry_id=entry_id)


@blp.route("/entries/<int:entry_id>/mounts", methods=["POST"])
@blp.arguments(MountIn)
@blp.response(201, MountOut)
def mount(payload, entry_id):
    """Mount a database table (checked reachable, columns read) or an API endpoint."""
    actor, settings, now = current_actor(), runtime().settings, runtime().now()
    kind = payload["kind"].value
    if kind == "table":
        _require(payload, "url", "table")
        result = mounts.mount_table(db(), actor=actor, entry_id=entry_id, url=payload["url"],
                                    table=payload["table"], change_column=payload.get("change_column"),
                                    timeout=settings.mount_timeout, now=now)
    elif kind == "api":
        _require(payload, "url")
        result = mounts.mount_api(db(), actor=actor, entry_id=entry_id, url=payload["url"], now=now)
    else:
        raise ValidationError("文件请上传到 /entries/<id>/mounts/file", details={"kind": ["file"]})
    db().commit()
    return result


def _require(payload: dict, *names: str) -> None:
    missing = {n: ["必填"] for n in names if not payload.get(n)}
    if missing:
        raise ValidationError("挂接信息不完整", details=missing)


@blp.route("/entries/<int:entry_id>/mounts/file", methods=["POST"])
@blp.arguments(FileMountIn, location="files")
@blp.response(201, MountOut)
def mount_file(files, entry_id):
    """Upload a CSV or XLSX file; it is stored by checksum and read to check it is a table."""
    upload = files["file"]
    settings = runtime().settings
    result = mounts.mount_file(db(), actor=current_actor(), entry_id=entry_id, stream=upload.stream,
                               filename=upload.filename or "upload.csv", storage=settings.storage_path,
                               max_bytes=settings.max_upload_mb << 20, now=runtime().now())
    db().commit()
    return result


@blp.route("/mounts/<int:mount_id>", methods=["DELETE"])
@blp.response(200, MountOut)
def unmount(mount_id):
    """Unmount a resource (its record is kept, with who and when)."""
    result = mounts.unmount(db(), actor=current_actor(), mount_id=mount_id, now=runtime().now())
    db().commit()
    return result


@blp.route("/entries/import", methods=["POST"])
@blp.arguments(ImportArgs, location="query")
@blp.arguments(FileMountIn, location="files")
@blp.response(200, ImportOut)
def import_entries(args, files):
    """Import the national catalog template (xlsx/csv): all or nothing; 422 lists every bad cell."""
    upload = files["file"]
    sheet = read_sheet(upload.stream, filename=upload.filename or "upload.xlsx", template=CATALOG,
                       max_bytes=runtime().settings.max_upload_mb << 20, sheet=args.get("sheet"))
    result = importing.import_catalog(
        db(), actor=current_actor(), sheet=sheet, now=runtime().now(), status=args.get("status"),
        dry_run=args["dry_run"], create_departments=args["create_departments"],
    )
    if not result.dry_run:
        record_import(db(), actor=current_actor(), kind=CATALOG.kind, file_name=upload.filename or "",
                      counts=result.as_dict(), now=runtime().now())
    db().commit()
    return result


@blp.route("/entries/export")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="the national template as xlsx or csv")
def export_entries(args):
    """Download the entries you can see, filtered, in the national template."""
    fmt = args.pop("format")
    buffer = io.BytesIO()
    exporting.export_catalog(db(), actor=current_actor(), target=buffer, fmt=fmt, filters=_filters(args))
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"信息资源目录.{fmt}")
