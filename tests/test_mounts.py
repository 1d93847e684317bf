"""Mounting the real resources behind entries: tables checked and read, files stored by checksum."""

from __future__ import annotations

import hashlib
import io
import sqlite3

import pytest
from sqlalchemy import func, select

from catalog import mounts, services
from catalog.actors import SYSTEM
from catalog.errors import MountFailed, NotFound, PermissionDenied, ValidationError
from catalog.models import MountedResource
from catalog.vocab import Health, MountKind

from .conftest import entry_fields


@pytest.fixture
def entry(session, stats_bureau, now):
    data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id))
    return services.create_entry(session, actor=SYSTEM, data=data, now=now)


@pytest.fixture
def source_db(tmp_path):
    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE enterprises (uscc TEXT, name TEXT, updated TEXT)")
        connection.executemany("INSERT INTO enterprises VALUES (?, ?, ?)",
                               [(f"91{i:016d}", f"企业{i}", f"2026-10-{i + 1:02d}T08:00:00") for i in range(12)])
    return path


def count_mounts(session) -> int:
    return session.scalar(select(func.count()).select_from(MountedResource))


def test_a_table_mount_reads_columns_rows_and_last_change(session, entry, source_db, now):
    mount = mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=f"sqlite:///{source_db}",
                               table="enterprises", change_column="updated", now=now)
    assert [c["name"] for c in mount.columns] == ["uscc", "name", "updated"]
    assert mount.row_count == 12
    assert mount.data_changed_at.isoformat() == "2026-10-12T08:00:00+00:00"
    assert (mount.kind, mount.health) == (MountKind.TABLE, Health.OK)
    assert services.mounted_entry_ids(session, [entry.id]) == {entry.id}


def test_a_table_mount_never_creates_a_missing_database(session, entry, tmp_path, now):
    missing = tmp_path / "nowhere.sqlite"
    with pytest.raises(MountFailed, match="不存在"):
        mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=f"sqlite:///{missing}",
                           table="t", now=now)
    assert not missing.exists()
    assert count_mounts(session) == 0


def test_a_missing_table_is_named(session, entry, source_db, now):
    with pytest.raises(MountFailed, match="没有表“people”"):
        mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=f"sqlite:///{source_db}",
                           table="people", now=now)


def test_an_unreachable_database_server_fails_quickly_with_the_host_named(session, entry, now):
    url = "postgresql://reader:secret@127.0.0.1:1/nothing"
    with pytest.raises(MountFailed) as caught:
        mounts.mount_table(session, actor=SYSTEM, entry_id=entry.id, url=url, table="t", timeout=2, now=now)
    assert "127.0.0.1" in caught.value.message and "secret" not in caught.value.message
    assert count_mounts(session) == 0


def test_a_mounted_table_is_read_only(source_db):
    from catalog.sources import parse_table_url, read_only_engine

    engine = read_only_engine(parse_table_url(f"sqlite:///{source_db}"), timeout=2)
    with engine.connect() as connection, pytest.raises(Exception, match="readonly"):
        connection.exec_driver_sql("DELETE FROM enterprises")


def test_a_file_mount_is_stored_under_its_checksum(session, entry, tmp_path, now):
    content = "统一社会信用代码,企业名称\n911,甲\n912,乙\n".encode()
    mount = mounts.mount_file(session, actor=SYSTEM, entry_id=entry.id, stream=io.BytesIO(content),
                              filename="企业.csv", storage=tmp_path, max_bytes=1 << 20, now=now)
    assert mount.checksum == hashlib.sha256(content).hexdigest()
    assert (tmp_path / mount.file_key).read_bytes() == content
    assert (mount.row_count, mount.size_bytes, mount.file_name) == (2, len(content), "企业.csv")


def test_a_file_that_is_not_a_table_is_refused_and_not_kept(session, entry, tmp_path, now):
    with pytest.raises(MountFailed):
        mounts.mount_file(session, actor=SYSTEM, entry_id=entry.id, stream=io.BytesIO(b"PK\x03\x04junk"),
                          filename="broken.xlsx", storage=tmp_path, max_bytes=1 << 20, now=now)
    assert list(tmp_path.rglob("*.xlsx")) == [] and count_mounts(session) == 0


def test_an_oversized_file_is_refused(session, entry, tmp_path, now):
    with pytest.raises(ValidationError, match="文件过大"):
        mounts.mount_file(session, actor=SYSTEM, entry_id=entry.id, stream=io.BytesIO(b"a,b\n" * 1000),
                          filename="big.csv", storage=tmp_path, max_bytes=100, now=now)


@pytest.mark.parametrize("url", ["ftp://data.example/x", "data.example/api", "https://"])
def test_api_mounts_need_a_full_http_url(session, entry, url, now):
    with pytest.raises(ValidationError, match="http"):
        mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url=url, now=now)


def test_a_provider_cannot_mount_on_another_departments_entry(session, entry, user, transport, now):
    outsider = user("traffic", "provider", transport)[0].actor
    with pytest.raises(PermissionDenied):
        mounts.mount_api(session, actor=outsider, entry_id=entry.id, url="https://data.example/api", now=now)


def test_unmounting_keeps_the_record_and_clears_the_mounted_state(session, entry, now):
    mount = mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url="https://data.example/api", now=now)
    mounts.unmount(session, actor=SYSTEM, mount_id=mount.id, now=now)
    assert mount.unmounted_at == now
    assert services.mounted_entry_ids(session, [entry.id]) == set()
    with pytest.raises(NotFound):
        mounts.unmount(session, actor=SYSTEM, mount_id=mount.id, now=now)


def test_the_mounted_filter_splits_the_catalog(session, entry, stats_bureau, now):
    data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id, name="无挂接"))
    bare = services.create_entry(session, actor=SYSTEM, data=data, now=now)
    mounts.mount_api(session, actor=SYSTEM, entry_id=entry.id, url="https://data.example/api", now=now)
    mounted = services.list_entries(session, actor=SYSTEM, filters=services.EntryFilter(mounted=True))
    unmounted = services.list_entries(session, actor=SYSTEM, filters=services.EntryFilter(mounted=False))
    assert [e.id for e in mounted.items] == [entry.id] and [e.id for e in unmounted.items] == [bare.id]
