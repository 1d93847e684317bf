"""The pages through Flask's test client (no browser): sign-in, CSRF, permissions, errors, and the
provider's and admin's forms.  Each test runs inside the usual rolled-back transaction; background
tasks run inline because the app is given the test's session factory."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time

import openpyxl
import pytest

from sqlalchemy import select

from catalog import services
from catalog.actors import SYSTEM
from exchange import create_app
from exchange.audit.models import AuditEvent
from exchange.config import Settings
from exchange.downloads import RETENTION
from exchange.freshness.scan import scan
from tests.conftest import auth, entry_fields

PASSWORD = "password-123"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf(client, path: str = "/login") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf(client), **extra})


def post(client, path: str, data: dict | None = None, **kwargs):
    """A form post with the page's CSRF token, as a browser sends it."""
    return client.post(path, data={"csrf_token": csrf(client, "/home"), **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def flashes(response) -> list[str]:
    return re.findall(r'<div class="flash flash-\w+">(.*?)</div>', text(response), re.S)


@pytest.fixture
def provider(user, stats_bureau):
    return user("tongji", "provider", stats_bureau)[0]


@pytest.fixture
def admin(user):
    return user("admin", "admin")[0]


@pytest.fixture
def entry(session, stats_bureau, now):
    """A published entry of 台州市统计局, with nothing mounted."""
    data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id, last_updated="2026-10-20"))
    created = services.create_entry(session, actor=SYSTEM, data=data, now=now)
    services.transition(session, actor=SYSTEM, entry_id=created.id, action="submit", now=now)
    services.transition(session, actor=SYSTEM, entry_id=created.id, action="publish", now=now)
    session.commit()
    return created


# -- signing in, sessions, CSRF ------------------------------------------------------------------


def test_a_visitor_is_sent_to_the_login_page(client):
    home = client.get("/")
    assert home.status_code == 302 and home.location == "/home"
    page = client.get("/home")
    assert page.status_code == 302 and page.location.startswith("/login?next=")


def test_a_wrong_password_says_so_and_the_right_one_signs_in(client, provider):
    wrong = sign_in(client, "tongji", "not-the-password")
    assert wrong.status_code == 401
    assert flashes(wrong) == ["用户名或密码错误"]
    right = sign_in(client, "tongji")
    assert right.status_code == 302 and right.location == "/home"
    assert "您好，tongji" in text(client.get("/home"))


def test_a_deactivated_user_cannot_sign_in(client, provider, session):
    provider.active = False
    session.commit()
    assert sign_in(client, "tongji").status_code == 401


def test_remember_me_is_off_unless_ticked(client, provider):
    sign_in(client, "tongji")
    assert client.get_cookie("remember_token") is None
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    sign_in(client, "tongji", remember="y")
    assert client.get_cookie("remember_token") is not None


def login_cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def test_login_cookies_are_http_only_same_site_and_not_https_only_by_default(client, provider):
    cookies = login_cookies(sign_in(client, "tongji", remember="y"))
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name] and "Secure" not in cookies[name]


def test_secure_cookies_send_the_login_cookies_over_https_only(sessions, database_url, tmp_path, provider):
    app = create_app({"database_url": database_url, "storage_dir": str(tmp_path / "files"), "TESTING": True,
                      "secure_cookies": True}, session_factory=sessions)
    client, https = app.test_client(), {"base_url": "https://localhost"}
    token = TOKEN.search(text(client.get("/login", **https))).group(1)
    signed_in = client.post("/login", data={"username": "tongji", "password": PASSWORD, "remember": "y",
                                            "csrf_token": token}, headers={"Referer": "https://localhost/login"}, **https)
    cookies = login_cookies(signed_in)
    assert "; Secure" in cookies["session"] and "; Secure" in cookies["remember_token"]
    assert client.get("/home", **https).status_code == 200


@pytest.mark.parametrize("raw, expected", [("on", True), ("1", True), ("TRUE", True), ("off", False), ("0", False),
                                           ("", False)])
def test_the_secure_cookies_setting_reads_on_and_off(raw, expected):
    assert Settings.from_env({"EXCHANGE_SECURE_COOKIES": raw}).secure_cookies is expected


def test_a_bad_secure_cookies_value_names_the_setting():
    with pytest.raises(ValueError, match="EXCHANGE_SECURE_COOKIES: 'sometimes' is not on or off"):
        Settings.from_env({"EXCHANGE_SECURE_COOKIES": "sometimes"})


def test_an_idle_login_expires_with_a_message(client, provider):
    sign_in(client, "tongji")
    with client.session_transaction() as s:
        s["seen"] -= 121 * 60  # EXCHANGE_SESSION_MINUTES is 120 by default
    expired = client.get("/provider/entries")
    assert expired.status_code == 302 and expired.location.startswith("/login?next=")
    assert "登录已超时，请重新登录" in text(client.get(expired.location))
    assert client.get("/home").status_code == 302


def test_activity_keeps_a_login_alive_past_the_idle_limit(client, provider):
    sign_in(client, "tongji")
    with client.session_transaction() as s:
        s["seen"] -= 100 * 60
    assert client.get("/provider/entries").status_code == 200  # 100 minutes idle: still in
    with client.session_transaction() as s:
        s["seen"] -= 100 * 60  # 100 more minutes after that visit
    assert client.get("/provider/entries").status_code == 200


def test_a_form_posted_without_its_csrf_token_is_refused_with_a_clear_page(client, provider):
    sign_in(client, "tongji")
    response = client.post("/provider/entries/new", data={"name": "企业登记信息"})
    assert response.status_code == 400
    assert "表单已失效或缺少安全令牌" in text(response)
    assert "Traceback" not in text(response)


def test_the_api_stays_exempt_from_csrf(client, user, stats_bureau):
    _, token = user("api_user", "provider", stats_bureau)
    response = client.post("/api/v1/entries", json={**entry_fields(), "items": [{"name": "企业名称"}]},
                           headers=auth(token))
    assert response.status_code == 201


def test_signing_out_needs_a_post_with_the_token(client, provider):
    sign_in(client, "tongji")
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    assert client.get("/home").status_code == 302


# -- permissions and errors ------------------------------------------------------------------------


def test_a_provider_gets_a_403_page_for_another_departments_entry(client, provider, session, transport, now):
    data = services.parse_entry_fields(entry_fields(provider_id=transport.id))
    theirs = services.create_entry(session, actor=SYSTEM, data=data, now=now)
    session.commit()
    sign_in(client, "tongji")
    response = client.get(f"/provider/entries/{theirs.id}")
    assert response.status_code == 404  # a draft of theirs is not even visible
    services.transition(session, actor=SYSTEM, entry_id=theirs.id, action="submit", now=now)
    services.transition(session, actor=SYSTEM, entry_id=theirs.id, action="publish", now=now)
    session.commit()
    for path in (f"/provider/entries/{theirs.id}", f"/provider/entries/{theirs.id}/edit",
                 f"/provider/entries/{theirs.id}/mount"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权修改其他部门的目录" in text(response)
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "refusal.permission_denied",
                                                       AuditEvent.object_id == theirs.id)).all()
    assert len(refused) == 3 and {e.actor_id for e in refused} == {provider.id}


def test_roles_see_only_their_pages(client, provider, admin):
    sign_in(client, "tongji")
    assert client.get("/admin/users").status_code == 403
    assert "只有管理员可以打开此页面" in text(client.get("/admin/settings"))
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    sign_in(client, "admin")
    assert client.get("/provider/entries").status_code == 403
    assert client.get("/admin/users").status_code == 200


def test_navigation_follows_the_role(client, provider, admin):
    sign_in(client, "tongji")
    nav = text(client.get("/home"))
    assert "本部门目录" in nav and "用户管理" not in nav
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    sign_in(client, "admin")
    nav = text(client.get("/home"))
    assert "用户管理" in nav and "本部门目录" not in nav


def test_a_missing_page_is_a_404_page_in_the_users_language(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in text(response)
    client.set_cookie("lang", "en")
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in text(response)


def test_the_api_keeps_its_json_errors(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_server_error_is_a_500_page_without_internals(app, client):
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", "broken", broken)
    response = client.get("/broken")
    assert response.status_code == 500
    assert "服务器内部错误，已记录" in text(response)
    assert "secret internals" not in text(response) and "Traceback" not in text(response)


def test_the_language_switch_keeps_the_choice(client, provider):
    sign_in(client, "tongji")
    response = post(client, "/language/en?next=/provider/entries")
    assert response.status_code == 302 and response.location == "/provider/entries"
    assert "<h1>Our catalog" in text(client.get("/provider/entries"))
    post(client, "/language/zh_CN")
    assert "<h1>本部门目录" in text(client.get("/provider/entries"))


# -- provider: the catalog and entry forms -----------------------------------------------------


def _form(**overrides) -> dict:
    form = {"name": "企业登记信息", "summary": "全市企业登记基本信息", "category": "部门信息资源",
            "format": "数据库", "format_detail": "MySQL", "sharing_type": "无条件共享", "sharing_method": "库表",
            "open_attribute": "有条件开放", "update_cycle": "每月",
            "item_name": ["统一社会信用代码", "企业名称", ""], "item_data_type": ["字符型", "", ""],
            "item_length": ["18", "", ""], "item_element_id": ["", "", ""]}
    form.update(overrides)
    return form


def test_a_provider_registers_an_entry_with_items(client, provider, session):
    sign_in(client, "tongji")
    response = post(client, "/provider/entries/new", _form())
    assert response.status_code == 302
    page = text(client.get(response.location))
    assert "已登记目录草稿" in page
    assert "统一社会信用代码" in page and "企业名称" in page


def test_a_bad_entry_form_names_the_field_and_keeps_the_input(client, provider):
    sign_in(client, "tongji")
    response = post(client, "/provider/entries/new", _form(sharing_type="有条件共享", name="我的目录"))
    assert response.status_code == 422
    page = text(response)
    assert "目录不符合编目规则" in page
    assert "有条件共享的资源必须填写共享条件" in page
    assert 'value="我的目录"' in page


def test_a_stale_edit_shows_a_conflict_and_keeps_what_was_typed(client, provider, entry, session, now):
    sign_in(client, "tongji")
    form = text(client.get(f"/provider/entries/{entry.id}/edit"))
    seen = re.search(r'name="lock_version" value="(\d+)"', form).group(1)
    services.update_entry(session, actor=SYSTEM, entry_id=entry.id,
                          data=services.parse_entry_fields(entry_fields(provider_id=entry.provider_id,
                                                                        summary="别人改过的摘要")),
                          lock_version=int(seen), now=now)
    session.commit()
    response = post(client, f"/provider/entries/{entry.id}/edit", _form(lock_version=seen, name="我的新名称"))
    assert response.status_code == 409
    page = text(response)
    assert "此目录已被他人修改" in page
    assert 'value="我的新名称"' in page
    fresh = re.search(r'name="lock_version" value="(\d+)"', page).group(1)
    assert int(fresh) > int(seen)
    saved = post(client, f"/provider/entries/{entry.id}/edit", _form(lock_version=fresh, name="我的新名称"))
    assert saved.status_code == 302


def test_the_entry_list_filters_sorts_and_pages(client, provider, session, stats_bureau, now):
    for n in range(25):
        data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id, name=f"目录{n:02d}"))
        services.create_entry(session, actor=SYSTEM, data=data, now=now)
    session.commit()
    sign_in(client, "tongji")
    first = text(client.get("/provider/entries?sort=name"))
    assert "共 25 条，第 1 / 2 页" in first
    assert first.index("目录00") < first.index("目录19") and "目录20" not in first
    second = text(client.get("/provider/entries?sort=name&page=2"))
    assert "目录24" in second and "目录00" not in second
    descending = text(client.get("/provider/entries?sort=-name"))
    assert descending.index("目录24") < descending.index("目录10")
    found = text(client.get("/provider/entries?q=目录07&mounted=no"))
    assert "共 1 条" in found


def test_submit_and_withdraw_from_the_entry_page(client, provider, session, stats_bureau, now):
    data = services.parse_entry_fields(entry_fields(provider_id=stats_bureau.id))
    draft = services.create_entry(session, actor=SYSTEM, data=data, now=now)
    session.commit()
    sign_in(client, "tongji")
    response = post(client, f"/provider/entries/{draft.id}/submit")
    page = client.get(response.location)
    assert flashes(page) == ["已提交审核"]
    assert "待审核" in text(page) and "撤销理由" not in text(page)  # under review: nothing to withdraw yet
    session.expire_all()  # the page submitted it in a session of its own
    services.transition(session, actor=SYSTEM, entry_id=draft.id, action="publish", now=now)
    session.commit()
    refused = post(client, f"/provider/entries/{draft.id}/withdraw", {"reason": ""})
    assert flashes(client.get(refused.location)) == ["撤销目录须说明理由"]
    done = post(client, f"/provider/entries/{draft.id}/withdraw", {"reason": "业务调整"})
    page = text(client.get(done.location))
    assert "已撤销" in page and "业务调整" in page


# -- provider: import with progress and the error workbook -------------------------------------


HEADER = "信息资源名称,信息资源提供方,信息资源摘要,信息资源格式,信息项,共享类型,共享条件,共享方式,开放属性,更新周期\n"


def _template(rows: list[str]) -> io.BytesIO:
    return io.BytesIO((HEADER + "\n".join(rows) + "\n").encode("utf-8"))


GOOD = "人口统计,台州市统计局,全市人口统计数据,电子表格,地区|人口数,无条件共享,,文件,有条件开放,每年"
BAD = "企业统计,台州市统计局,企业统计数据,电子表格,企业名称,有条件共享,,文件,有条件开放,每年"


def test_an_import_with_a_bad_row_shows_the_problems_and_the_error_workbook(client, provider):
    sign_in(client, "tongji")
    started = post(client, "/provider/import", {"file": (_template([GOOD, BAD]), "catalog.csv")},
                   content_type="multipart/form-data")
    assert started.status_code == 302 and started.location.startswith("/tasks/")
    page = text(client.get(started.location))
    assert "文件有1处问题，未导入任何数据" in page
    assert "有条件共享的资源必须填写共享条件" in page
    status = client.get(started.location + ".json").get_json()
    assert status["state"] == "failed" and status["percent"] == 100
    link = re.search(r'href="(/provider/import/\w+/errors.xlsx)"', page).group(1)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(link).data))
    listing = list(workbook["错误清单"].iter_rows(values_only=True))
    assert listing[1][0] == 3 and "共享条件" in listing[1][3]
    assert "共 0 条" in text(client.get("/provider/entries"))


def test_writing_an_error_workbook_removes_those_past_their_retention(client, provider, tmp_path):
    folder = tmp_path / "files" / "import-errors"
    folder.mkdir(parents=True)
    old, recent = folder / "old-task.xlsx", folder / "recent-task.xlsx"
    for path in (old, recent):
        path.write_bytes(b"PK")
    expired = time.time() - RETENTION.total_seconds() - 60
    os.utime(old, (expired, expired))
    sign_in(client, "tongji")
    started = post(client, "/provider/import", {"file": (_template([BAD]), "catalog.csv")},
                   content_type="multipart/form-data")
    task_id = started.location.rsplit("/", 1)[1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(["recent-task.xlsx", f"{task_id}.xlsx"])


def test_a_good_import_writes_drafts_and_says_how_many(client, provider):
    sign_in(client, "tongji")
    started = post(client, "/provider/import", {"file": (_template([GOOD]), "catalog.csv")},
                   content_type="multipart/form-data")
    page = text(client.get(started.location))
    assert "已完成" in page and "<th>新增</th><td>1</td>" in page
    assert "人口统计" in text(client.get("/provider/entries"))


def test_another_user_cannot_see_an_import_task(client, provider, user, stats_bureau):
    user("tongji2", "provider", stats_bureau)
    sign_in(client, "tongji")
    started = post(client, "/provider/import", {"file": (_template([BAD]), "catalog.csv")},
                   content_type="multipart/form-data")
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    sign_in(client, "tongji2")
    assert client.get(started.location).status_code == 404
    assert client.get(started.location.replace("/tasks/", "/provider/import/") + "/errors.xlsx").status_code == 404


# -- provider: mounting, flags, answering --------------------------------------------------------


def test_mounting_a_file_resolves_the_unmounted_flag_at_the_next_scan(client, provider, entry, sessions, now):
    scan(sessions, now=now)
    sign_in(client, "tongji")
    flags = text(client.get("/provider/flags"))
    assert "未挂接资源" in flags and entry.name in flags
    wizard = text(client.get(f"/provider/entries/{entry.id}/mount"))
    assert "上传文件" in wizard and "数据库表" in wizard
    mounted = post(client, f"/provider/entries/{entry.id}/mount?kind=file",
                   {"kind": "file", "file": (io.BytesIO("地区,人口数\n椒江区,1000\n".encode()), "人口.csv")},
                   content_type="multipart/form-data")
    assert mounted.status_code == 302
    result = text(client.get(mounted.location))
    assert "挂接成功" in result and "人口.csv" in result and "地区" in result
    scan(sessions, now=now + dt.timedelta(minutes=1))
    assert "没有问题" in text(client.get("/provider/flags"))
    assert entry.name in text(client.get("/provider/flags?state=resolved"))


def test_a_bad_api_url_is_refused_on_the_wizards_form(client, provider, entry):
    sign_in(client, "tongji")
    response = post(client, f"/provider/entries/{entry.id}/mount?kind=api", {"kind": "api", "url": "not a url"})
    assert response.status_code == 422
    assert 'value="not a url"' in text(response)


# -- admin -----------------------------------------------------------------------------------------


def test_the_admin_creates_a_user_who_can_then_sign_in(client, admin, stats_bureau):
    sign_in(client, "admin")
    response = post(client, "/admin/users/new", {"username": "newbie", "password": "long-enough-1",
                                                 "role": "provider", "department": str(stats_bureau.id)})
    assert response.status_code == 302
    assert "newbie" in text(client.get("/admin/users?role=provider"))
    bad = post(client, "/admin/users/new", {"username": "x y", "password": "short", "role": "provider"})
    assert bad.status_code == 422
    assert "密码至少8位" in text(bad) and "用户名须为1到64位" in text(bad)
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    assert sign_in(client, "newbie", "long-enough-1").status_code == 302


def test_the_admin_changes_a_role_deactivates_and_resets_a_password(client, admin, provider, transport):
    sign_in(client, "admin")
    page = text(client.get(f"/admin/users/{provider.id}"))
    seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    changed = post(client, f"/admin/users/{provider.id}", {"seen": seen, "role": "requester",
                                                          "department": str(transport.id), "display_name": "童计"})
    assert changed.status_code == 302
    page = text(client.get(f"/admin/users/{provider.id}"))
    assert 'value="requester" selected' in page
    stale = post(client, f"/admin/users/{provider.id}", {"seen": seen, "role": "provider",
                                                        "department": str(transport.id)})
    assert stale.status_code == 409 and "该用户已被他人修改" in text(stale)
    reset = post(client, f"/admin/users/{provider.id}/reset-password")
    password = re.search(r"新密码（只显示这一次）：(\S+?)<", text(client.get(reset.location))).group(1)
    seen = re.search(r'name="seen" value="([^"]+)"', text(client.get(f"/admin/users/{provider.id}"))).group(1)
    post(client, f"/admin/users/{provider.id}/deactivate", {"seen": seen})
    assert "已停用" in text(client.get("/admin/users?active=no"))
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})
    assert sign_in(client, "tongji", password).status_code == 401  # deactivated


def test_the_admin_cannot_deactivate_themself(client, admin):
    sign_in(client, "admin")
    response = post(client, f"/admin/users/{admin.id}/deactivate")
    assert "不能停用自己的账号" in " ".join(flashes(client.get(response.location)))


def test_the_admin_adds_a_department_and_bad_codes_are_named(client, admin):
    sign_in(client, "admin")
    bad = post(client, "/admin/departments", {"name": "台州市气象局", "code": "123"})
    assert bad.status_code == 422 and "部门信息不符合要求" in text(bad)
    good = post(client, "/admin/departments", {"name": "台州市气象局", "level": "市", "region_code": "331000"})
    assert good.status_code == 302
    assert "台州市气象局" in text(client.get("/admin/departments?q=气象"))


def test_the_settings_page_masks_secrets(app, client, admin):
    settings = app.extensions["exchange"].settings
    object.__setattr__(settings, "smtp_url", "smtp://mailer:hunter2@mail.example:25/exchange")
    object.__setattr__(settings, "secret_key", "very-secret-key")
    sign_in(client, "admin")
    page = text(client.get("/admin/settings"))
    assert "EXCHANGE_SESSION_MINUTES" in page and "EXCHANGE_DATABASE_URL" in page
    assert "hunter2" not in page and "very-secret-key" not in page
    assert "smtp://mailer:••••••@mail.example:25/exchange" in page


def test_the_providers_home_counts_what_waits_on_the_department(client, provider, entry, sessions, now):
    sign_in(client, "tongji")
    before = text(client.get("/home"))
    assert re.search(r'<span class="count">0</span> 未解决的目录问题', before)
    scan(sessions, now=now)
    after = text(client.get("/home"))
    assert re.search(r'<span class="count">1</span> 未解决的目录问题', after)
    assert re.search(r'<span class="count">0</span> 待审批的共享申请', after)


def test_remember_me_outlives_the_idle_limit(client, provider):
    sign_in(client, "tongji", remember="y")
    with client.session_transaction() as s:
        s["seen"] -= 24 * 3600
    assert client.get("/provider/entries").status_code == 200


def test_the_department_exports_its_filtered_entries_in_the_template(client, provider, entry, session,
                                                                      stats_bureau, transport, now):
    for provider_id, name in ((stats_bureau.id, "草稿目录"), (transport.id, "别的部门的目录")):
        services.create_entry(session, actor=SYSTEM, now=now,
                              data=services.parse_entry_fields(entry_fields(provider_id=provider_id, name=name)))
    session.commit()
    sign_in(client, "tongji")
    page = text(client.get("/provider/entries?status=published"))
    link = re.search(r'id="export" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "status=published" in link
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(link).data))
    rows = list(workbook.active.iter_rows(values_only=True))
    names = [dict(zip(rows[0], row))["信息资源名称"] for row in rows[1:]]
    assert names == [entry.name]
    everything = openpyxl.load_workbook(io.BytesIO(client.get("/provider/entries/export.xlsx").data))
    rows = list(everything.active.iter_rows(values_only=True))
    assert sorted(dict(zip(rows[0], row))["信息资源名称"] for row in rows[1:]) == sorted([entry.name, "草稿目录"])


# -- the API read with the page's session ----------------------------------------------------------


@pytest.fixture
def elements(session):
    from catalog.elements import import_elements
    from catalog.templates import ELEMENTS, read_sheet
    from exchange.demo import DATA  # the GB/T 39046 data elements shipped with the demo

    elements_file = DATA / "data_elements.csv"
    sheet = read_sheet(elements_file, filename=elements_file.name, template=ELEMENTS, max_bytes=1 << 26)
    import_elements(session, actor=SYSTEM, sheet=sheet)
    session.commit()


def test_a_signed_in_page_reads_element_suggestions_without_a_token(client, provider, elements):
    assert client.get("/api/v1/elements/suggest?name=身份证件号").status_code == 401
    sign_in(client, "tongji")
    answer = client.get("/api/v1/elements/suggest?name=身份证件号")
    assert answer.status_code == 200
    [item] = answer.get_json()["items"]
    assert item["name"] == "身份证件号" and item["suggestions"][0]["element_id"]


def test_a_signed_in_page_cannot_write_through_the_api_without_a_token(client, provider):
    sign_in(client, "tongji")
    refused = client.post("/api/v1/synonyms", json={"terms": ["社保", "社会保险"], "kind": "synonym"})
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthenticated"


# -- the bureau's synonym table --------------------------------------------------------------------


def test_the_bureau_adds_filters_and_removes_synonyms_on_their_page(client, user, provider):
    user("dsj", "bureau")
    sign_in(client, "dsj")
    added = post(client, "/bureau/synonyms", {"terms": "社会保险|社保", "kind": "abbreviation", "note": "常用简称"},
                 follow_redirects=True)
    assert "已添加" in text(added) and "社会保险 = 社保" in text(added)
    assert "同义词库" in text(client.get("/home"))  # in the bureau's navigation
    assert "社会保险 = 社保" not in text(client.get("/bureau/synonyms?kind=synonym"))
    listed = text(client.get("/bureau/synonyms?q=社保&kind=abbreviation"))
    assert "社会保险 = 社保" in listed
    synonym_id, lock = re.search(r'/bureau/synonyms/(\d+)/delete".*?name="lock_version" value="(\d+)"', listed, re.S).groups()
    refused = post(client, "/bureau/synonyms", {"terms": "社保", "kind": "synonym"}, follow_redirects=True)
    assert "社会保险 = 社保" in text(refused) and "已添加" not in text(refused)  # one term is no group
    removed = post(client, f"/bureau/synonyms/{synonym_id}/delete", {"lock_version": lock}, follow_redirects=True)
    assert "已删除" in text(removed) and "没有符合条件的同义词" in text(removed)


def test_a_provider_cannot_open_the_synonym_table(client, provider):
    sign_in(client, "tongji")
    assert client.get("/bureau/synonyms").status_code == 403
    assert "同义词库" not in text(client.get("/home"))


# -- exemptions ------------------------------------------------------------------------------------


def test_a_provider_asks_for_an_exemption_and_the_bureau_grants_it_until_a_date(
        client, user, provider, entry, session, sessions, now):
    from exchange.freshness.models import Flag

    scan(sessions, now=now)
    [flag] = session.scalars(select(Flag).where(Flag.entry_id == entry.id, Flag.resolved_at.is_(None))).all()
    sign_in(client, "tongji")
    assert "申请豁免" in text(client.get("/provider/flags"))
    asked = post(client, f"/exemptions/flags/{flag.id}", {"reason": "数据由省级系统统一提供"}, follow_redirects=True)
    assert "已提交豁免申请" in text(asked)
    assert "待审核" in text(client.get("/exemptions"))
    client.post("/logout", data={"csrf_token": csrf(client, "/home")})

    user("dsj", "bureau")
    sign_in(client, "dsj")
    listed = text(client.get("/exemptions?status=requested"))
    assert "数据由省级系统统一提供" in listed and "豁免审批" in listed
    exemption_id, lock = re.search(r'/exemptions/(\d+)/decide".*?name="lock_version" value="(\d+)"', listed, re.S).groups()
    undated = post(client, f"/exemptions/{exemption_id}/decide", {"lock_version": lock, "grant": "yes", "reason": "同意"},
                   follow_redirects=True)
    assert "截止时间" in text(undated) and "已批准豁免" not in text(undated)
    granted = post(client, f"/exemptions/{exemption_id}/decide",
                   {"lock_version": lock, "grant": "yes", "reason": "同意", "ends_at": "2099-12-31"}, follow_redirects=True)
    assert "已批准豁免" in text(granted)
    scan(sessions, now=now + dt.timedelta(minutes=1))
    session.expire_all()
    assert session.get(Flag, flag.id).resolved_at is not None


def test_a_requester_cannot_open_the_exemptions(client, user, stats_bureau):
    user("xuqiu", "requester", stats_bureau)
    sign_in(client, "xuqiu")
    assert client.get("/exemptions").status_code == 403
