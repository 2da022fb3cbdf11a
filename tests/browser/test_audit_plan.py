"""A2 end to end in Chromium: a customer's contact sees the earliest start on the audit plan
form, sends the plan, confirms it from the email and sees the date of receipt and the lead-time
check.

Checked through the pages and the in-memory outbox only: while Playwright runs, the test thread
may not touch the database (see ``page`` in conftest.py).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from audits import deadlines
from harmonyze_portal.dates import add_months, legal_date
from tests.customers.builders import make_contact, make_customer

pytestmark = pytest.mark.browser

COUNSEL = "olga@outside-law.example"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def acme_with_counsel(transactional_db: None, settings: Any, tmp_path: Path) -> list[date]:
    """Acme's outside counsel is on file as a contact; returns the legal dates the test may
    run on (today, and tomorrow should it cross midnight in the legal time zone)."""
    settings.MEDIA_ROOT = tmp_path
    acme = make_customer("Acme Analytics GmbH", domains=("acme.com",))
    make_contact(acme, email=COUNSEL, name="Olga Counsel", role="legal")
    today = legal_date(timezone.now(), settings.TIME_ZONE)
    return [today, date.fromordinal(today.toordinal() + 1)]


def long_date(day: date) -> str:
    """Django's "j F Y", as the public pages print dates."""
    return f"{day.day} {day:%B %Y}"


def any_of(days: list[date]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(long_date(day)) for day in days))


def messages_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def test_contact_sends_and_confirms_an_audit_plan(acme_with_counsel: list[date], page: Any) -> None:
    days = acme_with_counsel
    earliest = [deadlines.earliest_start(day) for day in days]
    start = add_months(days[1], 2)

    # rule A2: the form shows, before anything is sent, the earliest start for today's receipt.
    page.goto("/audits/plan/")
    expect(page.get_by_role("heading", name="Send an audit plan")).to_be_visible()
    expect(page.locator("#earliest-start")).to_contain_text("allows a start on or after")
    expect(page.locator("#earliest-start")).to_contain_text(any_of(earliest))
    expect(page.get_by_role("main")).not_to_contain_text("Acme")  # customers are never listed

    page.get_by_label("Your company (the Harmonyze customer)").fill("Acme Analytics")
    page.get_by_label("Your name").fill("Olga Counsel")
    page.get_by_label("Your work email address").fill(COUNSEL)
    page.get_by_label("Scope of the audit").fill("Access control and logging in production")
    page.get_by_label("Proposed start date").fill(start.isoformat())
    page.get_by_label("Duration (business days)").fill("3")
    page.get_by_label("Auditor firm").fill("Audit & Co")
    page.get_by_label("Lead auditor").fill("Ada Auditor")
    page.get_by_label("Yearly audit").check()
    page.get_by_label("Audit plan (PDF, optional)").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Send the plan").click()

    page.wait_for_url(re.compile(r"/audits/plan/sent/\?start="))
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.locator("#lead-time")).to_contain_text(any_of(earliest))
    expect(page.locator("#lead-time")).to_contain_text("the day you confirm the plan")
    expect(page.locator("#lead-time-result")).to_contain_text(
        f"Your proposed start, {long_date(start)}, meets the lead time"
    )

    [confirmation] = messages_to(COUNSEL)
    assert confirmation.subject == "Confirm your audit plan for Harmonyze"
    [url] = re.findall(r"https?://\S*/audits/plan/confirm/\S+/", confirmation.body)
    assert url.startswith(settings.PORTAL_BASE_URL + "/")

    # Opening the link (as a mail scanner would) only shows the button.
    page.goto(urlsplit(url).path)
    expect(page.get_by_role("heading", name="Confirm your audit plan")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Acme Analytics GmbH")
    assert messages_to(settings.LEGAL_INBOX_EMAIL) == []

    page.get_by_role("button", name="Confirm and send the plan").click()
    expect(page.get_by_role("heading", name="Your audit plan is received")).to_be_visible()
    expect(page.locator("#received-on")).to_contain_text(any_of(days))
    expect(page.get_by_role("main")).to_contain_text(any_of(earliest))
    expect(page.locator("#lead-time-result")).to_contain_text("Lead time met")

    [alert] = messages_to(settings.LEGAL_INBOX_EMAIL)
    assert alert.subject == "Audit plan received from Acme Analytics GmbH"
    assert len(messages_to(COUNSEL)) == 1
    assert page.csp_violations == []
