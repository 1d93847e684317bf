"""Admin pages (管理员): users (create, role, department, deactivate, reset password), departments,
and a read-only view of the settings in force (secrets masked)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from catalog import services
from catalog.actors import Role
from catalog.vocab import DepartmentLevel

from ..accounts import services as accounts
from ..app import db, runtime
from .auth import actor, roles_required
from .i18n import N_
from .pages import attempt, blank_to_none, field_errors, list_args

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.ADMIN)

USER_SORTS = tuple(accounts.USER_SORTS)
ROLES = [(r.value, r.label) for r in Role]
ACTIVE = [("yes", N_("启用")), ("no", N_("已停用"))]


def _departments() -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in services.list_departments(db(), page=1, page_size=200).items]


@bp.route("/users")
@admin_only
def users():
    args = list_args(sorts=USER_SORTS, default_sort="username", filters=("q", "role", "department_id", "active"))
    f = args.filters
    page = accounts.list_users(
        db(), actor=actor(), q=f["q"] or None, role=f["role"] or None,
        department_id=int(f["department_id"]) if f["department_id"].isdigit() else None,
        active={"yes": True, "no": False}.get(f["active"]), sort=args.sort, page=args.page,
        page_size=args.page_size)
    return render_template("admin/users.html", page=page, args=args, roles=ROLES, active=ACTIVE,
                           departments=_departments())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    values, errors = dict(request.form), {}
    if request.method == "POST":
        created, refused = attempt(lambda: accounts.create_user(
            db(), actor=actor(), username=values.get("username", "").strip(),
            password=values.get("password", ""), role=values.get("role", ""),
            department=_department(values), display_name=blank_to_none(values.get("display_name"))))
        if refused is None:
            flash(_("已创建用户 %(name)s", name=created.username), "success")
            return redirect(url_for("admin.users"))
        errors = field_errors(refused)
    return render_template("admin/user_new.html", values=values, errors=errors, roles=ROLES,
                           departments=_departments()), 422 if errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    user = _user(user_id)
    values, errors, status = _values_of(user), {}, 200
    if request.method == "POST":
        values = dict(request.form)
        refused = attempt(lambda: accounts.update_user(
            db(), actor=actor(), user_id=user_id, role=values.get("role", ""), department=_department(values),
            display_name=values.get("display_name"), email=values.get("email"), seen=_seen(), now=runtime().now()),
            done=_("已保存"))[1]
        if refused is None:
            return redirect(url_for("admin.user_edit", user_id=user_id))
        errors, status = field_errors(refused), refused.status
        user = _user(user_id)
        values["seen"] = user.updated_at.isoformat()
    return render_template("admin/user_edit.html", user=user, values=values, errors=errors, roles=ROLES,
                           departments=_departments()), status


def _department(values: dict) -> int | None:
    return int(values["department"]) if str(values.get("department", "")).isdigit() else None


def _user(user_id: int):
    return accounts.user_for_admin(db(), actor=actor(), user_id=user_id)


def _values_of(user) -> dict:
    return {"role": user.role.value, "department": user.department_id or "", "display_name": user.display_name,
            "email": user.email or "", "seen": user.updated_at.isoformat()}


def _seen() -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(request.form.get("seen", ""))
    except ValueError:
        return None


@bp.route("/users/<int:user_id>/<any(deactivate, activate):action>", methods=["POST"])
@admin_only
def user_active(user_id: int, action: str):
    attempt(lambda: accounts.set_active(db(), actor=actor(), user_id=user_id, active=action == "activate",
                                        seen=_seen(), now=runtime().now()),
            done=_("已启用") if action == "activate" else _("已停用"))
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@admin_only
def user_reset_password(user_id: int):
    user, password = accounts.reset_password(db(), actor=actor(), user_id=user_id, now=runtime().now())
    db().commit()
    flash(_("已为 %(name)s 重置密码，新密码（只显示这一次）：%(password)s", name=user.username, password=password),
          "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


# -- departments ----------------------------------------------------------------------------------


@bp.route("/departments", methods=["GET", "POST"])
@admin_only
def departments():
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = dict(request.form)
        data = services.DepartmentData(
            name=values.get("name", "").strip(), code=blank_to_none(values.get("code")),
            level=blank_to_none(values.get("level")), region_code=blank_to_none(values.get("region_code")),
            parent=blank_to_none(values.get("parent")))
        created, refused = attempt(lambda: services.create_department(db(), actor=actor(), data=data))
        if refused is None:
            flash(_("已添加部门 %(name)s", name=created.name), "success")
            return redirect(url_for("admin.departments"))
        errors, status = field_errors(refused), refused.status
    args = list_args(sorts=tuple(services.DEPARTMENT_SORTS), default_sort="name", filters=("q",))
    page = services.list_departments(db(), q=args.filters["q"] or None, sort=args.sort, page=args.page,
                                     page_size=args.page_size)
    return render_template("admin/departments.html", page=page, args=args, values=values, errors=errors,
                           levels=[(lv.label, lv.label) for lv in DepartmentLevel]), status


# -- settings -------------------------------------------------------------------------------------


@bp.route("/settings")
@admin_only
def settings():
    return render_template("admin/settings.html", settings=runtime().settings.described())
