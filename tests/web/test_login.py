"""In a real browser: signing in (wrong password, then right), the language switch, signing out."""

from __future__ import annotations

import pytest

from tests.web.conftest import log_in

pytestmark = pytest.mark.browser


def test_wrong_password_then_right_in_chinese(page, people, screenshot):
    log_in(page, "tongji", "wrong-password")
    assert page.locator(".flash-error").inner_text() == "用户名或密码错误"
    screenshot("login-wrong-password")
    log_in(page, "tongji")
    assert page.locator("h1").inner_text() == "您好，tongji"
    assert "本部门目录" in page.locator("nav.mainnav").inner_text()
    screenshot("home-provider")


def test_language_switch_to_english_and_back(page, people, screenshot):
    log_in(page, "tongji")
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Hello, tongji"
    assert "Our catalog" in page.locator("nav.mainnav").inner_text()
    screenshot("home-provider-en")
    page.goto("/provider/entries")
    assert page.locator("h1").inner_text().startswith("Our catalog")
    page.click("#lang-switch")
    assert page.locator("h1").inner_text().startswith("本部门目录")


def test_signing_out_ends_the_login(page, people):
    log_in(page, "admin")
    page.click("text=退出")
    assert page.locator(".flash").inner_text() == "已退出登录"
    page.goto("/admin/users")
    assert page.url.endswith("/login?next=%2Fadmin%2Fusers")
