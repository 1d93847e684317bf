"""Accounts: create users, check passwords, issue and check API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.actors import Actor, Role
from catalog.errors import Conflict, NotFound, PermissionDenied, ValidationError
from catalog.services import find_department

from .models import ApiToken, User

TOKEN_PREFIX = "exk_"
MIN_PASSWORD = 8
USE_RECORD_INTERVAL = dt.timedelta(minutes=5)  # last_used_at is kept to this precision


class AuthenticationFailed(PermissionDenied):
    code = "unauthenticated"
    status = 401


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    department: str | int | None = None,
    display_name: str | None = None,
) -> User:
    actor.require_role(Role.ADMIN, action="创建用户")
    problems = _user_problems(username, password, role)
    parsed_role = Role.parse(role) if "role" not in problems else None
    dept = find_department(session, department) if department not in (None, "") else None
    if department not in (None, "") and dept is None:
        problems["department"] = [f"找不到部门“{department}”"]
    if parsed_role in (Role.PROVIDER, Role.REQUESTER) and dept is None and "department" not in problems:
        problems["department"] = ["提供方和需求方用户必须属于一个部门"]
    if problems:
        raise ValidationError("用户信息不符合要求", details=problems)
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名“{username}”已存在")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password),
        role=parsed_role,
        department_id=dept.id if dept else None,
        department=dept,
    )
    session.add(user)
    session.flush()
    return user


def _user_problems(username: str, password: str, role: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        problems["username"] = ["用户名须为1到64位字母、数字、下划线或点"]
    if len(password or "") < MIN_PASSWORD:
        problems["password"] = [f"密码至少{MIN_PASSWORD}位"]
    try:
        Role.parse(role)
    except ValueError as exc:
        problems["role"] = [str(exc)]
    return problems


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    return user


def check_password(session: Session, *, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        raise AuthenticationFailed("用户名或密码错误")
    return user


def create_token(
    session: Session, *, user: User, name: str, now: dt.datetime, days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; the clear text is returned once and only its digest is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        digest=digest(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
        created_at=now,
        expires_at=now + dt.timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate_token(session: Session, *, secret: str, now: dt.datetime) -> User:
    token = session.scalar(select(ApiToken).where(ApiToken.digest == digest(secret)))
    if token is None or token.revoked_at is not None:
        raise AuthenticationFailed("令牌无效或已吊销")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthenticationFailed("令牌已过期")
    if not token.user.active:
        raise AuthenticationFailed("用户已停用")
    if token.last_used_at is None or now - token.last_used_at > USE_RECORD_INTERVAL:
        token.last_used_at = now
    return token.user


def revoke_token(session: Session, *, actor: Actor, token_id: int, now: dt.datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"令牌 {token_id} 不存在")
    if token.user_id != actor.user_id:
        actor.require_role(Role.ADMIN, action="吊销他人的令牌")
    token.revoked_at = now
    return token
