"""Accounts: create users, check passwords, issue and check API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.actors import Actor, Role
from catalog.errors import Conflict, NotFound, PermissionDenied, ValidationError
from catalog.services import department_name, find_department, ordering, paginate

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


# -- managing users (the admin) -------------------------------------------------------------------

USER_SORTS = {"username": User.username, "display_name": User.display_name, "role": User.role,
              "department": department_name(User.department_id), "active": User.active,
              "created_at": User.created_at, "updated_at": User.updated_at}


def list_users(session: Session, *, actor: Actor, q: str | None = None, role: str | None = None,
               department_id: int | None = None, active: bool | None = None, sort: str = "username",
               page: int = 1, page_size: int = 20):
    """Users with filters, sorting and pages (the admin only)."""
    actor.require_role(Role.ADMIN, action="管理用户")
    stmt = select(User)
    if q:
        stmt = stmt.where(or_(User.username.contains(q), User.display_name.contains(q)))
    for column, value in ((User.role, Role.parse(role) if role else None), (User.department_id, department_id),
                          (User.active, active)):
        if value is not None:
            stmt = stmt.where(column == value)
    return paginate(session, stmt.order_by(*ordering(sort, USER_SORTS, User.id)), page=page, page_size=page_size)


def _user_for_change(session: Session, actor: Actor, user_id: int, seen: dt.datetime | None) -> User:
    """The user to change; ``seen`` is the ``updated_at`` the admin's form was read at (409 if stale)."""
    user = user_for_admin(session, actor=actor, user_id=user_id)
    if seen is not None and _naive(user.updated_at) != _naive(seen):
        raise Conflict("该用户已被他人修改，请刷新后重试", code="stale_version")
    return user


def _naive(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=None) if moment else None


def update_user(session: Session, *, actor: Actor, user_id: int, role: str, department: str | int | None,
                display_name: str | None, email: str | None, seen: dt.datetime | None, now: dt.datetime) -> User:
    """Change a user's role, department, name or e-mail."""
    user = _user_for_change(session, actor, user_id, seen)
    problems: dict[str, list[str]] = {}
    try:
        parsed = Role.parse(role)
    except ValueError as exc:
        problems["role"], parsed = [str(exc)], None
    dept = find_department(session, department) if department not in (None, "") else None
    if department not in (None, "") and dept is None:
        problems["department"] = [f"找不到部门“{department}”"]
    elif parsed in (Role.PROVIDER, Role.REQUESTER) and dept is None:
        problems["department"] = ["提供方和需求方用户必须属于一个部门"]
    if user.id == actor.user_id and parsed is not Role.ADMIN:
        problems["role"] = ["不能取消自己的管理员角色"]
    if problems:
        raise ValidationError("用户信息不符合要求", details=problems)
    user.role, user.department_id, user.department = parsed, dept.id if dept else None, dept
    user.display_name = (display_name or "").strip() or user.username
    user.email = (email or "").strip() or None
    user.updated_at = now
    session.flush()
    return user


def set_active(session: Session, *, actor: Actor, user_id: int, active: bool, seen: dt.datetime | None,
               now: dt.datetime) -> User:
    """Deactivate (signing in and every token stop working) or reactivate a user."""
    user = _user_for_change(session, actor, user_id, seen)
    if user.id == actor.user_id and not active:
        raise ValidationError("不能停用自己的账号", details={"active": ["不能停用自己"]})
    user.active, user.updated_at = active, now
    session.flush()
    return user


def reset_password(session: Session, *, actor: Actor, user_id: int, now: dt.datetime,
                   password: str | None = None) -> tuple[User, str]:
    """Set a new password (a random one unless given); it is returned once, to hand to the user."""
    user = _user_for_change(session, actor, user_id, None)
    password = password or secrets.token_urlsafe(9)
    if len(password) < MIN_PASSWORD:
        raise ValidationError("密码不符合要求", details={"password": [f"密码至少{MIN_PASSWORD}位"]})
    user.password_hash, user.updated_at = generate_password_hash(password), now
    session.flush()
    return user, password


def user_for_admin(session: Session, *, actor: Actor, user_id: int) -> User:
    actor.require_role(Role.ADMIN, action="管理用户")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    return user
