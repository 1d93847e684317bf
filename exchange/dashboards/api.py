"""The dashboards over the API: the bureau sees every department, a provider its own.

Every table answers as JSON, or as a file with ``?format=csv`` or ``?format=xlsx``.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from catalog.vocab import DepartmentLevel

from ..api import current_actor
from ..api.schemas import PageArgs
from ..app import db, runtime
from ..demands.models import UnmetReason
from ..freshness.models import FlagKind
from ..freshness.rules import FreshnessConfig
from . import lists, scorecards, services
from .exporting import FORMATS, table_bytes
from .facts import AGE_BANDS, Moment

blp = Blueprint("dashboards", __name__,
                description="统计看板：挂接率、更新及时率、目录问题、供需对接、需求满足率、考核")


class ScopeArgs(Schema):
    department_id = fields.Integer(metadata={"description": "只看这个部门（提供方只能看本部门）"})
    level = fields.String(validate=validate.OneOf([v for m in DepartmentLevel for v in (m.value, m.label)]),
                          metadata={"description": "只看这一层级的部门：国家/省/市/县/乡"})


class PeriodArgs(ScopeArgs):
    start = fields.Date(metadata={"description": "统计期间的第一天（默认：结束日前 29 天）"})
    end = fields.Date(metadata={"description": "统计期间的最后一天（默认：最近一次快照日）"})

    @validates_schema
    def _ordered(self, data, **_):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise SchemaError("开始日期不能晚于结束日期", field_name="start")


class FormatArgs(Schema):
    format = fields.String(validate=validate.OneOf(["json", *FORMATS]), load_default="json",
                           metadata={"description": "json（默认）、csv 或 xlsx"})


class TableArgs(PeriodArgs, FormatArgs, PageArgs):
    sort = fields.String(metadata={"description": "按指标排序，前加 - 为降序，如 -mounted_rate"})


class TrendArgs(PeriodArgs, FormatArgs):
    figure = fields.List(fields.String(), metadata={"description": "指标（可多个），默认挂接率、更新及时率等"})


class ListArgs(ScopeArgs, FormatArgs, PageArgs):
    sort = fields.String(metadata={"description": "排序，前加 - 为降序：目录按 resource_code、name、provider、update_cycle、"
                                                 "last_updated、status；需求按 ref、title、status、deadline、unmet_reason；"
                                                 "问题按 kind、resource_code、name、department、opened_at；"
                                                 "阻塞目录按 demands、resource_code、name、provider"})
    kind = fields.String(validate=validate.OneOf([k.value for k in FlagKind]),
                         metadata={"description": "flags：只看这一类问题"})
    age = fields.String(validate=validate.OneOf([band for band, _ in AGE_BANDS]),
                        metadata={"description": "flags：只看已开这些天的问题"})
    unmet_reason = fields.String(validate=validate.OneOf([r.value for r in UnmetReason]),
                                 metadata={"description": "unmet：只看这一原因"})


class ThresholdIn(Schema):
    green = fields.Float(required=True, metadata={"description": "达到（或优于）此值为绿"})
    yellow = fields.Float(required=True, metadata={"description": "达到（或优于）此值为黄，否则为红"})
    lock_version = fields.Integer(required=True, metadata={"description": "读到的版本（默认阈值为 0）"})


class ThresholdOut(Schema):
    figure = fields.String()
    label = fields.String()
    green = fields.Float()
    yellow = fields.Float()
    higher_is_better = fields.Boolean()
    lock_version = fields.Integer()


def _scope(args):
    return services.scope_for(db(), current_actor(), department_id=args.get("department_id"),
                              level=args.get("level"))


def _period(args):
    return services.period_for(db(), start=args.get("start"), end=args.get("end"))


def _moment() -> Moment:
    return Moment(runtime().now(), runtime().settings.timezone)


def _table(rows: list[dict], args, name: str, *, total: int | None = None, paged: bool = True):
    """JSON (a page of rows when ``paged``), or every row as CSV/XLSX."""
    fmt = args.get("format", "json")
    if fmt != "json":
        return download(rows, fmt, name)
    if not paged:
        return {"items": plain(rows)}
    page, size = args["page"], args["page_size"]
    items = rows if total is not None else rows[(page - 1) * size: page * size]
    total = len(rows) if total is None else total
    return {"items": plain(items), "page": page, "page_size": size, "total": total, "pages": max(1, -(-total // size))}


def plain(value):
    """Dates and times as ISO 8601 text, through lists and dicts."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def download(rows: list[dict], fmt: str, name: str) -> Response:
    """A table as a CSV or XLSX file with Chinese headers, named ``name`` (the API and the pages)."""
    return Response(table_bytes(rows, fmt, sheet=name), mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.{fmt}"})


@blp.route("/dashboards/summary")
@blp.arguments(PeriodArgs, location="query")
@blp.response(200)
def summary(args):
    """Every figure of the platform, a level or a department for a period (from the snapshots)."""
    return plain(services.summary(db(), scope=_scope(args), period=_period(args)))


@blp.route("/dashboards/departments")
@blp.arguments(TableArgs, location="query")
@blp.response(200)
def departments(args):
    """One row per department with every figure; sortable, paginated, exportable."""
    scope, period = _scope(args), _period(args)
    if args["format"] != "json":
        return _table(services.department_rows(db(), scope=scope, period=period, sort=args.get("sort")), args, "部门统计")
    rows, total = services.department_page(db(), scope=scope, period=period, sort=args.get("sort"),
                                           page=args["page"], page_size=args["page_size"])
    return _table(rows, args, "部门统计", total=total)


@blp.route("/dashboards/trends")
@blp.arguments(TrendArgs, location="query")
@blp.response(200)
def trends(args):
    """Figures per day over a period, read from the daily snapshots."""
    rows = services.trend(db(), scope=_scope(args), period=_period(args), figures=args.get("figure"))
    return _table(rows, args, "趋势", paged=False)


@blp.route("/dashboards/lists/<string:figure>")
@blp.arguments(ListArgs, location="query")
@blp.response(200)
def drilldown(args, figure):
    """The rows behind a number (entries, unmounted, untimely, flags, overdue, unmet …), live."""
    export = args.get("format", "json") != "json"
    page = lists.drilldown(db(), figure=figure, scope=_scope(args), moment=_moment(),
                           page=1 if export else args["page"], page_size=None if export else args["page_size"],
                           flag_kind=args.get("kind"), age=args.get("age"), unmet_reason=args.get("unmet_reason"),
                           sort=args.get("sort"))
    return _table(page.items, args, lists.LISTS[figure].label, total=page.total)


@blp.route("/dashboards/blocking")
@blp.arguments(ListArgs, location="query")
@blp.response(200)
def blocking(args):
    """Unmounted or stale entries ranked by the open demands waiting on them."""
    export = args.get("format", "json") != "json"
    page = lists.blocking_entries(db(), scope=_scope(args), moment=_moment(),
                                  config=FreshnessConfig(timezone=runtime().settings.timezone),
                                  page=1 if export else args["page"], page_size=None if export else args["page_size"],
                                  sort=args.get("sort"))
    return _table(page.items, args, "阻塞需求的目录", total=page.total)


@blp.route("/dashboards/scorecards")
@blp.arguments(TableArgs, location="query")
@blp.response(200)
def scorecard_table(args):
    """Red, yellow or green per department and figure, and overall, against the bureau's thresholds."""
    limits = scorecards.thresholds(db())
    scope, period = _scope(args), _period(args)
    if args["format"] != "json":
        rows = services.department_rows(db(), scope=scope, period=period, sort=args.get("sort"))
        return _table([scorecards.score(row, limits) for row in rows], args, "考核")
    rows, total = services.department_page(db(), scope=scope, period=period, sort=args.get("sort"),
                                           page=args["page"], page_size=args["page_size"])
    return _table([scorecards.score(row, limits) for row in rows], args, "考核", total=total)


@blp.route("/dashboards/thresholds")
@blp.response(200, ThresholdOut(many=True))
def threshold_list():
    """The scorecard thresholds in force (the bureau's, else the defaults)."""
    services.scope_for(db(), current_actor())
    return [t.as_dict() for t in scorecards.thresholds(db())]


@blp.route("/dashboards/thresholds/<string:figure>", methods=["PUT"])
@blp.arguments(ThresholdIn)
@blp.response(200, ThresholdOut)
def threshold_set(data, figure):
    """Set a figure's thresholds (the bureau); send the ``lock_version`` you read."""
    result = scorecards.set_threshold(db(), actor=current_actor(), figure=figure, now=runtime().now(), **data)
    db().commit()
    return result.as_dict()
