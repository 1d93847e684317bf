"""ORM changes to audited objects become audit events, one per object per transaction.

After each flush, every created, changed or deleted object of an audited class is noted with the
fields that changed (from the attributes' history, still intact at that point); a savepoint that
rolls back forgets what was noted inside it.  Just before the transaction commits, the notes are
merged per object (first "before", last "after") and appended to the chain, so a change and its
event commit together and the chain head stays locked only for the moment of the commit.

Who and from where come from ``session.info["actor"]`` and ``session.info["client"]``, set by
the request and by the command line; without them the change is the system's.  Bulk writes past
the ORM (imports) record a summary event themselves.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from catalog.actors import SYSTEM
from catalog.models import CatalogEntry, DataElement, Department, MountedResource, utcnow

from ..demands.models import Demand, DemandMatch
from ..freshness.models import Exemption
from ..sharing.models import Grant, Objection, SharingApplication

from ..accounts.models import ApiToken, User
from ..synonyms.models import Synonym
from .services import append, event_values

PENDING = "audit_pending"  # session.info key: [(transaction, change), …] not yet appended
MAX_TEXT = 120
MAX_LIST = 10


@dataclass(frozen=True)
class Audited:
    """How one class is audited: its object type, the fields whose changes count, the fields a
    creation shows, and fields whose change names the action (``unmounted_at`` → unmount)."""

    object_type: str
    fields: tuple[str, ...]
    shown_on_create: tuple[str, ...]
    actions: tuple[tuple[str, str], ...] = ()
    create_action: str = "create"


ENTRY_CONTENT = (
    "name summary category classification_code format format_detail sharing_type sharing_condition "
    "not_shared_basis sharing_method open_attribute update_cycle publish_date last_updated related_codes "
    "provider_id status version content_hash"
).split()
AUDITED = {
    CatalogEntry: Audited("catalog_entry", tuple(ENTRY_CONTENT),
                          ("resource_code", "name", "provider_id", "status"), (("status", "status"),)),
    MountedResource: Audited("mounted_resource", ("unmounted_at",),
                             ("entry_id", "kind", "table_name", "file_name", "url"),
                             (("unmounted_at", "unmount"),), create_action="mount"),
    Department: Audited("department", ("name", "code", "level", "region_code", "parent_id"),
                        ("name", "code", "level", "region_code", "parent_id")),
    DataElement: Audited("data_element", ("identifier", "name", "english_name", "definition", "data_type",
                                          "format", "value_domain", "synonyms", "status"),
                         ("identifier", "name", "status")),
    User: Audited("user", ("role", "active", "department_id", "display_name"),
                  ("username", "role", "department_id")),
    ApiToken: Audited("api_token", ("revoked_at", "expires_at"), ("user_id", "name", "prefix", "expires_at"),
                      (("revoked_at", "revoke"),)),
    Demand: Audited("demand", ("status", "provider_id", "unmet_reason", "title", "satisfied"),
                    ("ref", "title", "requester_id", "status"), (("status", "status"),)),
    DemandMatch: Audited("demand_match", ("state", "reason"), ("demand_id", "entry_id", "score"),
                         (("state", "state"),), create_action="suggest"),
    SharingApplication: Audited("sharing_application", ("status", "reason", "items"),
                                ("entry_id", "requester_id", "items", "status"), (("status", "status"),)),
    Grant: Audited("grant", ("revoked_at", "revoke_reason", "expires_at"),
                   ("application_id", "entry_id", "grantee_id", "items", "expires_at"),
                   (("revoked_at", "revoke"),), create_action="grant"),
    Exemption: Audited("flag_exemption", ("status", "decision_reason", "ends_at"),
                       ("entry_id", "kind", "department_id", "reason", "status"), (("status", "status"),),
                       create_action="request"),
    Objection: Audited("objection", ("status", "answer"), ("entry_id", "provider_id", "requester_id", "status"),
                       (("status", "status"),)),
    Synonym: Audited("synonym", ("terms", "kind", "note"), ("terms", "kind", "demand_id")),
}


BY_TYPE = {audited.object_type: audited for audited in AUDITED.values()}


def audit_flushes() -> None:
    """Audit the ORM changes of every session (idempotent)."""
    for name, listener in (("after_flush", _note), ("before_commit", _append_notes),
                           ("after_soft_rollback", _forget_rolled_back), ("after_transaction_end", _forget_all)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _note(session: Session, _flush_context) -> None:
    changes = [c for c in map(_change, _touched(session)) if c is not None]
    if changes:
        transaction = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(PENDING, []).extend((transaction, change) for change in changes)


def _append_notes(session: Session) -> None:
    """Before the outermost commit: one event per changed object, appended in this transaction."""
    if session.in_nested_transaction():  # a savepoint is released: its notes wait for the commit
        return
    session.flush()  # the commit's last flush, so its changes are noted too
    changes = _merged([change for _, change in session.info.pop(PENDING, [])])
    actor, client, now = session.info.get("actor") or SYSTEM, session.info.get("client", ""), utcnow()
    append(session, [event_values(actor=actor, client=client, now=now, **c) for c in changes])


def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(PENDING)
    if pending:
        session.info[PENDING] = [(t, c) for t, c in pending if not _inside(t, transaction)]


def _forget_all(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None and transaction is not outer:
        transaction = transaction.parent
    return transaction is outer


def _touched(session: Session):
    for kind, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if type(obj) in AUDITED:
                yield kind, obj


def _change(touched) -> dict | None:
    kind, obj = touched
    audited = AUDITED[type(obj)]
    change = {"kind": kind, "object_type": audited.object_type, "object_id": obj.id, "before": {}, "after": {}}
    if kind == "create":
        change["after"] = {name: short(getattr(obj, name)) for name in audited.shown_on_create}
    elif kind == "update":
        change["before"], change["after"] = _changed_fields(obj, audited.fields)
        if not change["after"]:
            return None
    return change


def _merged(changes: list[dict]) -> list[dict]:
    """One event per object: the first kind and "before" of each field, the last "after"."""
    by_object: dict[tuple, dict] = {}
    for change in changes:
        key = (change["object_type"], change["object_id"])
        first = by_object.setdefault(key, {**change, "before": {}, "after": {}})
        first["before"] = {**change["before"], **first["before"]}
        first["after"].update(change["after"])
        if change["kind"] == "delete":
            first["kind"] = "delete"
    return [event for event in map(_as_event, by_object.values()) if event is not None]


def _as_event(change: dict) -> dict | None:
    audited, kind = BY_TYPE[change["object_type"]], change["kind"]
    before, after = change["before"], change["after"]
    if kind == "update":
        after = {k: v for k, v in after.items() if before.get(k) != v}
        before = {k: before.get(k) for k in after}
        if not after:
            return None
        kind = next((name for field, name in audited.actions if field in after), "update")
    elif kind == "create":
        kind, before = audited.create_action, None
    return {"action": f"{audited.object_type}.{kind}", "object_type": audited.object_type,
            "object_id": change["object_id"], "before": before or None, "after": after or None}


def _changed_fields(obj, fields: tuple[str, ...]) -> tuple[dict, dict]:
    state, before, after = inspect(obj), {}, {}
    for name in fields:
        history = state.attrs[name].history
        if history.has_changes():
            before[name] = short(history.deleted[0]) if history.deleted else None
            after[name] = short(history.added[0]) if history.added else None
    return before, after


def short(value):
    """A value as a summary shows it: plain JSON, long text cut."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    if isinstance(value, list) and len(value) > MAX_LIST:
        return value[:MAX_LIST] + ["…"]
    return value
