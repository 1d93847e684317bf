"""Reading the catalog: the visible entries, filters, text search, sorting, pages, one entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from ..actors import Actor, Role
from ..db import contains_text, id_in
from ..errors import NotFound, ValidationError
from ..models import (
    CatalogEntry,
    EntryText,
    EntryVersion,
    MountedResource,
    StatusChange,
)
from ..rules import fold_query
from ..search import TextIndex
from .common import VISIBLE_TO_ALL, Page, ordering, paginate

# -- entries: reading ----------------------------------------------------------------------------


@dataclass
class EntryFilter:
    provider_id: int | None = None
    sharing_type: str | None = None
    status: str | None = None
    update_cycle: str | None = None
    category: str | None = None
    mounted: bool | None = None
    q: str | None = None
    sort: str = "-updated_at"
    entry_ids: list[int] | None = None  # already narrowed, e.g. by the in-process text index


SORTABLE = {
    "name": CatalogEntry.name,
    "resource_code": CatalogEntry.resource_code,
    "updated_at": CatalogEntry.updated_at,
    "created_at": CatalogEntry.created_at,
    "publish_date": CatalogEntry.publish_date,
    "last_updated": CatalogEntry.last_updated,
    "id": CatalogEntry.id,
}


def is_mounted():
    """SQL: the entry has at least one resource mounted now."""
    return exists().where(
        MountedResource.entry_id == CatalogEntry.id, MountedResource.unmounted_at.is_(None)
    )


def visible_entries(actor: Actor) -> Select:
    stmt = select(CatalogEntry)
    if actor.oversees_all:
        return stmt
    shown = CatalogEntry.status.in_(VISIBLE_TO_ALL)
    if actor.role is Role.PROVIDER and actor.department_id is not None:
        shown = or_(shown, CatalogEntry.provider_id == actor.department_id)
    return stmt.where(shown)


MAX_IN_LIST = 20_000  # past this many text hits, the database scans instead


def list_entries(
    session: Session,
    *,
    actor: Actor,
    filters: EntryFilter,
    page: int = 1,
    page_size: int = 20,
    text_index: TextIndex | None = None,
) -> Page:
    # A provider narrows to a few hundred rows: the database checks their text faster than the
    # index finds every hit of a common word across the catalog.
    words = fold_query(filters.q or "").split()
    if not words:
        filters = replace(filters, q=None)
    elif text_index is not None and filters.provider_id is None:
        text_index.refresh(session)
        hits = text_index.matching_ids(words)
        if len(hits) <= MAX_IN_LIST:
            filters = replace(filters, entry_ids=hits)
    stmt = apply_filters(visible_entries(actor), filters, session=session)
    stmt = stmt.order_by(*_ordering(filters.sort))
    return paginate(session, stmt, page=page, page_size=page_size)


def apply_filters(stmt: Select, f: EntryFilter, *, session: Session | None = None) -> Select:
    equal = {
        CatalogEntry.provider_id: f.provider_id,
        CatalogEntry.sharing_type: f.sharing_type,
        CatalogEntry.status: f.status,
        CatalogEntry.update_cycle: f.update_cycle,
        CatalogEntry.category: f.category,
    }
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if f.mounted is not None:
        stmt = stmt.where(is_mounted() if f.mounted else ~is_mounted())
    if f.entry_ids is not None:
        stmt = stmt.where(id_in(session, CatalogEntry.id, f.entry_ids))
    elif f.q:
        words = [contains_text(EntryText.text, word) for word in fold_query(f.q).split()]
        stmt = stmt.where(exists().where(EntryText.entry_id == CatalogEntry.id, *words))
    return stmt


def _ordering(sort: str) -> list:
    return ordering(sort, SORTABLE, CatalogEntry.id)


def mounted_entry_ids(session: Session, entry_ids: Sequence[int]) -> set[int]:
    if not entry_ids:
        return set()
    stmt = select(MountedResource.entry_id).where(
        MountedResource.entry_id.in_(entry_ids), MountedResource.unmounted_at.is_(None)
    )
    return set(session.scalars(stmt))


def get_entry(session: Session, *, actor: Actor, entry_id: int | None = None, code: str | None = None):
    stmt = visible_entries(actor).options(
        selectinload(CatalogEntry.items), selectinload(CatalogEntry.mounts)
    )
    if code is not None:
        stmt = stmt.where(CatalogEntry.resource_code == code)
    else:
        stmt = stmt.where(CatalogEntry.id == entry_id)
    entry = session.scalar(stmt)
    if entry is None:
        raise NotFound(f"目录 {code or entry_id} 不存在或无权查看")
    return entry


def list_versions(session: Session, *, actor: Actor, entry_id: int) -> list[EntryVersion]:
    get_entry(session, actor=actor, entry_id=entry_id)
    stmt = select(EntryVersion).where(EntryVersion.entry_id == entry_id).order_by(EntryVersion.version)
    return list(session.scalars(stmt))


def list_status_changes(session: Session, *, entry_id: int) -> list[StatusChange]:
    stmt = select(StatusChange).where(StatusChange.entry_id == entry_id).order_by(StatusChange.id)
    return list(session.scalars(stmt))
