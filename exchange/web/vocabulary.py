"""The bureau's synonym table as a page (同义词库): list, filter, sort and page; add a group; remove
one (with the version read, so a group changed meanwhile is not removed blindly)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from catalog.actors import Role

from ..app import db, runtime
from ..synonyms import services as synonyms
from ..synonyms.models import SynonymKind
from .auth import actor, roles_required
from .pages import attempt, blank_to_none, list_args

bp = Blueprint("vocabulary", __name__, url_prefix="/bureau/synonyms")
bureau_only = roles_required(Role.BUREAU, Role.ADMIN)
KINDS = [(k.value, k.label) for k in SynonymKind]


@bp.route("")
@bureau_only
def synonyms_list():
    args = list_args(sorts=tuple(synonyms.SORTABLE), default_sort="-updated_at", filters=("q", "kind"))
    kind = args.filters["kind"] if args.filters["kind"] in {k for k, _label in KINDS} else None
    filters = synonyms.SynonymFilter(kind=SynonymKind(kind) if kind else None, q=args.filters["q"] or None)
    page = synonyms.list_synonyms(db(), filters=filters, sort=args.sort, page=args.page, page_size=args.page_size)
    return render_template("vocabulary/synonyms.html", page=page, args=args, kinds=KINDS)


@bp.route("", methods=["POST"])
@bureau_only
def synonyms_add():
    attempt(lambda: synonyms.create_synonym(db(), actor=actor(), terms=request.form.get("terms", ""),
                                            kind=blank_to_none(request.form.get("kind")),
                                            note=blank_to_none(request.form.get("note")), now=runtime().now()),
            done=_("已添加；匹配将在下一次检索时使用"))
    return redirect(url_for("vocabulary.synonyms_list"))


@bp.route("/<int:synonym_id>/delete", methods=["POST"])
@bureau_only
def synonyms_delete(synonym_id: int):
    lock = request.form.get("lock_version", "")
    attempt(lambda: synonyms.delete_synonym(db(), actor=actor(), synonym_id=synonym_id,
                                            lock_version=int(lock) if lock.isdigit() else None),
            done=_("已删除"))
    return redirect(url_for("vocabulary.synonyms_list"))
