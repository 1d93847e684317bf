"""Catalog entries through the services: registration, permissions, lifecycle, versions, locking."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog import services
from catalog.actors import SYSTEM
from catalog.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from catalog.models import EntryVersion
from catalog.vocab import EntryStatus

from .conftest import entry_fields


def register(session, actor, provider, now, **overrides):
    data = services.parse_entry_fields(entry_fields(provider_id=provider.id, **overrides))
    return services.create_entry(session, actor=actor, data=data, now=now)


@pytest.fixture
def provider(user, stats_bureau):
    return user("stats", "provider", stats_bureau)[0].actor


@pytest.fixture
def bureau(user, department):
    return user("bureau", "bureau", department("台州市大数据发展管理局", 900))[0].actor


def test_a_new_entry_is_a_draft_with_a_generated_code(session, provider, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    assert entry.status is EntryStatus.DRAFT
    assert entry.resource_code == "331000/000001"
    assert entry.created_by == provider.user_id


def test_generated_codes_count_up_within_their_front(session, provider, stats_bureau, now):
    first = register(session, provider, stats_bureau, now, name="甲")
    second = register(session, provider, stats_bureau, now, name="乙")
    assert (first.code_sequence, second.code_sequence) == (1, 2)


def test_a_taken_resource_code_is_a_conflict(session, provider, stats_bureau, now):
    register(session, provider, stats_bureau, now, resource_code="33100201/000007")
    with pytest.raises(Conflict, match="33100201/000007"):
        register(session, provider, stats_bureau, now, resource_code="33100201/000007", name="另一个")


def test_provider_cannot_register_for_another_department(session, provider, transport, now):
    with pytest.raises(PermissionDenied):
        register(session, provider, transport, now)


def test_requester_cannot_register_entries(session, user, transport, now):
    requester = user("req", "requester", transport)[0].actor
    with pytest.raises(PermissionDenied):
        register(session, requester, transport, now)


def test_binding_an_item_to_a_missing_data_element_is_refused(session, provider, stats_bureau, now):
    fields = entry_fields(provider_id=stats_bureau.id, items=[{"name": "姓名", "element_id": 999999}])
    with pytest.raises(ValidationError, match="数据元"):
        services.create_entry(session, actor=provider, data=services.parse_entry_fields(fields), now=now)


def test_publication_freezes_version_one(session, provider, bureau, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    services.transition(session, actor=provider, entry_id=entry.id, action="submit", now=now)
    services.transition(session, actor=bureau, entry_id=entry.id, action="publish", now=now)
    versions = services.list_versions(session, actor=bureau, entry_id=entry.id)
    assert entry.status is EntryStatus.PUBLISHED
    assert [v.version for v in versions] == [1]
    assert versions[0].snapshot["items"][0]["name"] == "统一社会信用代码"
    assert versions[0].snapshot["resource_code"] == entry.resource_code


def test_a_change_to_a_published_entry_becomes_a_new_version(session, provider, bureau, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    for actor, action in ((provider, "submit"), (bureau, "publish")):
        services.transition(session, actor=actor, entry_id=entry.id, action=action, now=now)
    changed = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id, update_cycle="每日"))
    services.update_entry(session, actor=provider, entry_id=entry.id, data=changed,
                          lock_version=entry.lock_version, now=now)
    assert entry.status is EntryStatus.CHANGED
    for actor, action in ((provider, "submit"), (bureau, "publish")):
        services.transition(session, actor=actor, entry_id=entry.id, action=action, now=now)
    snapshots = [v.snapshot["update_cycle"] for v in services.list_versions(session, actor=bureau, entry_id=entry.id)]
    assert snapshots == ["monthly", "daily"]


def test_only_the_bureau_publishes(session, provider, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    services.transition(session, actor=provider, entry_id=entry.id, action="submit", now=now)
    with pytest.raises(PermissionDenied, match="发布"):
        services.transition(session, actor=provider, entry_id=entry.id, action="publish", now=now)


def test_returning_a_submission_needs_a_reason(session, provider, bureau, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    services.transition(session, actor=provider, entry_id=entry.id, action="submit", now=now)
    with pytest.raises(ValidationError, match="理由"):
        services.transition(session, actor=bureau, entry_id=entry.id, action="return", now=now)


def test_a_returned_draft_goes_back_to_draft_with_the_reason_kept(session, provider, bureau, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    services.transition(session, actor=provider, entry_id=entry.id, action="submit", now=now)
    services.transition(session, actor=bureau, entry_id=entry.id, action="return", now=now, reason="摘要过简")
    history = services.list_status_changes(session, entry_id=entry.id)
    assert entry.status is EntryStatus.DRAFT
    assert [(h.from_status, h.to_status, h.reason) for h in history][-1] == (
        EntryStatus.SUBMITTED, EntryStatus.DRAFT, "摘要过简")


def test_publishing_a_draft_out_of_order_is_refused(session, provider, bureau, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    with pytest.raises(InvalidTransition, match="草稿"):
        services.transition(session, actor=bureau, entry_id=entry.id, action="publish", now=now)


def test_an_entry_under_review_cannot_be_edited(session, provider, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    services.transition(session, actor=provider, entry_id=entry.id, action="submit", now=now)
    data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id))
    with pytest.raises(InvalidTransition):
        services.update_entry(session, actor=provider, entry_id=entry.id, data=data,
                              lock_version=entry.lock_version, now=now)


def test_a_stale_lock_version_is_a_conflict(session, provider, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id, name="新名称"))
    stale = entry.lock_version
    services.update_entry(session, actor=provider, entry_id=entry.id, data=data, lock_version=stale, now=now)
    session.flush()
    with pytest.raises(Conflict) as caught:
        services.update_entry(session, actor=provider, entry_id=entry.id, data=data, lock_version=stale, now=now)
    assert caught.value.code == "stale_version"


def test_requesters_see_published_entries_only(session, provider, bureau, user, stats_bureau, transport, now):
    draft = register(session, provider, stats_bureau, now, name="草稿目录")
    published = register(session, provider, stats_bureau, now, name="公开目录")
    for actor, action in ((provider, "submit"), (bureau, "publish")):
        services.transition(session, actor=actor, entry_id=published.id, action=action, now=now)
    requester = user("req", "requester", transport)[0].actor
    page = services.list_entries(session, actor=requester, filters=services.EntryFilter())
    assert [e.name for e in page.items] == ["公开目录"]
    with pytest.raises(NotFound):
        services.get_entry(session, actor=requester, entry_id=draft.id)


def test_the_bureau_sees_every_department(session, provider, bureau, user, stats_bureau, transport, now):
    register(session, provider, stats_bureau, now, name="统计目录")
    other = user("traffic", "provider", transport)[0].actor
    register(session, other, transport, now, name="交通目录")
    names = {e.name for e in services.list_entries(session, actor=bureau, filters=services.EntryFilter()).items}
    assert names == {"统计目录", "交通目录"}


def test_text_filter_finds_item_names(session, provider, stats_bureau, now):
    register(session, provider, stats_bureau, now, name="登记信息", items="注册资本|成立日期")
    register(session, provider, stats_bureau, now, name="其他信息", items="姓名")
    page = services.list_entries(session, actor=SYSTEM, filters=services.EntryFilter(q="注册资本"))
    assert [e.name for e in page.items] == ["登记信息"]


def test_withdrawal_records_who_and_why(session, provider, stats_bureau, now):
    entry = register(session, provider, stats_bureau, now)
    services.transition(session, actor=provider, entry_id=entry.id, action="withdraw", now=now, reason="数据已停产")
    last = services.list_status_changes(session, entry_id=entry.id)[-1]
    assert (entry.status, last.actor_id, last.reason) == (EntryStatus.WITHDRAWN, provider.user_id, "数据已停产")
    assert session.scalar(select(EntryVersion).where(EntryVersion.entry_id == entry.id)) is None
