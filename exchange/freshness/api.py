"""Freshness flags over the API: providers read their department's, the bureau every one."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..api import current_actor
from ..api.schemas import PageArgs, page_of
from ..app import db
from . import services
from .models import FlagKind

blp = Blueprint("freshness", __name__, description="目录问题：未按期更新、未挂接资源")


class FlagOut(Schema):
    id = fields.Integer()
    entry_id = fields.Integer()
    resource_code = fields.String(attribute="entry.resource_code")
    entry_name = fields.String(attribute="entry.name")
    kind = fields.Enum(FlagKind, by_value=True)
    kind_label = fields.String(attribute="kind.label")
    department_id = fields.Integer()
    opened_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    details = fields.Raw(allow_none=True)


class FlagFilterArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf([k.value for k in FlagKind]),
                         metadata={"description": "stale（未按期更新）或 unmounted（未挂接资源）"})
    department_id = fields.Integer(metadata={"description": "被督办的部门 id"})
    state = fields.String(validate=validate.OneOf(services.STATES), metadata={"description": "open 或 resolved"})


FlagPage = page_of(FlagOut, "FlagPage")


@blp.route("/flags")
@blp.arguments(FlagFilterArgs, location="query")
@blp.response(200, FlagPage)
def flags(args):
    """Flags on entries, newest first, by kind, department and state (open or resolved)."""
    return services.list_flags(db(), actor=current_actor(), **args)
