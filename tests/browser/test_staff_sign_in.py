"""A demo user signs in through the real pages in Chromium: password, then the TOTP step."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.staff import code_for

pytestmark = pytest.mark.browser


def test_demo_counsel_enrols_and_sees_the_admin(passwords: dict[str, str], page: Any) -> None:
    page.goto("/admin/")
    page.fill("#id_username", "counsel")
    page.fill("#id_password", passwords["counsel"])
    page.click("input[type=submit]")

    # First sign-in: enrol an authenticator.
    page.wait_for_url(re.compile(r"/staff/2fa/setup/"))
    assert page.locator(".qr svg").count() == 1
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.fill("#id_token", code_for(secret))
    page.click("input[type=submit]")

    page.wait_for_url(re.compile(r"/staff/2fa/backup-codes/"))
    codes = page.get_by_test_id("backup-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_text("I have saved them: continue").click()

    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.locator("h1").first.inner_text() == "Privacy & legal workspace"
    assert page.get_by_role("link", name="Public holidays").count() == 1
    assert page.csp_violations == []


def test_wrong_code_keeps_the_admin_closed(passwords: dict[str, str], page: Any) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", passwords["viewer"])
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/staff/2fa/setup/"))
    page.fill("#id_token", "000000")
    page.click("input[type=submit]")
    assert "That code did not match" in page.content()

    page.goto("/admin/auth/user/")
    page.wait_for_url(re.compile(r"/staff/2fa/setup/"))
    assert page.csp_violations == []


def test_the_browser_enforces_the_csp_and_reports_violations(page: Any) -> None:
    # The checks above rely on Chromium reporting violations; prove that it does.
    page.goto("/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.appendChild(script);
        }"""
    )
    assert page.evaluate("() => window.injected === true") is False
    page.wait_for_timeout(100)
    assert any("Content Security Policy" in text for text in page.csp_violations)
