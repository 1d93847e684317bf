"""Demands: file, follow, review, route, confirm or decline, close with feedback."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

import matching as pure
from catalog.vocab import SharingMethod, UpdateCycle

from ..app import db, runtime
from ..demands import matching, services
from ..demands.lookup import submit_and_match
from ..demands.models import DemandStatus, MatchState, UnmetReason
from . import current_actor
from .schemas import DepartmentRef, EntrySummary, PageArgs, page_of

MAX_ITEMS = pure.DEFAULT_CONFIG.max_items  # requested items the matcher reads
blp = Blueprint("demands", __name__, description="数据需求：提出、审核、分派、数源确认、反馈")


class DemandIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    items = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                        validate=validate.Length(max=MAX_ITEMS, error=f"最多{MAX_ITEMS}个信息项"))
    legal_basis = fields.String(allow_none=True, metadata={"description": "使用依据"})
    scenario = fields.String(allow_none=True, metadata={"description": "应用场景 / 政务服务事项"})
    desired_cycle = fields.String(allow_none=True, metadata={"description": "期望更新周期"})
    desired_method = fields.String(allow_none=True, metadata={"description": "期望共享方式"})
    needed_by = fields.Date(allow_none=True)
    ref = fields.String(allow_none=True, validate=validate.Length(max=64), metadata={"description": "需求编号；不填则生成"})
    requester_id = fields.Integer(allow_none=True, metadata={"description": "大数据局代为登记时的需求部门"})


class DemandPatch(DemandIn):
    lock_version = fields.Integer(required=True)


class ActionIn(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    lock_version = fields.Integer(allow_none=True)
    provider_id = fields.Integer(metadata={"description": "route：分派给的提供方"})
    entry_ids = fields.List(fields.Integer(), metadata={"description": "route：建议的目录"})
    entry_id = fields.Integer(metadata={"description": "confirm/decline：答复需求的目录"})
    unmet_reason = fields.Enum(UnmetReason, by_value=True, metadata={"description": "unmet：根本原因"})
    satisfied = fields.Boolean(metadata={"description": "close：数据是否满足需要"})
    feedback = fields.String(allow_none=True, validate=validate.Length(max=2000))


class MatchOut(Schema):
    entry = fields.Nested(EntrySummary)
    rank = fields.Integer()
    score = fields.Float(allow_none=True)
    explanation = fields.List(fields.Raw())
    state = fields.Enum(MatchState, by_value=True)
    reason = fields.String(allow_none=True)


class DemandOut(Schema):
    id = fields.Integer()
    ref = fields.String()
    title = fields.String()
    description = fields.String()
    items = fields.Method("item_names")
    legal_basis = fields.String(allow_none=True)
    scenario = fields.String(allow_none=True)
    desired_cycle = fields.Enum(UpdateCycle, by_value=True, allow_none=True)
    desired_method = fields.Enum(SharingMethod, by_value=True, allow_none=True)
    needed_by = fields.Date(allow_none=True)
    status = fields.Enum(DemandStatus, by_value=True)
    requester = fields.Nested(DepartmentRef)
    provider = fields.Nested(DepartmentRef, allow_none=True)
    unmet_reason = fields.Enum(UnmetReason, by_value=True, allow_none=True)
    diagnosis = fields.Dict(allow_none=True, metadata={"description": "匹配结论：status、unmet_reason、likely_provider"})
    deadline = fields.DateTime(allow_none=True)
    overdue = fields.Method("is_overdue")
    submitted_at = fields.DateTime(allow_none=True)
    satisfied = fields.Boolean(allow_none=True)
    feedback = fields.String(allow_none=True)
    matches = fields.List(fields.Nested(MatchOut))
    lock_version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def item_names(self, demand) -> list[str]:
        return [item.name for item in demand.items]

    def is_overdue(self, demand) -> bool:
        return bool(demand.deadline and demand.status in services.AWAITING and demand.deadline < runtime().now())


class StepOut(Schema):
    action = fields.String()
    from_status = fields.Enum(DemandStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(DemandStatus, by_value=True)
    reason = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    at = fields.DateTime()


class DemandFilterArgs(PageArgs):
    status = fields.Enum(DemandStatus, by_value=True)
    requester_id = fields.Integer()
    provider_id = fields.Integer()
    overdue = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=200))


DemandPage = page_of(DemandOut, "DemandPage")


def _data(payload: dict) -> services.DemandData:
    keys = ("title", "description", "items", "legal_basis", "scenario", "desired_cycle",
            "desired_method", "needed_by", "ref")
    return services.DemandData(**{k: payload.get(k) for k in keys if k in payload})


@blp.route("/demands")
class Demands(MethodView):
    @blp.arguments(DemandFilterArgs, location="query")
    @blp.response(200, DemandPage)
    def get(self, args):
        """Demands you can see: your department's, those routed to you, or all for the bureau."""
        page, size = args.pop("page"), args.pop("page_size")
        return services.list_demands(db(), actor=current_actor(), filters=services.DemandFilter(**args),
                                     now=runtime().now(), page=page, page_size=size)

    @blp.arguments(DemandIn)
    @blp.response(201, DemandOut)
    def post(self, payload):
        """File a demand (a draft: submit it to send it to the bureau)."""
        demand = services.create_demand(db(), actor=current_actor(), data=_data(payload), now=runtime().now(),
                                        requester_id=payload.get("requester_id"))
        db().commit()
        return demand


@blp.route("/demands/<int:demand_id>")
class DemandDetail(MethodView):
    @blp.response(200, DemandOut)
    def get(self, demand_id):
        """One demand with its items, matches, status and deadline."""
        return services.get_demand(db(), actor=current_actor(), demand_id=demand_id)

    @blp.arguments(DemandPatch)
    @blp.response(200, DemandOut)
    def put(self, payload, demand_id):
        """Change a draft or returned demand (give the lock_version you read)."""
        demand = services.update_demand(db(), actor=current_actor(), demand_id=demand_id, data=_data(payload),
                                        lock_version=payload["lock_version"], now=runtime().now())
        db().commit()
        return demand


ACTIONS = "submit, accept, return, route, confirm, decline, fulfil, unmet, close"


@blp.route(f"/demands/<int:demand_id>/<any({ACTIONS}):action>", methods=["POST"])
@blp.arguments(ActionIn)
@blp.response(200, DemandOut)
def demand_action(payload, demand_id, action):
    """One workflow step: submit (requester); accept, return, route, unmet (bureau);
    confirm, decline (the routed provider); fulfil; close with feedback (requester)."""
    step = dict(actor=current_actor(), demand_id=demand_id, now=runtime().now(), deadlines=runtime().deadlines,
                channels=runtime().channels, **payload)
    if action == "submit":
        demand = submit_and_match(db(), engine=runtime().matcher, **step)
    else:
        demand = services.act(db(), action=action, **step)
    db().commit()
    return demand


def _match(demand) -> None:
    try:
        matching.match_demand(db(), demand=demand, engine=runtime().matcher, now=runtime().now())
    except pure.MatchingError as exc:
        raise matching.as_validation_error(exc) from None


@blp.route("/demands/<int:demand_id>/match", methods=["POST"])
@blp.response(200, DemandOut)
def demand_match(demand_id):
    """Run the matcher again (the bureau, or the requester on its own demand): the best entries are
    kept as suggestions with their explanations, and the verdict with its root cause."""
    demand = services.get_demand(db(), actor=current_actor(), demand_id=demand_id)
    _match(demand)
    db().commit()
    return demand


class PreviewIn(Schema):
    title = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    items = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list,
                        validate=validate.Length(max=MAX_ITEMS, error=f"最多{MAX_ITEMS}个信息项"))
    top_k = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


@blp.route("/match/preview", methods=["POST"])
@blp.arguments(PreviewIn)
@blp.response(200)
def match_preview(payload):
    """Search-as-you-type: what already exists for a demand being written (same engine)."""
    current_actor()
    query = pure.Query(title=payload["title"], description=payload["description"], items=tuple(payload["items"]))
    try:
        result = matching.preview(db(), engine=runtime().matcher, query=query, now=runtime().now(),
                                  top_k=payload["top_k"])
    except pure.MatchingError as exc:
        raise matching.as_validation_error(exc) from None
    return result.to_dict()


class OverdueOut(Schema):
    department_id = fields.Integer(allow_none=True)
    waiting_on = fields.String()
    overdue = fields.Integer()


@blp.route("/demands/overdue-counts")
@blp.response(200, OverdueOut(many=True))
def overdue_counts():
    """Overdue demands, by who they wait on (the bureau, or a provider department)."""
    return services.overdue_counts(db(), actor=current_actor(), now=runtime().now())


@blp.route("/demands/<int:demand_id>/history")
@blp.response(200, StepOut(many=True))
def demand_history(demand_id):
    """Every step of the demand: who, what, when, why."""
    return services.history(db(), actor=current_actor(), demand_id=demand_id)
