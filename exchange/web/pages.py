"""What every page shares: list arguments (page, size, sort, filters) read from the query string,
and turning a service's domain error into a flash message on the form that caused it."""

from __future__ import annotations

from dataclasses import dataclass, field

from collections.abc import Callable

from flask import flash, request
from flask_babel import gettext as _

from catalog.errors import CatalogError, NotFound, PermissionDenied

from ..app import db

PAGE_SIZES = (20, 50, 100)


@dataclass
class ListArgs:
    """A list page's state as the query string carries it; the table macros build links from it."""

    page: int = 1
    page_size: int = PAGE_SIZES[0]
    sort: str = ""
    filters: dict = field(default_factory=dict)

    def link_args(self, **changes) -> dict:
        """The query arguments of this list with some changed (a new page, another sort)."""
        args = {**{k: v for k, v in self.filters.items() if v not in (None, "")},
                "page": self.page, "page_size": self.page_size, "sort": self.sort}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}


def list_args(*, sorts: tuple[str, ...], default_sort: str, filters: tuple[str, ...] = ()) -> ListArgs:
    """Read page, page_size, sort and the named filters; an unknown value falls back to the default."""
    page = request.args.get("page", "1")
    size = request.args.get("page_size", str(PAGE_SIZES[0]))
    sort = request.args.get("sort", default_sort)
    return ListArgs(
        page=int(page) if page.isdigit() and int(page) > 0 else 1,
        page_size=int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZES[0],
        sort=sort if sort.lstrip("-") in sorts else default_sort,
        filters={name: request.args.get(name, "").strip() for name in filters},
    )


def flash_error(exc: CatalogError) -> None:
    """A refused form: say what and where, on the page the user is on.  Missing objects and
    permissions are not the form's fault: those go to the error page."""
    if isinstance(exc, (NotFound, PermissionDenied)):
        raise exc
    flash(_(exc.message), "error")


def attempt(write: Callable[[], object], *, done: str | None = None) -> tuple[object, CatalogError | None]:
    """Run one write and commit it, flashing ``done``; or roll it back and flash why it was refused.
    Returns (what the write returned, None) or (None, the refusal)."""
    try:
        result = write()
        db().commit()
    except CatalogError as exc:
        db().rollback()
        flash_error(exc)
        return None, exc
    if done:
        flash(done, "success")
    return result, None


def field_errors(exc: CatalogError) -> dict[str, list[str]]:
    """The per-field messages of a validation error, to show beside each field."""
    details = exc.details if isinstance(exc.details, dict) else {}
    return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in details.items()}


def blank_to_none(value: str | None):
    value = (value or "").strip()
    return value or None
