"""Freshness over the API: flags (providers read their department's, the bureau every one) and
exemptions from a kind of flag (providers ask, the bureau decides)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..api import current_actor
from ..api.schemas import EntryRef, PageArgs, page_of
from ..app import db, runtime
from . import exemptions, services
from .models import ExemptionStatus, FlagKind

blp = Blueprint("freshness", __name__,
                description="目录问题（未按期更新、未挂接资源、资源不可访问、需求等待挂接、更新日期与数据不符）及豁免")

KINDS = [k.value for k in FlagKind]
KIND_HELP = "；".join(f"{k.value}（{k.label}）" for k in FlagKind)


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
    age_days = fields.Integer(metadata={"description": "已存在天数（至解决时或现在）"})
    escalated_at = fields.DateTime(allow_none=True, metadata={"description": "升级到大数据局督办的时间"})
    details = fields.Raw(allow_none=True)


class FlagFilterArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": KIND_HELP})
    department_id = fields.Integer(metadata={"description": "被督办的部门 id"})
    entry_id = fields.Integer(metadata={"description": "目录 id"})
    state = fields.String(validate=validate.OneOf(services.STATES), metadata={"description": "open 或 resolved"})
    escalated = fields.Boolean(metadata={"description": "true：已升级督办的；false：未升级的"})
    sort = fields.String(load_default="-id",
                         metadata={"description": "-id（最新在前，默认）、opened_at（最早在前）、-opened_at、kind、resolved_at；逗号分隔可多键"})


class ExemptionOut(Schema):
    id = fields.Integer()
    entry = fields.Nested(EntryRef)
    kind = fields.Enum(FlagKind, by_value=True)
    kind_label = fields.String(attribute="kind.label")
    department_id = fields.Integer()
    reason = fields.String()
    status = fields.Enum(ExemptionStatus, by_value=True)
    status_label = fields.String(attribute="status.label")
    decision_reason = fields.String(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    requested_by = fields.Integer(allow_none=True)
    requested_at = fields.DateTime()
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    lock_version = fields.Integer()


class ExemptionIn(Schema):
    entry_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"description": KIND_HELP})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ExemptionDecisionIn(Schema):
    grant = fields.Boolean(required=True, metadata={"description": "true 批准，false 拒绝"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    ends_at = fields.AwareDateTime(allow_none=True, metadata={"description": "批准时必填：豁免截止时间（ISO 8601）"})
    lock_version = fields.Integer(required=True, metadata={"description": "读取时的 lock_version"})


class ExemptionFilterArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in ExemptionStatus]),
                           metadata={"description": "requested（待审核）、granted（已批准）、refused（已拒绝）"})
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": KIND_HELP})
    entry_id = fields.Integer()
    department_id = fields.Integer()
    active = fields.Boolean(metadata={"description": "true：已批准且未到期的"})


FlagPage = page_of(FlagOut, "FlagPage")
ExemptionPage = page_of(ExemptionOut, "ExemptionPage")


@blp.route("/flags")
@blp.arguments(FlagFilterArgs, location="query")
@blp.response(200, FlagPage)
def flags(args):
    """Flags on entries by kind, department, entry, state (open or resolved) and escalation, with
    their age in days; newest first unless sorted by when they opened."""
    return services.list_flags(db(), actor=current_actor(), now=runtime().now(), **args)


@blp.route("/flag-exemptions")
class Exemptions(MethodView):
    @blp.arguments(ExemptionFilterArgs, location="query")
    @blp.response(200, ExemptionPage)
    def get(self, args):
        """Exemption requests, newest first, by status, kind, entry, department, in force now."""
        return exemptions.list_exemptions(db(), actor=current_actor(), now=runtime().now(), **args)

    @blp.arguments(ExemptionIn)
    @blp.response(201, ExemptionOut)
    def post(self, payload):
        """The entry's provider asks for an exemption from one kind of flag, with a reason; 409
        while another request for the same entry and kind waits."""
        result = exemptions.request_exemption(db(), actor=current_actor(), now=runtime().now(),
                                              channels=runtime().channels, **payload)
        db().commit()
        return result


@blp.route("/flag-exemptions/<int:exemption_id>")
@blp.response(200, ExemptionOut)
def exemption(exemption_id):
    """One exemption request."""
    return exemptions.get_exemption(db(), actor=current_actor(), exemption_id=exemption_id)


@blp.route("/flag-exemptions/<int:exemption_id>/decide", methods=["POST"])
@blp.arguments(ExemptionDecisionIn)
@blp.response(200, ExemptionOut)
def decide(payload, exemption_id):
    """The bureau grants (with a reason and an end date) or refuses (with a reason); 409 if the
    request changed since it was read."""
    result = exemptions.decide_exemption(db(), actor=current_actor(), exemption_id=exemption_id,
                                         now=runtime().now(), channels=runtime().channels, **payload)
    db().commit()
    return result
