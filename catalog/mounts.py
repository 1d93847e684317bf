"""Mounting (挂接) the real resource behind an entry, and unmounting it.

A table is checked reachable and read (columns, rows, last change) before it is accepted; a file
is stored by checksum after it reads as a table; an API must have a well-formed http(s) URL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .errors import NotFound, ValidationError
from .models import CatalogEntry, MountedResource
from .sources import check_api_url, inspect_table, store_file
from .vocab import EntryStatus, Health, MountKind


def _entry_to_mount(session: Session, actor: Actor, entry_id: int) -> CatalogEntry:
    entry = session.get(CatalogEntry, entry_id)
    if entry is None:
        raise NotFound(f"目录 {entry_id} 不存在")
    actor.require_write_for(entry.provider_id, "该部门的挂接资源")
    if entry.status is EntryStatus.WITHDRAWN:
        raise ValidationError("已撤销的目录不能挂接资源", details={"entry_id": [entry.resource_code]})
    return entry


def mount_table(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    url: str,
    table: str,
    change_column: str | None = None,
    timeout: int = 10,
    now: dt.datetime,
) -> MountedResource:
    entry = _entry_to_mount(session, actor, entry_id)
    if not (table or "").strip():
        raise ValidationError("须填写表名", details={"table": ["必填"]})
    shape = inspect_table(url, table.strip(), change_column=change_column, timeout=timeout)
    return _add(session, entry, actor, now, kind=MountKind.TABLE, url=url.strip(),
                table_name=table.strip(), change_column=change_column, columns=shape.columns,
                row_count=shape.row_count, data_changed_at=shape.data_changed_at,
                health=Health.OK, checked_at=now)


def mount_file(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    stream,
    filename: str,
    storage: Path,
    max_bytes: int,
    now: dt.datetime,
) -> MountedResource:
    entry = _entry_to_mount(session, actor, entry_id)
    stored = store_file(stream, filename=filename, storage=storage, max_bytes=max_bytes)
    return _add(session, entry, actor, now, kind=MountKind.FILE, file_key=stored.key,
                file_name=Path(filename).name, checksum=stored.checksum,
                size_bytes=stored.size_bytes, columns=stored.shape.columns,
                row_count=stored.shape.row_count, data_changed_at=now,
                health=Health.OK, checked_at=now)


def mount_api(session: Session, *, actor: Actor, entry_id: int, url: str, now: dt.datetime):
    entry = _entry_to_mount(session, actor, entry_id)
    return _add(session, entry, actor, now, kind=MountKind.API, url=check_api_url(url))


def _add(session: Session, entry: CatalogEntry, actor: Actor, now, **values) -> MountedResource:
    mount = MountedResource(entry_id=entry.id, mounted_at=now, mounted_by=actor.user_id, **values)
    entry.updated_at = now  # what is mounted is part of the entry's state (indexes reload on it)
    session.add(mount)
    session.flush()
    return mount


def unmount(session: Session, *, actor: Actor, mount_id: int, now: dt.datetime) -> MountedResource:
    mount = session.get(MountedResource, mount_id)
    if mount is None or mount.unmounted_at is not None:
        raise NotFound(f"挂接资源 {mount_id} 不存在或已撤除")
    actor.require_write_for(mount.entry.provider_id, "该部门的挂接资源")
    mount.unmounted_at = now
    mount.unmounted_by = actor.user_id
    mount.entry.updated_at = now
    session.flush()
    return mount


def active_mounts(session: Session, entry_id: int) -> list[MountedResource]:
    stmt = select(MountedResource).where(
        MountedResource.entry_id == entry_id, MountedResource.unmounted_at.is_(None)
    )
    return list(session.scalars(stmt.order_by(MountedResource.id)))
