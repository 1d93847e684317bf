"""Departments, data elements, the vocabularies of the national template, and the caller."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import services, vocab
from catalog.actors import Role
from catalog.elements import element_values
from catalog.errors import ValidationError
from catalog.rules import RuleViolations

from ..app import db
from . import current_actor
from .schemas import (
    DepartmentIn,
    DepartmentOut,
    ElementIn,
    ElementOut,
    SearchArgs,
    UserOut,
    page_of,
)

blp = Blueprint("directory", __name__, description="部门、数据元、代码表")
DepartmentPage = page_of(DepartmentOut, "DepartmentPage")
ElementPage = page_of(ElementOut, "ElementPage")

VOCABULARIES = {
    "update_cycle": vocab.UpdateCycle, "sharing_type": vocab.SharingType,
    "sharing_method": vocab.SharingMethod, "open_attribute": vocab.OpenAttribute,
    "format": vocab.ResourceFormat, "category": vocab.Category, "status": vocab.EntryStatus,
    "department_level": vocab.DepartmentLevel, "data_type": vocab.DataType,
    "mount_kind": vocab.MountKind, "role": Role,
}


@blp.route("/departments")
class Departments(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, DepartmentPage)
    def get(self, args):
        """List departments (by name or code)."""
        current_actor()
        return services.list_departments(db(), q=args.get("q"), page=args["page"], page_size=args["page_size"])

    @blp.arguments(DepartmentIn)
    @blp.response(201, DepartmentOut)
    def post(self, payload):
        """Register a department (bureau or admin); the credit code is checked (GB 32100)."""
        department = services.create_department(
            db(), actor=current_actor(), data=services.DepartmentData(**payload)
        )
        db().commit()
        return department


@blp.route("/departments/<int:department_id>")
@blp.response(200, DepartmentOut)
def department(department_id):
    """One department."""
    current_actor()
    return services.get_department(db(), department_id)


@blp.route("/elements")
class Elements(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, ElementPage)
    def get(self, args):
        """List standard data elements (数据元) by name or identifier."""
        current_actor()
        return services.list_elements(db(), q=args.get("q"), page=args["page"], page_size=args["page_size"])

    @blp.arguments(ElementIn)
    @blp.response(201, ElementOut)
    def post(self, payload):
        """Add a data element (bureau or admin)."""
        element = services.create_element(db(), actor=current_actor(), values=_element(payload))
        db().commit()
        return element


def _element(payload: dict) -> dict:
    try:
        return element_values(payload)
    except RuleViolations as exc:
        raise ValidationError("数据元不符合要求", details=exc.by_field()) from None


@blp.route("/elements/<int:element_id>")
@blp.response(200, ElementOut)
def element(element_id):
    """One data element."""
    current_actor()
    return services.get_element(db(), element_id)


@blp.route("/vocabularies")
@blp.response(200)
def vocabularies():
    """Every code list: value (stored and returned by the API) and Chinese label (accepted too)."""
    return {name: [{"value": m.value, "label": m.label} for m in enum] for name, enum in VOCABULARIES.items()}


@blp.route("/me")
@blp.response(200, UserOut)
def me():
    """The user the token belongs to."""
    current_actor()
    return g.user
