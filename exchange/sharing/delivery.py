"""Data delivered through the exchange under a grant: only the granted items, from the entry's
mounted resource, streamed; every delivery is logged (rows, bytes, outcome) and counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.actors import Actor
from catalog.db import session_scope
from catalog.errors import Conflict
from catalog.mounts import active_mounts
from catalog.vocab import MountKind

from ..audit import services as audit
from ..delivery import Delivery as Stream
from ..delivery import DeliveryLimits, DeliveryStats, Window, open_delivery
from .models import Delivery, Grant
from .services import usable_grant

PREFERRED = (MountKind.TABLE, MountKind.FILE, MountKind.API)  # which mount serves when several do


@dataclass
class Started:
    record: Delivery
    stream: Stream
    grant: Grant


def start(session: Session, *, actor: Actor, grant_id: int, items: list[str] | None, fmt: str,
          window: Window, storage: Path, limits: DeliveryLimits, now: dt.datetime) -> Started:
    """Check the grant, open the source (failing before any byte is sent), log the delivery."""
    grant, wanted = usable_grant(session, actor=actor, grant_id=grant_id, items=items, now=now)
    mounts = sorted(active_mounts(session, grant.entry_id), key=lambda m: PREFERRED.index(m.kind))
    if not mounts:
        raise Conflict("该目录尚未挂接资源，暂无数据可提供", code="not_mounted")
    stream = open_delivery(mounts[0], wanted, fmt, storage=storage, limits=limits, window=window)
    record = Delivery(grant_id=grant.id, mount_id=mounts[0].id, actor_id=actor.user_id, format=fmt,
                      items=wanted, status="started", at=now)
    session.add(record)
    session.flush()
    audit.record(session, actor=actor, action="grant.deliver", object_type="grant", object_id=grant.id,
                 after={"delivery_id": record.id, "entry_id": grant.entry_id, "format": fmt, "items": wanted,
                        "offset": window.offset, "limit": window.limit}, now=now)
    return Started(record, stream, grant)


def finish(sessions, *, delivery_id: int, stats: DeliveryStats) -> None:
    """When the stream ends (or breaks), record what was actually sent, in its own transaction."""
    with session_scope(sessions) as session:
        record = session.get(Delivery, delivery_id)
        record.rows, record.bytes = stats.rows, stats.bytes
        record.status = "completed" if stats.done and not stats.error else "failed"
        record.error = stats.error


def usage(session: Session, *, since: dt.datetime | None = None) -> list[dict]:
    """Deliveries, rows and bytes per receiving department and entry (for the dashboards)."""
    stmt = (
        select(Grant.grantee_id, Grant.entry_id, func.count(Delivery.id), func.sum(Delivery.rows),
               func.sum(Delivery.bytes))
        .join(Grant, Grant.id == Delivery.grant_id)
        .where(Delivery.status == "completed")
        .group_by(Grant.grantee_id, Grant.entry_id)
    )
    if since is not None:
        stmt = stmt.where(Delivery.at >= since)
    keys = ("department_id", "entry_id", "deliveries", "rows", "bytes")
    return [dict(zip(keys, row)) for row in session.execute(stmt)]
