"""The REST API under /api/v1, through the Flask test client with bearer tokens.

Each test runs against the shared test database inside a transaction rolled back at its end.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3

import openpyxl
import pytest
from werkzeug.security import generate_password_hash

from catalog.codes import make_uscc
from catalog.templates import CATALOG
from exchange import create_app
from tests.conftest import SHARED_DATA, auth, entry_fields

API = "/api/v1"
SAMPLE = SHARED_DATA / "templates" / "catalog_sample.csv"
CODE_SHAPE = re.compile(r"^[0-9A-Z]{2,32}/\d{6}$")
ITEMS = [
    {"name": "统一社会信用代码", "data_type": "字符型", "length": 18},
    {"name": "企业名称"},
    {"name": "法定代表人"},
]


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """These tests sign in with tokens, never passwords: werkzeug's default scrypt (~0.1 s a user)
    is swapped for a one-round PBKDF2 so the suite stays fast.  Password checks are not tested here."""
    monkeypatch.setattr("exchange.accounts.services.generate_password_hash",
                        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"))


@pytest.fixture
def provider(user, stats_bureau) -> str:
    """A token of a provider of 台州市统计局."""
    return user("tongji", "provider", stats_bureau)[1]


@pytest.fixture
def other_provider(user, transport) -> str:
    """A token of a provider of 台州市交通运输局."""
    return user("jiaotong", "provider", transport)[1]


@pytest.fixture
def requester(user, transport) -> str:
    return user("xuqiu", "requester", transport)[1]


@pytest.fixture
def bureau(user) -> str:
    return user("bureau", "bureau")[1]


def fields(**overrides) -> dict:
    """A valid entry as the API takes it (items as objects)."""
    values = entry_fields(items=ITEMS)
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post_entry(client, token: str, **overrides) -> dict:
    response = client.post(f"{API}/entries", json=fields(**overrides), headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, token: str, entry_id: int, action: str, **body):
    return client.post(f"{API}/entries/{entry_id}/{action}", json=body, headers=auth(token))


def publish(client, token: str, bureau_token: str, entry_id: int) -> dict:
    assert act(client, token, entry_id, "submit").status_code == 200
    response = act(client, bureau_token, entry_id, "publish")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def get_entry(client, token: str, entry_id: int):
    return client.get(f"{API}/entries/{entry_id}", headers=auth(token))


def listing(client, token: str, **query) -> dict:
    response = client.get(f"{API}/entries", query_string=query, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(page: dict) -> set[str]:
    return {item["name"] for item in page["items"]}


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def sample_bytes() -> bytes:
    if not SAMPLE.is_file():
        pytest.skip(f"shared data missing: {SAMPLE}")
    return SAMPLE.read_bytes()


def upload(content: bytes, filename: str) -> dict:
    return {"file": (io.BytesIO(content), filename)}


def import_file(client, token: str, content: bytes, filename: str = "catalog.csv", **query):
    return client.post(f"{API}/entries/import", query_string=query, data=upload(content, filename),
                       headers=auth(token), content_type="multipart/form-data")


def edited_sample(changes: dict[tuple[int, str], str]) -> bytes:
    """The sample with some cells replaced: {(data row index, header): value}."""
    rows = list(csv.DictReader(io.StringIO(sample_bytes().decode("utf-8-sig"))))
    for (index, header), value in changes.items():
        rows[index][header] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def catalog(client, provider, other_provider, bureau, stats_bureau, transport) -> dict:
    """Five entries of two departments: two published, one of them mounted; the rest drafts."""
    made = {
        "人口年报": post_entry(client, provider, name="人口年报", summary="全市常住人口年度统计",
                           update_cycle="每年", items=[{"name": "常住人口"}, {"name": "户籍人口"}]),
        "企业登记信息": post_entry(client, provider),
        "公交线路信息": post_entry(client, other_provider, name="公交线路信息", summary="公交线路与站点",
                             items=[{"name": "线路名称"}, {"name": "站点坐标"}],
                             sharing_type="有条件共享", sharing_condition="仅限交通管理用途",
                             update_cycle="每日"),
        "出租车营运记录": post_entry(client, other_provider, name="出租车营运记录", summary="出租车每日营运",
                              sharing_type="不予共享", not_shared_basis="涉及个人隐私",
                              open_attribute="不予开放", update_cycle="每日"),
        "道路养护计划": post_entry(client, other_provider, name="道路养护计划", summary="年度道路养护",
                             update_cycle="每季度", format="电子表格"),
    }
    for name in ("企业登记信息", "公交线路信息"):
        owner = provider if name == "企业登记信息" else other_provider
        made[name] = publish(client, owner, bureau, made[name]["id"])
    mount = client.post(f"{API}/entries/{made['企业登记信息']['id']}/mounts", headers=auth(provider),
                        json={"kind": "api", "url": "https://data.example.gov.cn/api/qiye"})
    assert mount.status_code == 201, mount.get_json()
    return {"entries": made, "stats": stats_bureau.id, "transport": transport.id}


# -- listing: filters, sorting, pagination ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"provider_id": "stats"}, {"人口年报", "企业登记信息"}),
        ({"provider_id": "transport"}, {"公交线路信息", "出租车营运记录", "道路养护计划"}),
        ({"sharing_type": "conditional"}, {"公交线路信息"}),
        ({"sharing_type": "not_shared"}, {"出租车营运记录"}),
        ({"status": "published"}, {"企业登记信息", "公交线路信息"}),
        ({"status": "draft"}, {"人口年报", "出租车营运记录", "道路养护计划"}),
        ({"update_cycle": "daily"}, {"公交线路信息", "出租车营运记录"}),
        ({"update_cycle": "quarterly"}, {"道路养护计划"}),
        ({"mounted": "true"}, {"企业登记信息"}),
        ({"mounted": "false"}, {"人口年报", "公交线路信息", "出租车营运记录", "道路养护计划"}),
        ({"q": "人口年报"}, {"人口年报"}),
        ({"q": "常住人口"}, {"人口年报"}),
        ({"q": "站点坐标"}, {"公交线路信息"}),
        ({"q": "站点坐标", "provider_id": "transport"}, {"公交线路信息"}),
        ({"q": "站点坐标", "provider_id": "stats"}, set()),
        ({"q": "公交 站点"}, {"公交线路信息"}),
        ({"q": "没有这个词"}, set()),
        ({"sharing_type": "unconditional", "status": "draft", "provider_id": "stats"}, {"人口年报"}),
    ],
)
def test_entry_list_filters(client, bureau, catalog, query, expected):
    query = {k: catalog.get(v, v) if k == "provider_id" else v for k, v in query.items()}
    page = listing(client, bureau, page_size=50, **query)
    assert names(page) == expected
    assert page["total"] == len(expected)


def test_entry_list_marks_mounted_entries(client, bureau, catalog):
    page = listing(client, bureau, page_size=50)
    assert {i["name"]: i["mounted"] for i in page["items"]} == {
        "人口年报": False, "企业登记信息": True, "公交线路信息": False, "出租车营运记录": False, "道路养护计划": False,
    }


def test_text_search_finds_an_entry_by_its_changed_name(client, provider, catalog):
    entry = catalog["entries"]["人口年报"]
    assert names(listing(client, provider, q="人口年报")) == {"人口年报"}
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"name": "户籍统计年鉴", "lock_version": entry["lock_version"]})
    assert response.status_code == 200, response.get_json()
    assert names(listing(client, provider, q="户籍统计年鉴")) == {"户籍统计年鉴"}
    assert names(listing(client, provider, q="人口年报")) == set()


def test_blank_text_query_filters_nothing(client, bureau, catalog):
    assert listing(client, bureau, q=" ", page_size=50)["total"] == 5


@pytest.mark.parametrize("sort", ["name", "-name", "resource_code", "-resource_code"])
def test_entry_list_sorts_by_the_named_key(client, bureau, catalog, sort):
    key = sort.lstrip("-")
    items = listing(client, bureau, sort=sort, page_size=50)["items"]
    values = [i[key] for i in items]
    assert len(values) == 5
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_entry_list_sorts_newest_change_first_by_default(client, bureau, catalog):
    items = listing(client, bureau, page_size=50)["items"]
    stamps = [i["updated_at"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert listing(client, bureau, sort="-updated_at", page_size=50)["items"] == items


@pytest.mark.parametrize("sort", ["colour", "-name,bogus", "name;drop"])
def test_entry_list_refuses_an_unknown_sort_key(client, bureau, catalog, sort):
    response = client.get(f"{API}/entries", query_string={"sort": sort}, headers=auth(bureau))
    assert response.status_code == 422
    assert "sort" in error_of(response)["details"]


def test_entry_list_pages_through_every_entry_once(client, bureau, catalog):
    pages = [listing(client, bureau, page=n, page_size=2, sort="resource_code") for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert {(p["page"], p["page_size"], p["total"], p["pages"]) for p in pages} == {
        (1, 2, 5, 3), (2, 2, 5, 3), (3, 2, 5, 3),
    }
    ids = [i["id"] for p in pages for i in p["items"]]
    assert sorted(ids) == sorted(e["id"] for e in catalog["entries"].values())


def test_entry_list_past_the_last_page_is_empty_but_counts(client, bureau, catalog):
    page = listing(client, bureau, page=9, page_size=2)
    assert page["items"] == []
    assert (page["total"], page["pages"]) == (5, 3)


@pytest.mark.parametrize(("query", "field"), [
    ({"page_size": 201}, "page_size"),
    ({"page_size": 0}, "page_size"),
    ({"page": 0}, "page"),
    ({"status": "nonsense"}, "status"),
    ({"mounted": "perhaps"}, "mounted"),
])
def test_entry_list_refuses_bad_paging_and_filter_values(client, bureau, query, field):
    response = client.get(f"{API}/entries", query_string=query, headers=auth(bureau))
    assert response.status_code == 422
    assert field in error_of(response)["details"]


# -- creating, reading, changing --------------------------------------------------------------


def test_providers_entry_defaults_to_its_own_department(client, provider, stats_bureau):
    entry = post_entry(client, provider)
    assert entry["provider"]["id"] == stats_bureau.id
    assert entry["status"] == "draft"
    assert entry["version"] == 0
    assert entry["mounted"] is False


def test_created_entry_gets_a_generated_resource_code(client, provider, stats_bureau):
    first = post_entry(client, provider)
    second = post_entry(client, provider, name="企业年报信息")
    assert CODE_SHAPE.match(first["resource_code"])
    front, sequence = first["resource_code"].split("/")
    assert front == stats_bureau.region_code
    assert second["resource_code"] == f"{front}/{int(sequence) + 1:06d}"


def test_created_entry_keeps_the_given_resource_code(client, provider):
    entry = post_entry(client, provider, resource_code="33100201/000123")
    assert entry["resource_code"] == "33100201/000123"


def test_created_entry_returns_normalised_values(client, provider):
    entry = post_entry(client, provider, category="部门信息资源", classification_code="3010203")
    assert entry["sharing_type"] == "unconditional"
    assert entry["update_cycle"] == "monthly"
    assert (entry["format"], entry["format_detail"]) == ("database", "MySQL")
    assert (entry["category"], entry["classification_code"]) == ("departmental", "3010203")
    assert [(i["name"], i["data_type"], i["length"]) for i in entry["items"]] == [
        ("统一社会信用代码", "character", 18), ("企业名称", None, None), ("法定代表人", None, None),
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sharing_type": "有条件共享"}, "sharing_condition"),
        ({"sharing_type": "不予共享"}, "not_shared_basis"),
        ({"sharing_type": "不予共享", "not_shared_basis": "法律规定", "open_attribute": "无条件开放"},
         "open_attribute"),
        ({"sharing_method": None}, "sharing_method"),
        ({"update_cycle": "每世纪"}, "update_cycle"),
        ({"format": "光盘"}, "format"),
        ({"sharing_type": "随便共享"}, "sharing_type"),
        ({"resource_code": "12-34"}, "resource_code"),
        ({"items": [{"name": "企业名称"}, {"name": "企业名称"}]}, "items"),
        ({"publish_date": "2024-13-01"}, "publish_date"),
        ({"name": None}, "name"),
        ({"name": "名" * 201}, "name"),
    ],
)
def test_entry_breaking_a_rule_is_refused_by_field(client, provider, overrides, field):
    response = client.post(f"{API}/entries", json=fields(**overrides), headers=auth(provider))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["details"], error


def test_entry_with_every_problem_lists_them_all(client, provider):
    bad = fields(sharing_type="有条件共享", update_cycle="每世纪", format="光盘")
    response = client.post(f"{API}/entries", json=bad, headers=auth(provider))
    assert response.status_code == 422
    assert {"sharing_condition", "update_cycle", "format"} <= set(error_of(response)["details"])


def test_entry_with_an_unknown_field_is_refused(client, provider):
    response = client.post(f"{API}/entries", json=fields(colour="red"), headers=auth(provider))
    assert response.status_code == 422
    assert "colour" in error_of(response)["details"]


def test_refused_entry_is_not_written(client, provider):
    client.post(f"{API}/entries", json=fields(sharing_type="有条件共享"), headers=auth(provider))
    assert listing(client, provider)["total"] == 0


def test_entry_with_a_taken_resource_code_conflicts(client, provider):
    post_entry(client, provider, resource_code="33100201/000123")
    response = client.post(f"{API}/entries", json=fields(resource_code="33100201/000123", name="另一个"),
                           headers=auth(provider))
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_provider_cannot_register_for_another_department(client, provider, transport):
    response = client.post(f"{API}/entries", json=fields(provider_id=transport.id), headers=auth(provider))
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_bureau_registers_for_a_named_department(client, bureau, transport):
    entry = post_entry(client, bureau, provider_id=transport.id)
    assert entry["provider"]["id"] == transport.id


def test_entry_detail_has_items_and_mounts(client, provider):
    created = post_entry(client, provider)
    response = get_entry(client, provider, created["id"])
    assert response.status_code == 200
    entry = response.get_json()
    assert entry["resource_code"] == created["resource_code"]
    assert [i["name"] for i in entry["items"]] == [i["name"] for i in ITEMS]
    assert entry["mounts"] == []


def test_entry_is_found_by_its_resource_code(client, provider):
    created = post_entry(client, provider, resource_code="33100201/000123")
    response = client.get(f"{API}/entries/by-code/33100201/000123", headers=auth(provider))
    assert response.status_code == 200
    assert response.get_json()["id"] == created["id"]


def test_unknown_resource_code_is_not_found(client, provider):
    response = client.get(f"{API}/entries/by-code/33100201/999999", headers=auth(provider))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_patch_changes_the_entry_and_its_lock_version(client, provider):
    entry = post_entry(client, provider)
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"summary": "新的摘要", "lock_version": entry["lock_version"]})
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["summary"] == "新的摘要"
    assert changed["name"] == entry["name"]
    assert [i["name"] for i in changed["items"]] == [i["name"] for i in entry["items"]]
    assert changed["lock_version"] > entry["lock_version"]



def test_patch_keeps_the_format_detail_and_classification_code(client, provider):
    entry = post_entry(client, provider, category="基础信息资源", classification_code="3010203")
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"summary": "只改摘要", "lock_version": entry["lock_version"]})
    assert response.status_code == 200
    changed = response.get_json()
    assert (changed["format"], changed["format_detail"]) == ("database", "MySQL")
    assert (changed["category"], changed["classification_code"]) == ("basic", "3010203")


def test_patch_of_the_format_detail_alone_keeps_the_format(client, provider):
    entry = post_entry(client, provider)
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"format_detail": "PostgreSQL", "lock_version": entry["lock_version"]})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["format"], response.get_json()["format_detail"]) == ("database", "PostgreSQL")


def test_classification_code_without_a_category_takes_the_default_category(client, provider):
    response = client.post(f"{API}/entries", json=fields(classification_code="3010203"), headers=auth(provider))
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["category"], response.get_json()["classification_code"]) == (
        "departmental", "3010203")


def test_patch_with_a_stale_lock_version_conflicts(client, provider):
    entry = post_entry(client, provider)
    url, stale = f"{API}/entries/{entry['id']}", entry["lock_version"]
    assert client.patch(url, json={"summary": "第一次", "lock_version": stale},
                        headers=auth(provider)).status_code == 200
    response = client.patch(url, json={"summary": "第二次", "lock_version": stale}, headers=auth(provider))
    assert response.status_code == 409
    assert error_of(response)["code"] == "stale_version"
    assert get_entry(client, provider, entry["id"]).get_json()["summary"] == "第一次"


def test_patch_needs_the_lock_version(client, provider):
    entry = post_entry(client, provider)
    response = client.patch(f"{API}/entries/{entry['id']}", json={"summary": "x"}, headers=auth(provider))
    assert response.status_code == 422
    assert "lock_version" in error_of(response)["details"]


def test_patch_breaking_a_rule_is_refused(client, provider):
    entry = post_entry(client, provider)
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"sharing_type": "有条件共享", "lock_version": entry["lock_version"]})
    assert response.status_code == 422
    assert "sharing_condition" in error_of(response)["details"]


def test_resource_code_cannot_be_changed(client, provider):
    entry = post_entry(client, provider)
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"resource_code": "33100201/000999", "lock_version": entry["lock_version"]})
    assert response.status_code == 422
    assert "resource_code" in error_of(response)["details"]
    assert get_entry(client, provider, entry["id"]).get_json()["resource_code"] == entry["resource_code"]


# -- lifecycle --------------------------------------------------------------------------------


def test_provider_submits_its_draft(client, provider):
    entry = post_entry(client, provider)
    response = act(client, provider, entry["id"], "submit")
    assert response.status_code == 200
    assert response.get_json()["status"] == "submitted"


def test_provider_cannot_publish(client, provider):
    entry = post_entry(client, provider)
    act(client, provider, entry["id"], "submit")
    response = act(client, provider, entry["id"], "publish")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_bureau_publishes_a_submitted_entry_as_version_1(client, provider, bureau):
    entry = post_entry(client, provider)
    published = publish(client, provider, bureau, entry["id"])
    assert (published["status"], published["version"]) == ("published", 1)
    assert published["publish_date"] is not None
    versions = client.get(f"{API}/entries/{entry['id']}/versions", headers=auth(provider)).get_json()
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["snapshot"]["name"] == entry["name"]
    assert versions[0]["snapshot"]["resource_code"] == entry["resource_code"]


def test_draft_has_no_versions(client, provider):
    entry = post_entry(client, provider)
    response = client.get(f"{API}/entries/{entry['id']}/versions", headers=auth(provider))
    assert response.status_code == 200
    assert response.get_json() == []


def test_draft_cannot_be_published_before_submission(client, provider, bureau):
    entry = post_entry(client, provider)
    response = act(client, bureau, entry["id"], "publish")
    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_transition"


@pytest.mark.parametrize("action", ["return", "withdraw"])
def test_return_and_withdraw_need_a_reason(client, provider, bureau, action):
    entry = post_entry(client, provider)
    if action == "return":
        act(client, provider, entry["id"], "submit")
    response = act(client, bureau, entry["id"], action)
    assert response.status_code == 422
    assert "reason" in error_of(response)["details"]


def test_returned_entry_goes_back_to_draft(client, provider, bureau):
    entry = post_entry(client, provider)
    act(client, provider, entry["id"], "submit")
    response = act(client, bureau, entry["id"], "return", reason="摘要过于简略")
    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"


def test_history_records_every_step_with_its_reason(client, provider, bureau):
    entry = post_entry(client, provider)
    act(client, provider, entry["id"], "submit")
    act(client, bureau, entry["id"], "return", reason="摘要过于简略")
    history = client.get(f"{API}/entries/{entry['id']}/history", headers=auth(provider)).get_json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        (None, "draft", None), ("draft", "submitted", None), ("submitted", "draft", "摘要过于简略"),
    ]


def test_patch_of_a_published_entry_makes_it_changed(client, provider, bureau):
    entry = publish(client, provider, bureau, post_entry(client, provider)["id"])
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"summary": "补充了字段说明", "lock_version": entry["lock_version"]})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["version"]) == ("changed", 1)


def test_republishing_a_changed_entry_adds_version_2(client, provider, bureau):
    entry = publish(client, provider, bureau, post_entry(client, provider)["id"])
    client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                 json={"summary": "补充了字段说明", "lock_version": entry["lock_version"]})
    republished = publish(client, provider, bureau, entry["id"])
    assert republished["version"] == 2
    versions = client.get(f"{API}/entries/{entry['id']}/versions", headers=auth(bureau)).get_json()
    assert [(v["version"], v["snapshot"]["summary"]) for v in versions] == [
        (1, entry["summary"]), (2, "补充了字段说明"),
    ]


def test_submitted_entry_cannot_be_changed(client, provider):
    entry = post_entry(client, provider)
    submitted = act(client, provider, entry["id"], "submit").get_json()
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"summary": "审核中修改", "lock_version": submitted["lock_version"]})
    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_transition"


def test_withdrawn_entry_says_why(client, provider, bureau):
    entry = publish(client, provider, bureau, post_entry(client, provider)["id"])
    response = act(client, provider, entry["id"], "withdraw", reason="数据已停止采集")
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"


# -- visibility and permissions ---------------------------------------------------------------


def test_requester_does_not_see_a_draft(client, provider, requester):
    entry = post_entry(client, provider)
    response = get_entry(client, requester, entry["id"])
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_requester_lists_only_published_entries(client, requester, catalog):
    assert names(listing(client, requester, page_size=50)) == {"企业登记信息", "公交线路信息"}


def test_requester_does_not_find_a_draft_by_code(client, provider, requester):
    entry = post_entry(client, provider)
    response = client.get(f"{API}/entries/by-code/{entry['resource_code']}", headers=auth(requester))
    assert response.status_code == 404


def test_requester_reads_a_published_entry(client, provider, bureau, requester):
    entry = publish(client, provider, bureau, post_entry(client, provider)["id"])
    response = get_entry(client, requester, entry["id"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "published"


def test_provider_sees_its_own_drafts_and_others_published_entries(client, provider, catalog):
    assert names(listing(client, provider, page_size=50)) == {"人口年报", "企业登记信息", "公交线路信息"}


def test_provider_cannot_read_another_departments_draft(client, provider, catalog):
    response = get_entry(client, provider, catalog["entries"]["道路养护计划"]["id"])
    assert response.status_code == 404


def test_provider_cannot_change_another_departments_entry(client, provider, catalog):
    entry = catalog["entries"]["公交线路信息"]
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"summary": "越权修改", "lock_version": entry["lock_version"]})
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_provider_cannot_withdraw_another_departments_entry(client, provider, catalog):
    entry = catalog["entries"]["公交线路信息"]
    response = act(client, provider, entry["id"], "withdraw", reason="越权撤销")
    assert response.status_code == 403


def test_provider_cannot_move_its_entry_to_another_department(client, provider, transport):
    entry = post_entry(client, provider)
    response = client.patch(f"{API}/entries/{entry['id']}", headers=auth(provider),
                            json={"provider_id": transport.id, "lock_version": entry["lock_version"]})
    assert response.status_code == 403
    assert get_entry(client, provider, entry["id"]).get_json()["provider"]["id"] == entry["provider"]["id"]


def test_requester_cannot_register_an_entry(client, requester):
    response = client.post(f"{API}/entries", json=fields(), headers=auth(requester))
    assert response.status_code == 403


def test_bureau_sees_every_entry(client, bureau, catalog):
    page = listing(client, bureau, page_size=50)
    assert page["total"] == 5
    assert names(page) == set(catalog["entries"])


def test_bureau_reads_a_departments_draft(client, bureau, catalog):
    response = get_entry(client, bureau, catalog["entries"]["人口年报"]["id"])
    assert response.status_code == 200


# -- mounts -----------------------------------------------------------------------------------


@pytest.fixture
def source_db(tmp_path):
    """A real SQLite database with a three-row table to mount."""
    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE population (district TEXT, people INTEGER, updated_at TEXT)")
        connection.executemany("INSERT INTO population VALUES (?, ?, ?)", [
            ("椒江区", 1000, "2026-01-01T00:00:00"), ("黄岩区", 900, "2026-03-05T08:00:00"),
            ("路桥区", 800, "2026-02-01T00:00:00"),
        ])
    connection.close()
    return path


def mount(client, token, entry_id, **body):
    return client.post(f"{API}/entries/{entry_id}/mounts", json=body, headers=auth(token))


def test_table_mount_reads_columns_and_rows(client, provider, source_db):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="table", url=f"sqlite:///{source_db}",
                     table="population", change_column="updated_at")
    assert response.status_code == 201, response.get_json()
    mounted = response.get_json()
    assert mounted["kind"] == "table"
    assert [c["name"] for c in mounted["columns"]] == ["district", "people", "updated_at"]
    assert mounted["row_count"] == 3
    assert mounted["data_changed_at"].startswith("2026-03-05T08:00:00")
    assert mounted["url"] == f"sqlite:///{source_db}"
    assert mounted["health"] == "ok"


def test_mounted_entry_shows_as_mounted(client, provider, source_db):
    entry = post_entry(client, provider)
    mount(client, provider, entry["id"], kind="table", url=f"sqlite:///{source_db}", table="population")
    detail = get_entry(client, provider, entry["id"]).get_json()
    assert detail["mounted"] is True
    assert [m["table_name"] for m in detail["mounts"]] == ["population"]


@pytest.mark.parametrize("where", ["missing file", "missing table"])
def test_table_mount_that_cannot_be_read_fails_and_is_not_recorded(client, provider, source_db, where):
    entry = post_entry(client, provider)
    url = f"sqlite:///{source_db.with_name('nowhere.sqlite')}" if where == "missing file" else f"sqlite:///{source_db}"
    response = mount(client, provider, entry["id"], kind="table", url=url,
                     table="population" if where == "missing file" else "no_such_table")
    assert response.status_code == 422
    assert error_of(response)["code"] == "mount_failed"
    detail = get_entry(client, provider, entry["id"]).get_json()
    assert (detail["mounts"], detail["mounted"]) == ([], False)


def test_failed_table_mount_does_not_reveal_the_password(client, provider):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="table",
                     url="postgresql://reader:s3cret-pw@127.0.0.1:1/nowhere", table="population")
    assert response.status_code == 422
    assert error_of(response)["code"] == "mount_failed"
    assert "s3cret-pw" not in response.get_data(as_text=True)


def test_table_mount_with_a_change_column_it_lacks_fails(client, provider, source_db):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="table", url=f"sqlite:///{source_db}",
                     table="population", change_column="modified")
    assert response.status_code == 422
    assert error_of(response)["code"] == "mount_failed"


def test_table_mount_needs_url_and_table(client, provider):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="table")
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == {"url", "table"}


def test_api_mount_shows_its_url_with_the_password_masked(client, provider):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="api",
                     url="https://reader:s3cret-pw@data.example.gov.cn/api/renkou")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["url"] == "https://reader:***@data.example.gov.cn/api/renkou"
    assert "s3cret-pw" not in get_entry(client, provider, entry["id"]).get_data(as_text=True)


@pytest.mark.parametrize("url", ["ftp://data.example.gov.cn/x", "data.example.gov.cn/api", "https://", "not a url"])
def test_api_mount_with_a_bad_url_is_refused(client, provider, url):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="api", url=url)
    assert response.status_code == 422
    assert "url" in error_of(response)["details"]
    assert get_entry(client, provider, entry["id"]).get_json()["mounts"] == []


def test_mount_of_an_unknown_kind_is_refused(client, provider):
    entry = post_entry(client, provider)
    response = mount(client, provider, entry["id"], kind="ftp", url="ftp://x")
    assert response.status_code == 422
    assert "kind" in error_of(response)["details"]


def test_provider_cannot_mount_on_another_departments_entry(client, provider, catalog):
    entry = catalog["entries"]["公交线路信息"]
    response = mount(client, provider, entry["id"], kind="api", url="https://data.example.gov.cn/x")
    assert response.status_code == 403


CSV_UPLOAD = "区县,人口\n椒江区,1000\n黄岩区,900\n路桥区,800\n".encode()


def upload_mount(client, token, entry_id, content: bytes, filename: str):
    return client.post(f"{API}/entries/{entry_id}/mounts/file", data=upload(content, filename),
                       headers=auth(token), content_type="multipart/form-data")


def test_file_mount_stores_the_upload_by_its_checksum(client, provider, tmp_path):
    entry = post_entry(client, provider)
    response = upload_mount(client, provider, entry["id"], CSV_UPLOAD, "人口.csv")
    assert response.status_code == 201, response.get_json()
    mounted = response.get_json()
    checksum = hashlib.sha256(CSV_UPLOAD).hexdigest()
    assert mounted["checksum"] == checksum
    assert (mounted["kind"], mounted["file_name"], mounted["size_bytes"]) == ("file", "人口.csv", len(CSV_UPLOAD))
    assert mounted["row_count"] == 3
    assert [c["name"] for c in mounted["columns"]] == ["区县", "人口"]
    stored = tmp_path / "files" / checksum[:2] / f"{checksum}.csv"
    assert stored.read_bytes() == CSV_UPLOAD


@pytest.mark.parametrize(("content", "filename"), [
    (CSV_UPLOAD, "人口.pdf"),
    (b"", "empty.csv"),
    (b"PK\x03\x04 not really a workbook", "broken.xlsx"),
])
def test_file_mount_that_is_not_a_table_is_refused(client, provider, content, filename):
    entry = post_entry(client, provider)
    response = upload_mount(client, provider, entry["id"], content, filename)
    assert response.status_code == 422
    error_of(response)
    assert get_entry(client, provider, entry["id"]).get_json()["mounts"] == []


def test_file_mount_needs_a_file(client, provider):
    entry = post_entry(client, provider)
    response = client.post(f"{API}/entries/{entry['id']}/mounts/file", data={},
                           headers=auth(provider), content_type="multipart/form-data")
    assert response.status_code == 422
    assert "file" in error_of(response)["details"]


def test_unmounting_leaves_the_entry_unmounted(client, provider):
    entry = post_entry(client, provider)
    mounted = upload_mount(client, provider, entry["id"], CSV_UPLOAD, "人口.csv").get_json()
    response = client.delete(f"{API}/mounts/{mounted['id']}", headers=auth(provider))
    assert response.status_code == 200
    assert response.get_json()["unmounted_at"] is not None
    assert get_entry(client, provider, entry["id"]).get_json()["mounted"] is False
    assert names(listing(client, provider, mounted="true")) == set()


def test_unmounting_twice_is_not_found(client, provider):
    entry = post_entry(client, provider)
    mounted = upload_mount(client, provider, entry["id"], CSV_UPLOAD, "人口.csv").get_json()
    client.delete(f"{API}/mounts/{mounted['id']}", headers=auth(provider))
    response = client.delete(f"{API}/mounts/{mounted['id']}", headers=auth(provider))
    assert response.status_code == 404


def test_provider_cannot_unmount_another_departments_resource(client, other_provider, catalog):
    detail = get_entry(client, other_provider, catalog["entries"]["企业登记信息"]["id"]).get_json()
    response = client.delete(f"{API}/mounts/{detail['mounts'][0]['id']}", headers=auth(other_provider))
    assert response.status_code == 403


# -- import and export ------------------------------------------------------------------------


def test_import_of_the_sample_creates_its_40_entries(client, bureau):
    response = import_file(client, bureau, sample_bytes(), create_departments="true")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["rows"], result["created"], result["updated"], result["unchanged"]) == (40, 40, 0, 0)
    assert result["departments_created"] > 0
    assert listing(client, bureau, status="published")["total"] == 40


def test_reimport_of_the_sample_changes_nothing(client, bureau):
    import_file(client, bureau, sample_bytes(), create_departments="true")
    result = import_file(client, bureau, sample_bytes()).get_json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 40)


def test_imported_entry_keeps_its_code_and_items(client, bureau):
    import_file(client, bureau, sample_bytes(), create_departments="true")
    response = client.get(f"{API}/entries/by-code/33100201/000001", headers=auth(bureau))
    assert response.status_code == 200
    entry = response.get_json()
    assert entry["name"] == "大数据平台单位信息"
    assert (entry["items"][0]["name"], entry["items"][0]["data_type"], entry["items"][0]["length"]) == (
        "ID", "character", 100)


def test_import_with_bad_cells_lists_each_and_writes_nothing(client, bureau):
    bad = edited_sample({(5, "更新周期"): "每世纪", (9, "共享类型"): "随便共享"})
    departments_before = client.get(f"{API}/departments", headers=auth(bureau)).get_json()["total"]
    response = import_file(client, bureau, bad, create_departments="true")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "import_failed"
    where = {(d["row"], d["column"], d["value"]) for d in error["details"]}
    assert {(7, "更新周期", "每世纪"), (11, "共享类型", "随便共享")} <= where
    assert listing(client, bureau)["total"] == 0
    assert client.get(f"{API}/departments", headers=auth(bureau)).get_json()["total"] == departments_before


def test_import_of_an_unknown_provider_without_creating_departments_is_refused(client, bureau):
    response = import_file(client, bureau, sample_bytes())
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert {d["column"] for d in details} == {"信息资源提供方"}
    assert {d["row"] for d in details} == set(range(2, 42))


def test_import_dry_run_writes_nothing(client, bureau):
    response = import_file(client, bureau, sample_bytes(), create_departments="true", dry_run="true")
    assert response.status_code == 200
    result = response.get_json()
    assert (result["dry_run"], result["created"]) == (True, 40)
    assert listing(client, bureau)["total"] == 0
    assert import_file(client, bureau, sample_bytes(), create_departments="true").get_json()["created"] == 40


def test_providers_import_is_a_draft_of_its_own_department(client, provider, stats_bureau):
    rows = f"信息资源名称,信息资源提供方,信息资源摘要,信息资源格式,共享类型,共享方式,更新周期\n" \
           f"统计公报,{stats_bureau.name},年度统计公报,电子文件,无条件共享,文件,每年\n"
    response = import_file(client, provider, rows.encode())
    assert response.status_code == 200, response.get_json()
    page = listing(client, provider)
    assert [(i["name"], i["status"], i["provider"]["id"]) for i in page["items"]] == [
        ("统计公报", "draft", stats_bureau.id)]


def test_provider_cannot_import_for_another_department(client, provider, transport):
    rows = f"信息资源名称,信息资源提供方,信息资源摘要,信息资源格式,共享类型,共享方式,更新周期\n" \
           f"公交线路,{transport.name},公交线路,电子文件,无条件共享,文件,每年\n"
    response = import_file(client, provider, rows.encode())
    assert response.status_code == 422
    assert [(d["row"], d["column"]) for d in error_of(response)["details"]] == [(2, "信息资源提供方")]


@pytest.mark.parametrize(("content", "filename"), [
    (b"\xe5\x90\x8d\xe7\xa7\xb0\n\xe4\xb8\x80\n", "catalog.csv"),  # 名称 / 一: no template header
    (b"not a workbook", "catalog.xlsx"),
    (b"a,b\n1,2\n", "catalog.pdf"),
])
def test_import_of_a_malformed_file_is_refused(client, bureau, content, filename):
    response = import_file(client, bureau, content, filename)
    assert response.status_code == 422
    assert error_of(response)["code"] == "import_failed"


def test_export_csv_has_the_template_headers_and_every_entry(client, bureau):
    import_file(client, bureau, sample_bytes(), create_departments="true")
    response = client.get(f"{API}/entries/export", query_string={"format": "csv"}, headers=auth(bureau))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == CATALOG.headers
    assert rows[0][0] == "信息资源代码"
    assert len(rows) == 41


def test_export_xlsx_opens_as_a_workbook_of_the_template(client, bureau):
    import_file(client, bureau, sample_bytes(), create_departments="true")
    response = client.get(f"{API}/entries/export", headers=auth(bureau))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == CATALOG.headers
    assert len(rows) == 41


def test_exported_csv_reimports_unchanged(client, bureau):
    import_file(client, bureau, sample_bytes(), create_departments="true")
    exported = client.get(f"{API}/entries/export?format=csv", headers=auth(bureau)).get_data()
    result = import_file(client, bureau, exported).get_json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 40)


def test_export_holds_only_what_the_caller_may_see(client, requester, catalog):
    response = client.get(f"{API}/entries/export?format=csv", headers=auth(requester))
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert {r["信息资源名称"] for r in rows} == {"企业登记信息", "公交线路信息"}


def test_export_refuses_an_unknown_format(client, bureau):
    response = client.get(f"{API}/entries/export?format=pdf", headers=auth(bureau))
    assert response.status_code == 422
    assert "format" in error_of(response)["details"]


# -- departments, elements, vocabularies, me --------------------------------------------------


def _bad_check_character() -> str:
    code = make_uscc("331000", 77)
    return code[:17] + ("0" if code[17] != "0" else "1")


@pytest.mark.parametrize("code", ["12345", _bad_check_character(), "11331000000000I01X", "1133100000000007" + "7" * 3])
def test_department_with_a_bad_credit_code_is_refused(client, bureau, code):
    response = client.post(f"{API}/departments", json={"name": "台州市测试局", "code": code},
                           headers=auth(bureau))
    assert response.status_code == 422
    assert "code" in error_of(response)["details"]


def test_bureau_registers_a_department(client, bureau, stats_bureau):
    code = make_uscc("331000", 555)
    response = client.post(f"{API}/departments", headers=auth(bureau), json={
        "name": "台州市测试局", "code": code.lower(), "level": "市", "region_code": "331000",
        "parent": stats_bureau.name})
    assert response.status_code == 201, response.get_json()
    department = response.get_json()
    assert (department["code"], department["level"], department["parent_id"]) == (code, "municipal", stats_bureau.id)
    found = client.get(f"{API}/departments/{department['id']}", headers=auth(bureau)).get_json()
    assert found["name"] == "台州市测试局"


def test_department_name_is_unique(client, bureau, stats_bureau):
    response = client.post(f"{API}/departments", json={"name": stats_bureau.name}, headers=auth(bureau))
    assert response.status_code == 409


def test_provider_cannot_register_a_department(client, provider):
    response = client.post(f"{API}/departments", json={"name": "台州市测试局"}, headers=auth(provider))
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_departments_are_searched_by_name_or_code(client, requester, stats_bureau, transport):
    by_name = client.get(f"{API}/departments?q=统计", headers=auth(requester)).get_json()
    by_code = client.get(f"{API}/departments", query_string={"q": transport.code.lower()},
                         headers=auth(requester)).get_json()
    assert [d["name"] for d in by_name["items"]] == [stats_bureau.name]
    assert [d["name"] for d in by_code["items"]] == [transport.name]


ELEMENT = {"identifier": "DE-TZ-0001", "name": "测试统一编码", "data_type": "字符型 an..20",
           "synonyms": ["统一编码"], "definition": "测试用数据元"}


def test_bureau_adds_a_data_element(client, bureau):
    response = client.post(f"{API}/elements", json=ELEMENT, headers=auth(bureau))
    assert response.status_code == 201, response.get_json()
    element = response.get_json()
    assert (element["identifier"], element["data_type"], element["format"]) == ("DE-TZ-0001", "character", "an..20")
    assert element["synonyms"] == ["统一编码"]


def test_data_elements_are_searched_by_name(client, bureau, requester):
    client.post(f"{API}/elements", json=ELEMENT, headers=auth(bureau))
    client.post(f"{API}/elements", json={"identifier": "DE-TZ-0002", "name": "另一个数据元"}, headers=auth(bureau))
    page = client.get(f"{API}/elements?q=统一编码", headers=auth(requester)).get_json()
    assert [e["identifier"] for e in page["items"]] == ["DE-TZ-0001"]
    assert page["total"] == 1


def test_data_element_identifier_is_unique(client, bureau):
    client.post(f"{API}/elements", json=ELEMENT, headers=auth(bureau))
    response = client.post(f"{API}/elements", json={**ELEMENT, "name": "别的"}, headers=auth(bureau))
    assert response.status_code == 409


def test_data_element_with_an_unknown_type_is_refused(client, bureau):
    response = client.post(f"{API}/elements", json={**ELEMENT, "data_type": "量子型"}, headers=auth(bureau))
    assert response.status_code == 422
    assert "data_type" in error_of(response)["details"]


def test_provider_cannot_add_a_data_element(client, provider):
    response = client.post(f"{API}/elements", json=ELEMENT, headers=auth(provider))
    assert response.status_code == 403


def test_entry_item_bound_to_a_missing_element_is_refused(client, provider):
    response = client.post(f"{API}/entries", json=fields(items=[{"name": "企业名称", "element_id": 999999}]),
                           headers=auth(provider))
    assert response.status_code == 422
    assert "items" in error_of(response)["details"]


def test_vocabularies_give_values_and_chinese_labels(client):
    response = client.get(f"{API}/vocabularies")
    assert response.status_code == 200
    vocab = response.get_json()
    assert {"value": "conditional", "label": "有条件共享"} in vocab["sharing_type"]
    assert {"value": "monthly", "label": "每月"} in vocab["update_cycle"]
    assert {"value": "provider", "label": "提供方"} in vocab["role"]


def test_me_is_the_tokens_user(client, provider, stats_bureau):
    response = client.get(f"{API}/me", headers=auth(provider))
    assert response.status_code == 200
    me = response.get_json()
    assert (me["username"], me["role"], me["department"]["id"]) == ("tongji", "provider", stats_bureau.id)


# -- one error shape --------------------------------------------------------------------------


def _stale_patch(client, tokens, entry):
    client.patch(f"{API}/entries/{entry['id']}", json={"summary": "a", "lock_version": entry["lock_version"]},
                 headers=auth(tokens["provider"]))
    return client.patch(f"{API}/entries/{entry['id']}", json={"summary": "b", "lock_version": entry["lock_version"]},
                        headers=auth(tokens["provider"]))


FAILING_REQUESTS = {
    "no token": (401, "unauthenticated", lambda c, t, e: c.get(f"{API}/entries")),
    "bad token": (401, "unauthenticated",
                  lambda c, t, e: c.get(f"{API}/entries", headers=auth("exk_not-a-real-token"))),
    "wrong scheme": (401, "unauthenticated",
                     lambda c, t, e: c.get(f"{API}/me", headers={"Authorization": f"Basic {t['provider']}"})),
    "forbidden": (403, "permission_denied",
                  lambda c, t, e: c.post(f"{API}/departments", json={"name": "某局"}, headers=auth(t["provider"]))),
    "hidden entry": (404, "not_found", lambda c, t, e: c.get(f"{API}/entries/{e['id']}", headers=auth(t["requester"]))),
    "missing entry": (404, "not_found", lambda c, t, e: c.get(f"{API}/entries/987654", headers=auth(t["provider"]))),
    "missing mount": (404, "not_found", lambda c, t, e: c.delete(f"{API}/mounts/987654", headers=auth(t["provider"]))),
    "unknown route": (404, "not_found", lambda c, t, e: c.get(f"{API}/no-such-thing", headers=auth(t["provider"]))),
    "wrong method": (405, "method_not_allowed", lambda c, t, e: c.delete(f"{API}/entries", headers=auth(t["provider"]))),
    "stale version": (409, "stale_version", _stale_patch),
    "bad transition": (409, "invalid_transition",
                       lambda c, t, e: c.post(f"{API}/entries/{e['id']}/publish", json={}, headers=auth(t["bureau"]))),
    "bad json": (400, "bad_request",
                 lambda c, t, e: c.post(f"{API}/entries", data="{oops", content_type="application/json",
                                        headers=auth(t["provider"]))),
    "bad query": (422, "validation_error",
                  lambda c, t, e: c.get(f"{API}/entries?page_size=999", headers=auth(t["provider"]))),
    "rule broken": (422, "validation_error",
                    lambda c, t, e: c.post(f"{API}/entries", json=fields(sharing_type="有条件共享"),
                                           headers=auth(t["provider"]))),
    "unknown field": (422, "validation_error",
                      lambda c, t, e: c.post(f"{API}/entries", json=fields(colour="red"), headers=auth(t["provider"]))),
    "mount failed": (422, "mount_failed",
                     lambda c, t, e: c.post(f"{API}/entries/{e['id']}/mounts", headers=auth(t["provider"]),
                                            json={"kind": "table", "url": "sqlite:////nonexistent/x.db", "table": "t"})),
    "import failed": (422, "import_failed",
                      lambda c, t, e: import_file(c, t["bureau"], "信息资源名称\n一\n".encode())),
}


@pytest.mark.parametrize("case", list(FAILING_REQUESTS))
def test_every_error_has_one_shape(client, provider, requester, bureau, case):
    status, code, send = FAILING_REQUESTS[case]
    tokens = {"provider": provider, "requester": requester, "bureau": bureau}
    entry = post_entry(client, provider)
    response = send(client, tokens, entry)
    assert response.status_code == status, response.get_json()
    assert response.is_json
    error = error_of(response)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


def test_upload_over_the_size_limit_is_refused_in_the_error_shape(sessions, tmp_path, database_url, provider):
    app = create_app({"database_url": database_url, "storage_dir": str(tmp_path / "files"), "max_upload_mb": 1},
                     session_factory=sessions)
    client = app.test_client()
    entry = post_entry(client, provider)
    response = upload_mount(client, provider, entry["id"], b"a,b\n" * 300_000, "big.csv")
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


# -- OpenAPI and the docs page ----------------------------------------------------------------


def test_openapi_document_is_served_without_a_token(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert "/api/v1/entries" in spec["paths"]
    assert "/api/v1/entries/{entry_id}/mounts" in spec["paths"]
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_docs_page_uses_only_local_swagger_assets(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert not [a for a in assets if "//" in a], assets
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.get_data()) > 1000
