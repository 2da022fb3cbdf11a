"""Counsel in Chromium: on the dashboard a rule ID explains itself on hover and opens its rule;
from the customer list one click gives a customer's full picture (T5)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_history_export import sign_in_counsel

pytestmark = pytest.mark.browser


def test_dashboard_rule_to_rules_page_and_customer_list_to_its_page(
    passwords: dict[str, str], page: Any
) -> None:
    sign_in_counsel(page, passwords["counsel"])

    # The desk: the first rule ID carries its meaning and clause, and links to its text.
    rule = page.locator(".desk-list td.desk-rule a.rule-link").first
    rule.hover()
    abbr = rule.locator("abbr")
    rule_id = abbr.inner_text()
    assert re.fullmatch(r"[TCSRAH][0-9]", rule_id)
    title = abbr.get_attribute("title")
    assert title.startswith(f"{rule_id}. ")
    assert re.search(r"\((DPA|PP|SCC) ", title)
    assert page.locator(".desk-list .desk-how").count() > 0  # each deadline says how
    rule.click()
    page.wait_for_url(re.compile(rf"/staff/rules/#{rule_id}$"))
    section = page.locator(f"section#{rule_id}")
    assert section.is_visible()
    assert section.locator("blockquote").count() >= 1  # the clause, quoted
    assert section.locator("figcaption").first.inner_text().startswith("— ")

    # The customer list: one click to where we stand with a customer.
    page.goto("/admin/customers/customer/")
    link = page.get_by_role("link", name=re.compile(r"^Where we stand with ")).first
    name = link.inner_text().removeprefix("Where we stand with ")
    link.click()
    page.wait_for_url(re.compile(r"/staff/customers/\d+/$"))
    assert page.locator("h1").first.inner_text() == name
    for heading in ("DPAs and transfer terms", "Termination, deletion and purge", "Timeline"):
        assert page.get_by_role("heading", name=re.compile(f"^{re.escape(heading)}")).count() == 1
    assert page.get_by_role("heading", name=re.compile("^Law-enforcement demands")).count() == 1
    # ... and back to the record it summarises.
    page.get_by_role("link", name="Edit the customer record").click()
    page.wait_for_url(re.compile(r"/admin/customers/customer/\d+/change/$"))
    assert page.get_by_role("link", name="Full picture").count() == 1
    assert page.csp_violations == []
