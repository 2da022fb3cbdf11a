"""R3 end to end in Chromium: a data subject files a privacy request, confirms it from the
email and sees the legal date of receipt and the date Harmonyze answers by.

Checked through the pages and the in-memory outbox only: while Playwright runs, the test thread
may not touch the database (see ``page`` in conftest.py).
"""

from __future__ import annotations

import re
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from harmonyze_portal.dates import legal_date
from requests import deadlines
from requests.models import Regime

pytestmark = pytest.mark.browser

JANE = "jane@example.org"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def clocks(transactional_db: None, settings: Any, tmp_path: Path) -> list[tuple[date, date]]:
    """The legal dates the test may run on (today, and tomorrow should it cross midnight in
    the legal time zone), each with the CCPA response deadline it gives.

    The regimes are rows seeded by a data migration, which the flush after an earlier
    transactional test removes: seed them again with the migration's own function."""
    settings.MEDIA_ROOT = tmp_path
    import_module("requests.migrations.0002_seed_regimes").seed(django_apps, None)
    import_module("requests.migrations.0012_regime_calendars_and_fadp").forwards(django_apps, None)
    today = legal_date(timezone.now(), settings.TIME_ZONE)
    ccpa = Regime.objects.get(code="ccpa")
    holidays = ccpa.holidays_between(today, date(today.year + 1, 12, 31))
    days = [today, date.fromordinal(today.toordinal() + 1)]
    return [
        (
            day,
            deadlines.respond_by(
                day,
                ccpa.response_value,
                ccpa.response_unit,
                moves_off_weekends=ccpa.moves_off_weekends,
                holidays=holidays,
            ),
        )
        for day in days
    ]


def long_date(day: date) -> str:
    """Django's "j F Y", as the public pages print dates."""
    return f"{day.day} {day:%B %Y}"


def any_of(days: list[date]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(long_date(day)) for day in days))


def messages_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def test_a_person_files_and_verifies_a_privacy_request(
    clocks: list[tuple[date, date]], page: Any
) -> None:
    page.goto("/")
    page.get_by_role("link", name="Privacy requests").click()
    expect(page.get_by_role("heading", name="Make a privacy request")).to_be_visible()

    page.get_by_label("Your name").fill("Jane Subject")
    page.get_by_label("Your email address").fill(JANE)
    page.get_by_label("Deletion").check()
    page.get_by_label("Which privacy law applies (where you live)").select_option(
        label="CCPA / CPRA (California)"
    )
    page.get_by_label("Details").fill("Please delete my account data.")
    page.get_by_label("Authorized agent's name (only if an agent acts for you)").fill("Alex Agent")
    page.get_by_label("Authorized agent's email").fill("alex@agents.example")
    page.get_by_label("Agent's proof of authority (PDF)").set_input_files(
        {"name": "proof.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Send the request").click()

    page.wait_for_url(re.compile(r"/privacy-requests/sent/$"))
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    [verification] = messages_to(JANE)
    assert verification.subject == "Confirm your privacy request to Harmonyze"
    [url] = re.findall(r"https?://\S*/privacy-requests/verify/\S+/", verification.body)
    assert url.startswith(settings.PORTAL_BASE_URL + "/")

    # Opening the link (as a mail scanner would) only shows the button.
    page.goto(urlsplit(url).path)
    expect(page.get_by_role("heading", name="Confirm your privacy request")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(JANE)

    page.get_by_role("button", name="Confirm my request").click()
    expect(page.get_by_role("heading", name="Your privacy request is received")).to_be_visible()
    expect(page.locator("#received-on")).to_contain_text(any_of([day for day, _ in clocks]))
    expect(page.locator("#respond-by")).to_contain_text(any_of([due for _, due in clocks]))

    # The same link again is refused: it was used.
    response = page.goto(urlsplit(url).path)
    assert response is not None
    assert response.status == 410
    expect(page.get_by_role("main")).to_contain_text("already confirmed")
    assert len(messages_to(JANE)) == 1
    assert page.csp_violations == []
