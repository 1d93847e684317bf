"""Sharing applications, grants and objections."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from catalog.actors import Role

from ..app import db, runtime
from ..delivery import DeliveryLimits, Window
from ..sharing import delivery, services
from ..sharing.download import streamed
from ..sharing.models import ApplicationStatus, ObjectionStatus
from . import current_actor
from .schemas import DepartmentRef, EntryRef, PageArgs, page_of

blp = Blueprint("sharing", __name__, description="共享申请、授权与异议")


class ApplicationIn(Schema):
    entry_id = fields.Integer(required=True)
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    items = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                        metadata={"description": "申请的信息项；不填则为全部可共享信息项"})
    demand_id = fields.Integer(allow_none=True)


class DecisionIn(Schema):
    approve = fields.Boolean(required=True)
    lock_version = fields.Integer(required=True)
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    items = fields.List(fields.String(), allow_none=True, metadata={"description": "批准的信息项（可少于申请）"})
    expires_at = fields.AwareDateTime(allow_none=True)


class GrantRef(Schema):
    id = fields.Integer()
    items = fields.List(fields.String())
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ApplicationOut(Schema):
    id = fields.Integer()
    entry = fields.Nested(EntryRef)
    requester = fields.Nested(DepartmentRef)
    demand_id = fields.Integer(allow_none=True)
    purpose = fields.String()
    items = fields.List(fields.String())
    status = fields.Enum(ApplicationStatus, by_value=True)
    deadline = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    grant = fields.Nested(GrantRef, allow_none=True)
    lock_version = fields.Integer()
    created_at = fields.DateTime()


class GrantOut(GrantRef):
    entry = fields.Nested(EntryRef)
    grantee = fields.Nested(DepartmentRef)
    purpose = fields.String()
    granted_at = fields.DateTime()
    revoke_reason = fields.String(allow_none=True)


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ObjectionIn(Schema):
    entry_id = fields.Integer(required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    delivery_id = fields.Integer(allow_none=True)


class AnswerIn(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ObjectionOut(Schema):
    id = fields.Integer()
    entry = fields.Nested(EntryRef)
    delivery_id = fields.Integer(allow_none=True)
    requester_id = fields.Integer()
    provider_id = fields.Integer()
    description = fields.String()
    status = fields.Enum(ObjectionStatus, by_value=True)
    deadline = fields.DateTime()
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class StatusArgs(PageArgs):
    status = fields.String(validate=validate.Length(max=20))


class GrantArgs(PageArgs):
    active = fields.Boolean(metadata={"description": "只列出未过期、未吊销的授权"})


class ObjectionArgs(StatusArgs):
    overdue = fields.Boolean()


ApplicationPage = page_of(ApplicationOut, "ApplicationPage")
GrantPage = page_of(GrantOut, "GrantPage")
ObjectionPage = page_of(ObjectionOut, "ObjectionPage")


@blp.route("/applications")
class Applications(MethodView):
    @blp.arguments(StatusArgs, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """Applications you filed, or on your department's entries (the bureau sees all)."""
        return services.list_applications(db(), actor=current_actor(), status=args.get("status"),
                                          page=args["page"], page_size=args["page_size"])

    @blp.arguments(ApplicationIn)
    @blp.response(201, ApplicationOut)
    def post(self, payload):
        """Apply for an entry: 无条件共享 is granted at once, 不予共享 refused with its basis,
        有条件共享 waits for the provider."""
        application = services.apply(db(), actor=current_actor(), now=runtime().now(),
                                     deadlines=runtime().deadlines, channels=runtime().channels, **payload)
        db().commit()
        return application


@blp.route("/applications/<int:application_id>")
@blp.response(200, ApplicationOut)
def application(application_id):
    """One application."""
    return services.get_application(db(), actor=current_actor(), application_id=application_id)


@blp.route("/applications/<int:application_id>/decide", methods=["POST"])
@blp.arguments(DecisionIn)
@blp.response(200, ApplicationOut)
def decide(payload, application_id):
    """The provider approves (a grant is issued) or refuses with a reason; 409 if someone else
    decided first."""
    result = services.decide(db(), actor=current_actor(), application_id=application_id,
                             now=runtime().now(), channels=runtime().channels, **payload)
    db().commit()
    return result


@blp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@blp.response(200, ApplicationOut)
def withdraw(application_id):
    """The requester withdraws a pending application."""
    result = services.withdraw(db(), actor=current_actor(), application_id=application_id, now=runtime().now())
    db().commit()
    return result


@blp.route("/grants")
@blp.arguments(GrantArgs, location="query")
@blp.response(200, GrantPage)
def grants(args):
    """Grants you hold, or on your department's entries."""
    active_at = runtime().now() if args.get("active") else None
    return services.list_grants(db(), actor=current_actor(), active_at=active_at,
                                page=args["page"], page_size=args["page_size"])


@blp.route("/grants/<int:grant_id>")
@blp.response(200, GrantOut)
def grant(grant_id):
    """One grant."""
    return services.get_grant(db(), actor=current_actor(), grant_id=grant_id)


@blp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@blp.arguments(ReasonIn)
@blp.response(200, GrantOut)
def revoke(payload, grant_id):
    """The provider (or the bureau) revokes a grant, with a reason."""
    result = services.revoke(db(), actor=current_actor(), grant_id=grant_id, reason=payload["reason"],
                             now=runtime().now())
    db().commit()
    return result


@blp.route("/objections")
class Objections(MethodView):
    @blp.arguments(ObjectionArgs, location="query")
    @blp.response(200, ObjectionPage)
    def get(self, args):
        """Objections you raised, or charged to your department; overdue ones with overdue=true."""
        overdue_at = runtime().now() if args.get("overdue") else None
        return services.list_objections(db(), actor=current_actor(), status=args.get("status"),
                                        overdue_at=overdue_at, page=args["page"], page_size=args["page_size"])

    @blp.arguments(ObjectionIn)
    @blp.response(201, ObjectionOut)
    def post(self, payload):
        """Report a problem with an entry's data (异议); the provider must answer by the deadline."""
        objection = services.raise_objection(db(), actor=current_actor(), now=runtime().now(),
                                             deadlines=runtime().deadlines, channels=runtime().channels, **payload)
        db().commit()
        return objection


class CountOut(Schema):
    department_id = fields.Integer(allow_none=True)
    open = fields.Integer()
    overdue = fields.Integer()


class UsageOut(Schema):
    department_id = fields.Integer()
    entry_id = fields.Integer()
    deliveries = fields.Integer()
    rows = fields.Integer()
    bytes = fields.Integer()


@blp.route("/objections/counts")
@blp.response(200, CountOut(many=True))
def objection_counts():
    """Open and overdue objections per providing department."""
    return services.objection_counts(db(), actor=current_actor(), now=runtime().now())


@blp.route("/deliveries/usage")
@blp.response(200, UsageOut(many=True))
def delivery_usage():
    """Completed deliveries, rows and bytes per receiving department and entry (bureau)."""
    actor = current_actor()
    actor.require_role(Role.BUREAU, Role.ADMIN, action="查看数据使用统计")
    return delivery.usage(db())


@blp.route("/objections/<int:objection_id>/answer", methods=["POST"])
@blp.arguments(AnswerIn)
@blp.response(200, ObjectionOut)
def answer(payload, objection_id):
    """The provider answers an objection."""
    result = services.answer_objection(db(), actor=current_actor(), objection_id=objection_id,
                                       answer=payload["answer"], now=runtime().now())
    db().commit()
    return result


class DataArgs(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "json", "xlsx"]))
    items = fields.String(metadata={"description": "逗号分隔的信息项；不填则为授权的全部信息项"})
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(validate=validate.Range(min=1))


@blp.route("/grants/<int:grant_id>/data")
@blp.arguments(DataArgs, location="query")
@blp.response(200, description="the granted items as CSV, JSON or XLSX, streamed")
def grant_data(args, grant_id):
    """Receive the data under a grant: only granted items, from the entry's mounted resource,
    paged with offset/limit and capped; every delivery is logged with rows and bytes."""
    settings = runtime().settings
    items = [i.strip() for i in args.get("items", "").split(",") if i.strip()] or None
    started = delivery.start(db(), actor=current_actor(), grant_id=grant_id, items=items, fmt=args["format"],
                             window=Window(args["offset"], args.get("limit")), storage=settings.storage_path,
                             limits=DeliveryLimits.from_settings(settings), now=runtime().now())
    db().commit()
    return streamed(started, sessions=runtime().sessions)
