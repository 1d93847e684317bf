"""Chasing owners after a scan: one inbox notification per department with newly opened flags
(counts by kind and where to read them), and one to each bureau user when flags were escalated.

One summary per department, never one per flag: a first scan of a large catalog opens hundreds of
thousands of flags, and a department wants to know how many of what, and where to look.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

from sqlalchemy import Select, String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from catalog.actors import Role

from ..accounts.models import User
from ..notifications.services import Channels, notify_many, notify_select
from .models import Flag, FlagKind

FLAGS_PATH = "/api/v1/flags"


def summary(counts: dict[str, int]) -> str:
    """'未按期更新 3 条，未挂接资源 1 条' in the kinds' order."""
    return "，".join(f"{kind.label} {counts[kind.value]} 条" for kind in FlagKind if counts.get(kind.value))


def notify_departments(session: Session, *, after_id: int, now: dt.datetime, channels: Channels) -> int:
    """Tell each department of the flags opened after ``after_id`` and still open; return how many were
    told.  Set-based: the summaries are written by one ``INSERT … SELECT`` (and their copies by one
    per channel), never built in Python, as a first scan tells thousands of departments at once."""
    return notify_select(session, rows=summaries_since(after_id), kind="flags_opened", now=now, channels=channels)


def summaries_since(after_id: int) -> Select:
    """SQL: per department with flags opened after ``after_id`` and still open, its summary's title and
    body, as :func:`summary` words them (counts by kind, in the kinds' order, and the link)."""
    # the new flags counted by department and kind first, reading them by their ids (else SQLite
    # groups by walking the department index over every flag); then one row per department
    new = (select(Flag.department_id, Flag.kind).where(Flag.id > after_id, Flag.resolved_at.is_(None))
           .cte("new_flags", nesting=True).prefix_with("MATERIALIZED"))
    by_kind = (select(new.c.department_id, new.c.kind, func.count().label("n"))
               .group_by(new.c.department_id, new.c.kind).subquery("by_kind"))
    per_kind = [func.sum(case((by_kind.c.kind == kind.value, by_kind.c.n), else_=0)).label(kind.value)
                for kind in FlagKind]
    counts = (select(by_kind.c.department_id, func.sum(by_kind.c.n).label("total"), *per_kind)
              .group_by(by_kind.c.department_id).subquery("counts"))
    parts = [case((counts.c[kind.value] > 0, "，" + _text(kind.label + " ") + _text(counts.c[kind.value]) + " 条"),
                  else_="") for kind in FlagKind]
    title = "本部门新增目录问题 " + _text(counts.c.total) + " 条，请及时整改"
    body = (func.substr(reduce(operator.add, parts), 2) + f"。查看：{FLAGS_PATH}?department_id="
            + _text(counts.c.department_id) + "&state=open")
    return (select(counts.c.department_id, title, body, literal("flags"))
            .order_by(counts.c.department_id))


def _text(value):
    """SQL: a value as text (a literal string, or a number cast)."""
    return literal(value, String) if isinstance(value, str) else cast(value, String)


def notify_bureau(session: Session, *, escalated_at: dt.datetime, now: dt.datetime, channels: Channels) -> int:
    """Tell every active bureau user of the flags escalated at ``escalated_at``; return how many were told."""
    stmt = select(Flag.kind, func.count()).where(Flag.escalated_at == escalated_at).group_by(Flag.kind)
    counts = {FlagKind(kind).value: count for kind, count in session.execute(stmt)}
    if not counts:
        return 0
    departments = session.scalar(select(func.count(func.distinct(Flag.department_id)))
                                 .where(Flag.escalated_at == escalated_at))
    note = {"kind": "flags_escalated", "title": f"{sum(counts.values())} 条目录问题超期未整改，已升级督办",
            "body": f"涉及 {departments} 个部门：{summary(counts)}。查看：{FLAGS_PATH}?escalated=true&state=open",
            "object_type": "flags"}
    return notify_many(session, notes=[{**note, "user_id": u} for u in bureau_user_ids(session)], now=now,
                       channels=channels)


def bureau_user_ids(session: Session) -> list[int]:
    """The active users of the bureau, who are told of escalations and exemption requests."""
    return list(session.scalars(select(User.id).where(User.role == Role.BUREAU, User.active.is_(True))
                                .order_by(User.id)))
