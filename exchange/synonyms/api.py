"""The synonym table (同义词库) for the bureau (everyone signed in may read it), and data-element
suggestions for binding info items."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from catalog.templates import read_sheet, write_sheet

from ..api import current_actor
from ..api.schemas import FileMountIn, PageArgs, page_of
from ..app import db, runtime
from . import services, suggestions
from .models import SynonymKind

blp = Blueprint("synonyms", __name__, description="同义词库（大数据局维护，从数源确认中学习）与数据元推荐")

TERMS_HELP = "词条：列表，或以 | 分隔的文字；第一个为标准词"


class Terms(fields.Field):
    """A list of terms or one ``|``-separated text."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise self.make_error("invalid")

    default_error_messages = {"invalid": "应为文字列表或以 | 分隔的文字"}


class SynonymIn(Schema):
    terms = Terms(required=True, metadata={"description": TERMS_HELP})
    kind = fields.String(load_default=None, validate=validate.Length(max=20),
                         metadata={"description": "synonym 同义词 / abbreviation 简称 / related 近义 / learned 学习所得"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=services.MAX_NOTE_CHARS))


class SynonymPatch(Schema):
    lock_version = fields.Integer(required=True)
    terms = Terms(metadata={"description": TERMS_HELP})
    kind = fields.String(validate=validate.Length(max=20))
    note = fields.String(allow_none=True, validate=validate.Length(max=services.MAX_NOTE_CHARS))


class SynonymOut(Schema):
    id = fields.Integer()
    terms = fields.List(fields.String(), attribute="term_list")
    kind = fields.Enum(SynonymKind, by_value=True)
    kind_label = fields.Function(lambda s: s.kind.label)
    note = fields.String(allow_none=True)
    demand_id = fields.Integer(allow_none=True, metadata={"description": "学习所得的来源需求"})
    created_by = fields.Integer(allow_none=True)
    updated_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    lock_version = fields.Integer()


class SynonymFilterArgs(PageArgs):
    kind = fields.Enum(SynonymKind, by_value=True)
    q = fields.String(validate=validate.Length(min=1, max=50), metadata={"description": "词条或备注包含的文字"})
    demand_id = fields.Integer(metadata={"description": "从该需求学习所得"})
    created_by = fields.Integer()
    sort = fields.String(load_default="-updated_at", validate=validate.OneOf(
        [f"{sign}{name}" for name in services.SORTABLE for sign in ("", "-")]))


class DeleteArgs(Schema):
    lock_version = fields.Integer(metadata={"description": "读到的版本；给出时过期则 409"})


class SynonymImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False)


class SynonymImportOut(Schema):
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    dry_run = fields.Boolean()


class SynonymExportArgs(SynonymFilterArgs):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))
    sort = fields.String(load_default="terms", validate=validate.OneOf(
        [f"{sign}{name}" for name in services.SORTABLE for sign in ("", "-")]))


SynonymPage = page_of(SynonymOut, "SynonymPage")


def _filters(args: dict) -> services.SynonymFilter:
    return services.SynonymFilter(**{k: args.get(k) for k in ("kind", "q", "demand_id", "created_by")})


@blp.route("/synonyms")
class Synonyms(MethodView):
    @blp.arguments(SynonymFilterArgs, location="query")
    @blp.response(200, SynonymPage)
    def get(self, args):
        """The synonym table: filter by kind, text (q), source demand or author; sort; page."""
        current_actor()
        return services.list_synonyms(db(), filters=_filters(args), sort=args["sort"], page=args["page"],
                                      page_size=args["page_size"])

    @blp.arguments(SynonymIn)
    @blp.response(201, SynonymOut)
    def post(self, payload):
        """Add a group (the bureau); the matcher uses it from its next search."""
        synonym = services.create_synonym(db(), actor=current_actor(), now=runtime().now(), **payload)
        db().commit()
        return synonym


@blp.route("/synonyms/<int:synonym_id>")
class SynonymDetail(MethodView):
    @blp.response(200, SynonymOut)
    def get(self, synonym_id):
        """One group."""
        current_actor()
        return services.get_synonym(db(), synonym_id)

    @blp.arguments(SynonymPatch)
    @blp.response(200, SynonymOut)
    def patch(self, payload, synonym_id):
        """Change terms, kind or note (give the lock_version you read; 409 when it is stale)."""
        lock_version = payload.pop("lock_version")
        synonym = services.update_synonym(db(), actor=current_actor(), synonym_id=synonym_id,
                                          lock_version=lock_version, now=runtime().now(), **payload)
        db().commit()
        return synonym

    @blp.arguments(DeleteArgs, location="query")
    @blp.response(204)
    def delete(self, args, synonym_id):
        """Remove a group (the bureau)."""
        services.delete_synonym(db(), actor=current_actor(), synonym_id=synonym_id,
                                lock_version=args.get("lock_version"))
        db().commit()


@blp.route("/synonyms/import", methods=["POST"])
@blp.arguments(SynonymImportArgs, location="query")
@blp.arguments(FileMountIn, location="files")
@blp.response(200, SynonymImportOut)
def import_synonyms(args, files):
    """Import 词条 / 类型 / 备注 (xlsx or csv): all or nothing; 422 lists every bad cell by row and column."""
    upload = files["file"]
    sheet = read_sheet(upload.stream, filename=upload.filename or "upload.xlsx", template=services.SYNONYMS,
                       max_bytes=runtime().settings.max_upload_mb << 20)
    result = services.import_synonyms(db(), actor=current_actor(), sheet=sheet, now=runtime().now(),
                                      dry_run=args["dry_run"])
    db().commit()
    return result


@blp.route("/synonyms/export")
@blp.arguments(SynonymExportArgs, location="query")
@blp.response(200, description="the table as xlsx or csv, in the import's columns")
def export_synonyms(args):
    """Download the table (filtered as the list is), ready to edit and import again."""
    current_actor()
    fmt, buffer = args["format"], io.BytesIO()
    frame = services.synonyms_frame(db(), filters=_filters(args), sort=args["sort"])
    write_sheet(frame, buffer, template=services.EXPORT, fmt=fmt)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"同义词库.{fmt}")


# -- data-element suggestions ------------------------------------------------------------------------


class SuggestArgs(Schema):
    name = fields.List(fields.String(), required=True, metadata={"description": "信息项名称（可重复给出多个）"})
    title = fields.String(load_default="", metadata={"description": "所在目录的名称（帮助消除歧义）"})
    top_k = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))


class ElementSuggestionOut(Schema):
    element_id = fields.Integer(allow_none=True)
    identifier = fields.String()
    name = fields.String()
    score = fields.Float()
    kind = fields.String(metadata={"description": "exact 名称相同 / synonym 同义 / abbreviation 简称 / fuzzy 相近"})
    reason = fields.String()


class ItemSuggestionsOut(Schema):
    name = fields.String()
    suggestions = fields.List(fields.Nested(ElementSuggestionOut))
    note = fields.String(allow_none=True)


class SuggestOut(Schema):
    items = fields.List(fields.Nested(ItemSuggestionsOut))


class SuggestIn(Schema):
    items = fields.List(fields.String(), required=True, metadata={"description": "信息项名称列表"})
    title = fields.String(load_default="")
    top_k = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))


@blp.route("/elements/suggest")
class ElementSuggestions(MethodView):
    @blp.arguments(SuggestArgs, location="query")
    @blp.response(200, SuggestOut)
    def get(self, args):
        """Standard data elements (数据元) to bind an item to, best first, with a score and why;
        fast enough to call while typing. Give ``name`` more than once for several items."""
        return _suggested(args["name"], args["title"], args["top_k"])

    @blp.arguments(SuggestIn)
    @blp.response(200, SuggestOut)
    def post(self, payload):
        """The same for a whole list of item names: ``{"items": [...], "title": ""}``."""
        return _suggested(payload["items"], payload["title"], payload["top_k"])


def _suggested(names: list[str], title: str, top_k: int) -> dict:
    current_actor()
    return {"items": suggestions.suggest(db(), engine=runtime().matcher, names=names, title=title, top_k=top_k)}
