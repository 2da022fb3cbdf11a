"""An auditor's request in Chromium: counsel signs in, opens "Export history" and downloads the
customers' change history as CSV (DOMAIN.md H2)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from harmonyze_portal.history_export import HEADER
from tests.browser.staff import code_for

pytestmark = pytest.mark.browser


def sign_in_counsel(page: Any, password: str) -> None:
    page.goto("/admin/")
    page.fill("#id_username", "counsel")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/staff/2fa/setup/"))
    page.fill("#id_token", code_for(page.get_by_test_id("totp-secret").inner_text()))
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/staff/2fa/backup-codes/"))
    page.get_by_text("I have saved them: continue").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def test_counsel_downloads_the_customers_history(passwords: dict[str, str], page: Any) -> None:
    sign_in_counsel(page, passwords["counsel"])

    page.get_by_role("link", name="Export history").click()
    page.wait_for_url(re.compile(r"/admin/history/export/$"))
    page.click("input[type=submit]")  # nothing chosen yet
    assert "Say which model" in page.content()
    page.select_option("#id_model", label="Customers and DPAs › Customers")
    page.fill("#id_start", "2000-01-01")
    with page.expect_download() as download:
        page.click("input[type=submit]")

    path = download.value.path()
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert rows[0] == HEADER
    assert {row[2] for row in rows[1:]} == {"customers.customer"}
    assert any(row[5] == "created" and row[6] == "Legal name" for row in rows[1:])
    assert download.value.suggested_filename.startswith("history-customers.customer-")
    assert page.csp_violations == []
