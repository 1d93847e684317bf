"""The audit trail: what gets recorded and by whom, the hash chain and its verification, the
database guard, the events API and ``exchange audit verify``."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from catalog import services as catalog_services
from catalog.actors import SYSTEM
from exchange.audit import services as audit
from exchange.audit.capture import audit_flushes
from exchange.audit.models import AuditChainHead, AuditEvent
from tests.conftest import auth, entry_fields
from tests.test_api import (  # noqa: F401  (provider, other_provider, bureau: token fixtures)
    API,
    act,
    bureau,
    cheap_password_hashes,
    error_of,
    import_file,
    other_provider,
    post_entry,
    provider,
    sample_bytes,
)
from tests.test_cli import failed, ok, run, use_database

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
GUARD_OFF = {  # the append-only triggers, switched off inside the test's transaction
    "postgresql": ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"],
    "sqlite": ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
}


@pytest.fixture(autouse=True)
def audited_flushes():
    audit_flushes()


def events_of(session, object_type: str, object_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    return list(session.scalars(stmt.order_by(AuditEvent.id)))


def events_after(session, event_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id)))


def last_event_id(session) -> int:
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def record_many(session, count: int) -> list[AuditEvent]:
    return [
        audit.record(session, actor=SYSTEM, action="catalog_entry.update", object_type="catalog_entry",
                     object_id=9000 + n, before={"name": f"旧名{n}"}, after={"name": f"新名{n}"},
                     client="10.0.0.1", now=T0 + dt.timedelta(minutes=n))
        for n in range(count)
    ]


def new_department(session, name: str):
    data = catalog_services.DepartmentData(name=name)
    return catalog_services.create_department(session, actor=SYSTEM, data=data)


def published_entry(session, department, now):
    data = catalog_services.parse_entry_fields({**entry_fields(), "provider_id": department.id})
    entry = catalog_services.create_entry(session, actor=SYSTEM, data=data, now=now)
    for action in ("submit", "publish"):
        catalog_services.transition(session, actor=SYSTEM, entry_id=entry.id, action=action, now=now)
    session.commit()
    return entry


def switch_guard_off(connection) -> None:
    for statement in GUARD_OFF[connection.dialect.name]:
        connection.execute(text(statement))


# -- what is recorded -----------------------------------------------------------------------------


def test_publishing_through_the_api_records_actor_department_status_and_client(
    client, session, provider, bureau, stats_bureau
):
    entry = post_entry(client, provider)
    assert act(client, provider, entry["id"], "submit").status_code == 200
    assert act(client, bureau, entry["id"], "publish").status_code == 200

    created, submitted, published = events_of(session, "catalog_entry", entry["id"])
    assert (created.action, created.after["status"]) == ("catalog_entry.create", "draft")
    assert (submitted.actor_name, submitted.department_id, submitted.client) == ("tongji", stats_bureau.id,
                                                                                 "127.0.0.1")
    assert (submitted.before, submitted.after) == ({"status": "draft"}, {"status": "submitted"})
    assert (published.action, published.actor_name, published.actor_role) == ("catalog_entry.status", "bureau",
                                                                              "bureau")
    assert (published.before["status"], published.after["status"]) == ("submitted", "published")
    assert (published.before["version"], published.after["version"]) == (0, 1)


def test_a_refused_patch_leaves_only_a_refusal_event(client, session, other_provider, stats_bureau, now):
    entry = published_entry(session, stats_bureau, now)
    before = last_event_id(session)

    response = client.patch(f"{API}/entries/{entry.id}", json={"name": "改名", "lock_version": entry.lock_version},
                            headers=auth(other_provider))

    assert response.status_code == 403
    (event,) = events_after(session, before)
    assert (event.action, event.object_type, event.object_id) == ("refusal.permission_denied", "catalog_entry",
                                                                  entry.id)
    assert (event.actor_name, event.after["request"]) == ("jiaotong", f"PATCH {API}/entries/{entry.id}")
    session.refresh(entry)
    assert entry.name == "企业登记信息"


def test_an_unauthenticated_request_is_recorded_as_anonymous(client, session):
    before = last_event_id(session)

    assert client.get(f"{API}/entries", headers=auth("exk_not-a-token")).status_code == 401

    (event,) = events_after(session, before)
    assert (event.action, event.actor_id, event.actor_role) == ("refusal.unauthenticated", None, "anonymous")


def test_mounting_and_unmounting_are_recorded(client, session, provider):
    entry = post_entry(client, provider)
    mount = client.post(f"{API}/entries/{entry['id']}/mounts", headers=auth(provider),
                        json={"kind": "api", "url": "https://data.example/api"}).get_json()
    assert client.delete(f"{API}/mounts/{mount['id']}", headers=auth(provider)).status_code == 200

    mounted, unmounted = events_of(session, "mounted_resource", mount["id"])
    assert (mounted.action, mounted.after["kind"]) == ("mounted_resource.mount", "api")
    assert (unmounted.action, unmounted.before) == ("mounted_resource.unmount", {"unmounted_at": None})


def test_an_import_records_one_summary_event(client, session, bureau):
    before = last_event_id(session)

    response = import_file(client, bureau, sample_bytes(), "台州市目录.csv", create_departments="true")

    assert response.status_code == 200, response.get_json()
    (event,) = [e for e in events_after(session, before) if e.action == "catalog.import"]
    result = response.get_json()
    assert event.after["file"] == "台州市目录.csv"
    assert (event.after["created"], event.after["departments_created"]) == (result["created"],
                                                                            result["departments_created"])


def test_a_change_rolled_back_in_a_savepoint_leaves_no_event(session):
    before = last_event_id(session)
    with session.begin_nested():
        new_department(session, "留下的部门")
        with pytest.raises(RuntimeError), session.begin_nested():
            new_department(session, "撤回的部门")
            raise RuntimeError("the inner step fails after its change was flushed")
    session.commit()

    assert [(e.action, e.after["name"]) for e in events_after(session, before)] == [
        ("department.create", "留下的部门")
    ]


# -- the chain ------------------------------------------------------------------------------------


def test_the_chain_verifies_after_many_appends(session):
    record_many(session, 300)

    result = audit.verify(session, batch=64)

    assert result.ok
    assert result.count == session.get(AuditChainHead, 1).last_id
    assert result.count == session.scalar(select(func.count()).select_from(AuditEvent))


def test_tampering_with_a_summary_names_that_event(session, connection):
    target = record_many(session, 5)[2]
    switch_guard_off(connection)

    connection.execute(text("""UPDATE audit_events SET "after" = '{"name":"伪造"}' WHERE id = :id"""),
                       {"id": target.id})

    result = audit.verify(connection, batch=2)
    assert (result.broken_id, result.problem) == (target.id, "altered")


def test_deleting_a_middle_event_is_detected(session, connection):
    target = record_many(session, 5)[2]
    switch_guard_off(connection)

    connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": target.id})

    result = audit.verify(connection)
    assert (result.broken_id, result.problem) == (target.id, "missing")


def test_deleting_the_last_event_is_detected(session, connection):
    target = record_many(session, 3)[-1]
    switch_guard_off(connection)

    connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": target.id})

    result = audit.verify(connection)
    assert (result.broken_id, result.problem) == (target.id, "missing")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'catalog_entry.delete' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_database_refuses_to_change_events(session, connection, statement):
    (event,) = record_many(session, 1)

    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement), {"id": event.id})
    savepoint.rollback()


# -- the API --------------------------------------------------------------------------------------


@pytest.fixture
def probes(session, user) -> dict:
    """Three events an hour apart from T0: two by a provider, one by the bureau, on three objects."""
    auditor, token = user("auditor", "bureau")
    author = user("author", "provider", new_department(session, "台州市审计局"))[0]
    ids = {}
    for hour, (label, who, kind, object_id) in enumerate([
        ("e1", author, "catalog_entry", 9101), ("e2", auditor, "catalog_entry", 9102),
        ("e3", author, "mounted_resource", 9101),
    ]):
        event = audit.record(session, actor=who.actor, action=f"{kind}.update", object_type=kind,
                             object_id=object_id, before={"hour": None}, after={"hour": hour},
                             client="10.0.0.9", now=T0 + dt.timedelta(hours=hour))
        ids[event.id] = label
    session.commit()
    return {"token": token, "author": author.id, "labels": ids}


def audit_events(client, probes, **query) -> list[dict]:
    response = client.get(f"{API}/audit/events", query_string=query, headers=auth(probes["token"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.mark.parametrize("query, expected", [
    ({"object_type": "catalog_entry", "object_id": 9101}, ["e1"]),
    ({"actor_id": "author"}, ["e3", "e1"]),
    ({"since": "2020-01-06T08:30:00Z", "until": "2020-01-06T10:00:00Z"}, ["e2"]),
    ({"since": "2020-01-06T16:00:00+08:00", "until": "2020-01-06T17:00:00+08:00"}, ["e1"]),
])
def test_events_api_filters_by_object_actor_and_time(client, probes, query, expected):
    query = {k: probes["author"] if v == "author" else v for k, v in query.items()}

    items = audit_events(client, probes, **query)

    assert [probes["labels"].get(item["id"]) for item in items] == expected


def test_events_api_shows_who_what_when_and_the_summaries(client, probes):
    (item,) = audit_events(client, probes, object_type="mounted_resource")

    assert item["actor_id"] == probes["author"] and item["action"] == "mounted_resource.update"
    assert (item["before"], item["after"], item["client"]) == ({"hour": None}, {"hour": 2}, "10.0.0.9")
    assert item["at"].startswith("2020-01-06T10:00:00") and len(item["hash"]) == 64


def test_events_api_is_refused_to_providers(client, provider):
    response = client.get(f"{API}/audit/events", headers=auth(provider))

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path, monkeypatch):
    """A migrated SQLite file with two events recorded by commands: a user and a token created."""
    database = use_database(monkeypatch, tmp_path)
    ok("db", "upgrade")
    ok("users", "create", "zhang", "--role", "admin", "--password", "password-123")
    ok("tokens", "create", "zhang")
    return database


def test_audit_verify_reports_an_intact_chain(cli_database):
    assert ok("audit", "verify").strip() == "链完整：2 条"


def test_audit_verify_names_the_broken_event_and_exits_1(cli_database):
    with sqlite3.connect(cli_database.path) as connection:
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET client = '8.8.8.8' WHERE id = 1")
    connection.close()

    assert "链在事件 #1 处断开" in failed(run("audit", "verify"))
