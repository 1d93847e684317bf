"""Every list page sorts by its column headers (a whitelist of keys, ordered in SQL) and pages.

Values sorted here differ in their first ASCII character, so that any database collation orders
them the same way."""

from __future__ import annotations

import re

import pytest

from catalog import services as catalog
from catalog.actors import SYSTEM, Actor, Role
from catalog.codes import make_uscc
from catalog.services import DepartmentData
from exchange.freshness.exemptions import request_exemption
from tests.web.test_pages import post, sign_in, text
from tests.web.test_requester import published


def column(page: str, table: str, index: int) -> list[str]:
    """The text of one column of a table, top to bottom."""
    body = re.search(rf'id="{table}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [re.sub(r"<[^>]+>", "", re.findall(r"<td>(.*?)</td>", row, re.S)[index]).strip() for row in rows]


def sorted_column(client, path: str, table: str, index: int, sort: str) -> list[str]:
    return column(text(client.get(f"{path}{'&' if '?' in path else '?'}sort={sort}")), table, index)


def test_a_sort_header_links_to_the_other_direction_and_keeps_the_filters(client, user):
    user("bureau", "bureau")
    sign_in(client, "bureau")
    page = text(client.get("/bureau/elements?q=x&sort=name"))
    assert 'aria-sort="ascending"' in page
    assert re.search(r'href="/bureau/elements\?q=x&amp;page=1&amp;page_size=20&amp;sort=-name"', page)


def test_an_unknown_sort_key_falls_back_to_the_default(client, user, elements):
    user("bureau", "bureau")
    sign_in(client, "bureau")
    response = client.get("/bureau/elements?sort=definition;drop")
    assert response.status_code == 200 and column(text(response), "elements", 0) == ["DE0001", "DE0002", "DE0003"]


@pytest.fixture
def elements(session):
    for identifier, name, english in (("DE0001", "公民身份号码", "Citizen ID"), ("DE0002", "企业名称", "Enterprise name"),
                                      ("DE0003", "法定代表人", "Agent")):
        catalog.create_element(session, actor=SYSTEM, values={"identifier": identifier, "name": name,
                                                              "english_name": english})
    session.commit()


def test_data_elements_sort_by_each_column(client, user, elements):
    user("bureau", "bureau")
    sign_in(client, "bureau")
    assert column(text(client.get("/bureau/elements")), "elements", 0) == ["DE0001", "DE0002", "DE0003"]
    assert sorted_column(client, "/bureau/elements", "elements", 0, "-identifier") == ["DE0003", "DE0002", "DE0001"]
    assert sorted_column(client, "/bureau/elements", "elements", 2, "english_name") == \
        ["Agent", "Citizen ID", "Enterprise name"]
    assert sorted_column(client, "/bureau/elements", "elements", 2, "-english_name") == \
        ["Enterprise name", "Citizen ID", "Agent"]


@pytest.fixture
def departments(session):
    """Two parents (A局, B局) and their children 子甲 (of B局, region 331000) and 子乙 (of A局, 330000)."""
    def make(name, serial, region, parent=None):
        return catalog.create_department(session, actor=SYSTEM, data=DepartmentData(
            name=name, code=make_uscc(region, serial), level="市", region_code=region, parent=parent))

    made = {name: make(name, serial, region, parent) for name, serial, region, parent in (
        ("A局", 11, "331000", None), ("B局", 12, "331000", None), ("子甲", 13, "331000", "B局"),
        ("子乙", 14, "330000", "A局"))}
    session.commit()
    return made


def test_departments_sort_by_code_region_and_parent(client, user, departments):
    user("admin", "admin")
    sign_in(client, "admin")
    path = "/admin/departments?q=子"
    assert sorted_column(client, path, "departments", 4, "parent") == ["A局", "B局"]
    assert sorted_column(client, path, "departments", 4, "-parent") == ["B局", "A局"]
    assert sorted_column(client, path, "departments", 3, "region_code") == ["330000", "331000"]
    codes = [d.code for d in departments.values() if d.name.startswith("子")]
    assert sorted_column(client, path, "departments", 1, "-code") == sorted(codes, reverse=True)


def test_users_sort_by_department_and_state(client, user, departments, session):
    user("admin", "admin")
    user("user1", "provider", departments["B局"])
    closed, _ = user("user2", "provider", departments["A局"])
    closed.active = False
    session.commit()
    sign_in(client, "admin")
    path = "/admin/users?q=user"
    assert sorted_column(client, path, "users", 3, "department") == ["A局", "B局"]
    assert sorted_column(client, path, "users", 3, "-department") == ["B局", "A局"]
    assert sorted_column(client, path, "users", 0, "-active") == ["user1", "user2"]  # active first
    assert sorted_column(client, path, "users", 0, "active") == ["user2", "user1"]


def test_the_audit_trail_sorts_by_id_and_action(client, user, departments, elements):
    user("bureau", "bureau")
    sign_in(client, "bureau")
    newest_first = [int(i) for i in column(text(client.get("/bureau/audit?page_size=100")), "events", 0)]
    assert newest_first == sorted(newest_first, reverse=True) and len(newest_first) > 2
    oldest_first = [int(i) for i in sorted_column(client, "/bureau/audit?page_size=100", "events", 0, "id")]
    assert oldest_first == sorted(newest_first)
    actions = sorted_column(client, "/bureau/audit?page_size=100", "events", 3, "action")
    assert actions == sorted(actions) and len(set(actions)) > 1
    assert sorted_column(client, "/bureau/audit?page_size=100", "events", 3, "-action") == actions[::-1]
    page = text(client.get("/bureau/audit?sort=action&object_type=department"))
    assert '<input type="hidden" name="sort" value="action">' in page  # the filter form keeps the order


def test_grants_sort_by_entry_and_expiry(client, user, session, department, stats_bureau, now):
    housing = department("台州市住房和城乡建设局", 201)
    user("xuqiu", "requester", housing)
    sign_in(client, "xuqiu")
    for name in ("B-企业年报信息", "A-企业登记信息"):
        entry = published(session, stats_bureau, now, name=name)
        post(client, f"/requester/entries/{entry.id}/apply", {"purpose": "资质审批核验", "items": ["企业名称"]})
    first = lambda sort: [n[:1] for n in sorted_column(client, "/requester/grants", "grants", 0, sort)]  # noqa: E731
    assert first("entry") == ["A", "B"] and first("-entry") == ["B", "A"]
    assert first("") == ["A", "B"]  # the newest grant first, by default
    assert first("-provider") == first("provider") == ["A", "B"]  # one provider: the newest first within it


def test_exemptions_sort_by_entry_and_status(client, user, session, stats_bureau, now):
    provider, _ = user("tongji", "provider", stats_bureau)
    user("bureau", "bureau")
    who = Actor(user_id=provider.id, name="tongji", role=Role.PROVIDER, department_id=stats_bureau.id)
    for name in ("B-企业年报信息", "A-企业登记信息"):
        entry = published(session, stats_bureau, now, name=name)
        request_exemption(session, actor=who, entry_id=entry.id, kind="unmounted", reason="省级统一提供", now=now)
    session.commit()
    sign_in(client, "bureau")
    first = lambda sort: [n[:1] for n in sorted_column(client, "/exemptions", "exemptions", 0, sort)]  # noqa: E731
    assert first("") == first("-id") == ["A", "B"]
    assert first("entry") == ["A", "B"] and first("-entry") == ["B", "A"]
