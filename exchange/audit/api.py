"""The audit trail over the API: the bureau and the admin query events."""

from __future__ import annotations

import datetime as dt

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..api import current_actor
from ..api.schemas import PageArgs, page_of
from ..app import db
from . import services

blp = Blueprint("audit", __name__, description="审计日志：谁、何时、从何处、对什么、做了什么")


class AuditEventOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String()
    actor_role = fields.String()
    department_id = fields.Integer(allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = fields.Integer(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    client = fields.String()
    prev_hash = fields.String()
    hash = fields.String()


class AuditFilterArgs(PageArgs):
    object_type = fields.String(validate=validate.Length(max=64), metadata={"description": "如 catalog_entry"})
    object_id = fields.Integer()
    actor_id = fields.Integer(metadata={"description": "操作者的用户 id"})
    action = fields.String(validate=validate.Length(max=64), metadata={"description": "如 catalog_entry.status"})
    since = fields.AwareDateTime(default_timezone=dt.UTC, metadata={"description": "起（含），ISO 8601"})
    until = fields.AwareDateTime(default_timezone=dt.UTC, metadata={"description": "止（不含），ISO 8601"})


AuditEventPage = page_of(AuditEventOut, "AuditEventPage")


@blp.route("/audit/events")
@blp.arguments(AuditFilterArgs, location="query")
@blp.response(200, AuditEventPage)
def events(args):
    """Audit events, newest first, by object, actor, action and time range (bureau and admin)."""
    return services.query(db(), actor=current_actor(), **args)
