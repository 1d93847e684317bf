"""Error pages: a clear message in the user's language, never a stack trace.

The API keeps its JSON error shape: these handlers answer for pages and hand every request under
``/api/`` to the handler the API registered before them.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from catalog.errors import CatalogError, PermissionDenied

from ..app import db, runtime
from ..audit import services as audit
from .i18n import N_

log = logging.getLogger(__name__)


def init_errors(app: Flask) -> None:
    for cls, page in ((CatalogError, _domain_error), (HTTPException, _http_error), (Exception, _unexpected)):
        api_handler = app.error_handler_spec.get(None, {}).get(None, {}).get(cls)
        app.register_error_handler(cls, _either(api_handler, page))
    app.register_error_handler(CSRFError, _either(app.error_handler_spec[None][None][HTTPException], _csrf_error))


def _either(api_handler, page_handler):
    from . import is_api_request

    def handle(exc):
        if api_handler is not None and is_api_request():
            return api_handler(exc)
        return page_handler(exc)

    return handle


TITLES = {
    400: N_("请求有误"), 401: N_("请先登录"), 403: N_("无权访问"), 404: N_("页面不存在"), 405: N_("不支持的操作"),
    409: N_("操作冲突"), 413: N_("文件太大"), 422: N_("填写有误"), 500: N_("服务器出错了"),
}
MESSAGES = {
    403: N_("您没有权限查看或操作此内容。"),
    404: N_("您要找的页面或对象不存在，或者您无权查看。"),
    405: N_("此页面不支持这种操作。"),
    413: N_("上传的文件超过了允许的大小。"),
    500: N_("服务器内部错误，已记录。请稍后再试，或联系管理员。"),
}


def render_error(status: int, message: str | None = None, details=None):
    title = _(TITLES.get(status, N_("出错了")))
    text = message or _(MESSAGES.get(status, N_("请求未能完成。")))
    return render_template("errors/error.html", status=status, title=title, message=text,
                           details=details), status


def _domain_error(exc: CatalogError):
    db().rollback()
    if isinstance(exc, PermissionDenied):
        audit.record_refusal(db(), actor=g.get("actor"), error=exc, request=f"{request.method} {request.path}",
                             ids=request.view_args or {}, now=runtime().now())
        db().commit()
    return render_error(exc.status, _(exc.message), exc.details)


def _http_error(exc: HTTPException):
    status = exc.code or 500
    return render_error(status, _(MESSAGES[status]) if status in MESSAGES else None)


def _csrf_error(exc: CSRFError):
    return render_error(400, _("表单已失效或缺少安全令牌，请返回上一页刷新后重新提交。"))


def _unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        db().rollback()
    except Exception:  # noqa: BLE001 — the page must still render
        log.exception("rollback after an unhandled error failed")
    return render_error(500)
