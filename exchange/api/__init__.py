"""The REST API under /api/v1: token authentication, one error shape, the OpenAPI document.

Every error, whatever raised it, leaves as ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import logging

import swagger_ui_bundle
from flask import Flask, g, jsonify, request, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from catalog.actors import Actor
from catalog.errors import CatalogError, PermissionDenied

from ..accounts.services import AuthenticationFailed, authenticate_token
from ..app import db, runtime
from ..audit import services as audit

PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="政务数据共享交换平台 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{PREFIX}/docs/assets/",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
            "security": [{"token": []}],
            "info": {"description": "目录、挂接、部门与数据元。令牌放在 Authorization: Bearer <token>。"},
        },
    )
    api = Api(app)
    from . import catalog, demands, directory, inbox, sharing

    for blueprint in (catalog.blp, directory.blp, demands.blp, sharing.blp, inbox.blp):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    from ..audit.api import blp as audit_blueprint

    api.register_blueprint(audit_blueprint, url_prefix=PREFIX)
    from ..freshness.api import blp as freshness_blueprint

    api.register_blueprint(freshness_blueprint, url_prefix=PREFIX)
    from ..dashboards.api import blp as dashboards_blueprint

    api.register_blueprint(dashboards_blueprint, url_prefix=PREFIX)
    from ..synonyms.api import blp as synonyms_blueprint

    api.register_blueprint(synonyms_blueprint, url_prefix=PREFIX)
    app.add_url_rule(f"{PREFIX}/docs/assets/<path:name>", "swagger_assets", _swagger_asset)
    app.register_error_handler(CatalogError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return api


def _swagger_asset(name: str):
    """Swagger UI served from the installed package: the docs page works with no internet."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)


def error_response(status: int, code: str, message: str, details=None):
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def _domain_error(exc: CatalogError):
    db().rollback()
    if isinstance(exc, PermissionDenied):
        _audit_refusal(exc)
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _audit_refusal(exc: PermissionDenied) -> None:
    """A refusal (403, or 401) is audited in a transaction of its own: the request's rolled back."""
    audit.record_refusal(db(), actor=g.get("actor"), error=exc, request=f"{request.method} {request.path}",
                         ids=request.view_args or {}, now=runtime().now())
    db().commit()


HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "too_many_requests"}


def _http_error(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    details = data.get("messages")
    if isinstance(details, dict) and len(details) == 1:  # {"json": {...}} → {...}
        details = next(iter(details.values()))
    code = HTTP_CODES.get(exc.code, "http_error")
    message = {422: "请求参数不符合要求"}.get(exc.code, exc.description or exc.name)
    return error_response(exc.code or 500, code, message, details)


def _unexpected_error(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "服务器内部错误，已记录")


def current_actor() -> Actor:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a valid token."""
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if not header and request.method in SAFE_METHODS and _signed_in_page_user():
        return g.actor
    scheme, _, secret = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not secret.strip():
        raise AuthenticationFailed("缺少令牌：请在 Authorization 头中提供 Bearer 令牌")
    user = authenticate_token(db(), secret=secret.strip(), now=runtime().now())
    db().commit()  # keep last_used_at
    g.user, g.actor = user, user.actor
    db().info["actor"] = g.actor  # whom the audit trail names for this request's changes
    return g.actor


SAFE_METHODS = ("GET", "HEAD")


def _signed_in_page_user() -> bool:
    """A read from the web pages (search-as-you-type, suggestions) may use the signed-in session
    instead of a token; writes always need a token, so a cross-site form can never post as the
    user."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return False
    g.user, g.actor = current_user, current_user.actor
    db().info["actor"] = g.actor
    return True
