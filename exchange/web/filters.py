"""Template filters: times in the exchange's time zone, ages and deadlines in words."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import gettext as _

from ..app import runtime


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def localtime(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return _aware(moment).astimezone(runtime().settings.zone).strftime(fmt)


def age_days(moment: dt.datetime | None, now: dt.datetime) -> int:
    return max(0, (_aware(now) - _aware(moment)).days) if moment else 0


def due(deadline: dt.datetime | None, now: dt.datetime) -> dict:
    """A deadline as a badge: how long is left, or how long ago it passed."""
    if deadline is None:
        return {"css": "", "text": "—"}
    left = _aware(deadline) - _aware(now)
    if left.total_seconds() < 0:
        late = -left
        if late.days == 0:
            return {"css": "err", "text": _("已逾期 %(hours)s 小时", hours=int(late.total_seconds() // 3600))}
        return {"css": "err", "text": _("已逾期 %(days)s 天", days=late.days)}
    if left.days < 2:
        return {"css": "warn", "text": _("剩余 %(hours)s 小时", hours=int(left.total_seconds() // 3600))}
    return {"css": "ok", "text": _("剩余 %(days)s 天", days=left.days)}


def init_filters(app: Flask) -> None:
    app.add_template_filter(localtime, "localtime")
    app.add_template_global(age_days, "age_days")
    app.add_template_global(due, "due")
