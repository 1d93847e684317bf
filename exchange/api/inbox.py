"""The caller's notification inbox (its own messages and its department's)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..app import db, runtime
from ..notifications import services
from . import current_actor
from .schemas import PageArgs, page_of

blp = Blueprint("inbox", __name__, description="站内通知")


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    object_type = fields.String(allow_none=True)
    object_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class InboxArgs(PageArgs):
    unread = fields.Boolean()


NotificationPage = page_of(NotificationOut, "NotificationPage")


@blp.route("/notifications")
@blp.arguments(InboxArgs, location="query")
@blp.response(200, NotificationPage)
def notifications(args):
    """Your inbox, newest first (unread=true for the unread ones)."""
    return services.list_inbox(db(), actor=current_actor(), unread=args.get("unread"),
                               page=args["page"], page_size=args["page_size"])


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationOut)
def mark_read(notification_id):
    """Mark one notification read."""
    note = services.mark_read(db(), actor=current_actor(), notification_id=notification_id, now=runtime().now())
    db().commit()
    return note
