"""S2–S4 end to end in Chromium: a customer's DPO signs up to the Notice Form and confirms
from the email, counsel publishes a change through the admin, the Notice arrives with its
links, the DPO objects through the link in it and counsel finds the objection in the admin.

Everything is checked through the pages and the in-memory outbox: while Playwright runs, the
test thread may not touch the database (see ``page`` in conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from harmonyze_portal.dates import legal_date
from harmonyze_portal.roles import COUNSEL
from subprocessors import deadlines
from subprocessors.models import SubProcessorStatus
from tests.conftest import PASSWORD, make_staff
from tests.customers.builders import make_customer
from tests.subprocessors.builders import make_change, make_subprocessor

pytestmark = pytest.mark.browser

DPO = "dpo@acme.com"
CHANGE = "Addition of Mailgun"
SUMMARY = "Mailgun will send our product emails from 1 June."


@dataclass(frozen=True)
class Authenticator:
    """What counsel's phone knows: enough to compute a code without the database."""

    username: str
    key: bytes
    step: int
    t0: int
    digits: int

    def code(self) -> str:
        value = totp(self.key, step=self.step, t0=self.t0, digits=self.digits)
        return f"{value:0{self.digits}d}"


@pytest.fixture
def counsel_phone(transactional_db: None) -> Authenticator:
    user = make_staff("counsel", COUNSEL)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return Authenticator(user.username, device.bin_key, device.step, device.t0, device.digits)


@pytest.fixture
def draft_change(transactional_db: None) -> int:
    """Acme is a customer (its DPO's address matches it); Mailgun's addition is a draft."""
    make_customer("Acme Analytics GmbH", domains=("acme.com",))
    mailgun = make_subprocessor(
        "Mailgun",
        status=SubProcessorStatus.ANNOUNCED,
        purpose="Product email delivery",
        locations="United States, Germany",
    )
    return make_change(mailgun, summary=SUMMARY).pk


def watch_csp(page: Any) -> Any:
    """The same CSP listener as the ``page`` fixture, for a second person's browser tab."""
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            page.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


@pytest.fixture
def counsel_page(page: Any, live_server: Any) -> Iterator[Any]:
    """Counsel's own browser session, next to the DPO's ``page``."""
    context = page.context.browser.new_context(base_url=live_server.url)
    yield watch_csp(context.new_page())
    context.close()


def messages_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def link_path(body: str, pattern: str) -> str:
    """The path of the one link in an email body that matches ``pattern``; emails carry
    PORTAL_BASE_URL, the browser goes to the live server."""
    urls = re.findall(rf"https?://\S*{pattern}\S*", body)
    assert len(urls) == 1, body
    assert urls[0].startswith(settings.PORTAL_BASE_URL + "/"), urls[0]
    return urlsplit(urls[0]).path


def long_date(day: date) -> str:
    """Django's "j F Y", as the public pages print dates."""
    return f"{day.day} {day:%B %Y}"


def sign_in_counsel(page: Any, phone: Authenticator) -> None:
    page.goto("/admin/")
    page.wait_for_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(phone.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/staff/2fa/verify/"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    # Computed as the phone would, at the moment of typing.
    page.get_by_label("Code").fill(phone.code())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    expect(page.locator("h1").first).to_have_text("Privacy & legal workspace")


def test_dpo_signs_up_counsel_publishes_and_the_dpo_objects_in_time(
    counsel_phone: Authenticator, draft_change: int, page: Any, counsel_page: Any
) -> None:
    dpo, counsel = page, counsel_page

    # S2: the DPO finds the Notice Form and signs up.
    dpo.goto("/sub-processors/notices/")
    expect(dpo.get_by_role("heading", name="Notice Form")).to_be_visible()
    dpo.get_by_label("Your work email address").fill("DPO@Acme.com")
    dpo.get_by_role("button", name="Sign up").click()
    dpo.wait_for_url(re.compile(r"/sub-processors/notices/sent/$"))
    expect(dpo.get_by_role("heading", name="Check your inbox")).to_be_visible()

    [confirmation] = messages_to(DPO)
    assert confirmation.subject == "Confirm your sign-up to Harmonyze sub-processor notices"
    confirm_path = link_path(confirmation.body, "/sub-processors/notices/confirm/")

    # Opening the link (as a mail scanner would) only shows the button.
    dpo.goto(confirm_path)
    expect(dpo.get_by_role("heading", name="Confirm your sign-up")).to_be_visible()
    expect(dpo.get_by_role("button", name="Confirm my sign-up")).to_be_visible()
    expect(dpo.get_by_role("main")).to_contain_text(DPO)

    # ...so counsel still sees the address pending, linked to its customer.
    sign_in_counsel(counsel, counsel_phone)
    counsel.goto("/admin/subprocessors/signup/")
    signup_row = counsel.get_by_role("row").filter(has_text=DPO)
    expect(signup_row).to_contain_text("Pending confirmation")
    expect(signup_row).to_contain_text("Acme Analytics GmbH")

    dpo.get_by_role("button", name="Confirm my sign-up").click()
    expect(dpo.get_by_role("heading", name="You are signed up")).to_be_visible()
    expect(dpo.get_by_role("main")).to_contain_text(f"{DPO} will receive every notice")

    counsel.reload()
    expect(signup_row).to_contain_text("Active")
    assert len(messages_to(DPO)) == 1  # confirming sends nothing more

    # S3: counsel publishes the draft through the admin action and its confirmation page.
    counsel.goto("/admin/subprocessors/change/")
    change_row = counsel.get_by_role("row").filter(has_text=CHANGE)
    expect(change_row).to_contain_text("Draft")
    counsel.get_by_role("checkbox", name=f"Select this object for an action - {CHANGE}").check()
    counsel.get_by_role("combobox", name=re.compile(r"^Action")).select_option(
        label="Publish and send the Notice"
    )
    counsel.get_by_role("button", name="Run").click()
    expect(
        counsel.get_by_role("heading", name=f"Publish and send the Notice: {CHANGE}")
    ).to_be_visible()
    expect(counsel.locator("#content")).to_contain_text("1 active signup")
    assert len(messages_to(DPO)) == 1  # nothing is sent before counsel confirms
    delivered_on = legal_date(timezone.now(), settings.TIME_ZONE)
    counsel.get_by_role("button", name="Publish and send to 1 signup").click()
    counsel.wait_for_url(re.compile(r"/admin/subprocessors/change/$"))
    expect(counsel.locator(".messagelist")).to_contain_text(
        f"Published {CHANGE}; the Notice is queued for 1 active signup."
    )
    # The queue runs at once here: the Notice is out, so S3's dates are set.
    expect(change_row).to_contain_text("Published")
    expect(change_row).to_contain_text("1 sent")
    notice_dates = {delivered_on, legal_date(timezone.now(), settings.TIME_ZONE)}
    assert any(day.isoformat() in change_row.inner_text() for day in notice_dates)
    assert any(
        deadlines.earliest_access(day).isoformat() in change_row.inner_text()
        for day in notice_dates
    )

    # S6: the Notice reaches the DPO with a personal objection link and one-click unsubscribe.
    [notice] = messages_to(DPO)[1:]
    assert notice.subject == f"Notice of a sub-processor change: {CHANGE}"
    assert SUMMARY in notice.body
    assert "Sub-processor: Mailgun" in notice.body
    object_path = link_path(notice.body, "/sub-processors/changes/")
    assert re.fullmatch(rf"/sub-processors/changes/{draft_change}/object/[^/]+/", object_path)
    unsubscribe_path = link_path(notice.body, "/sub-processors/notices/unsubscribe/")
    headers = notice.message()
    assert headers["List-Unsubscribe"] == f"<{settings.PORTAL_BASE_URL}{unsubscribe_path}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"].startswith(f"<notice-{draft_change}-")

    # S4: the DPO objects through the link, within the 7 days.
    dpo.goto(object_path)
    expect(dpo.get_by_role("heading", name="Object to a sub-processor change")).to_be_visible()
    expect(dpo.get_by_role("main")).to_contain_text(CHANGE)
    expect(dpo.get_by_role("main")).to_contain_text("Product email delivery")
    deadline_texts = [long_date(deadlines.objection_deadline(day)) for day in notice_dates]
    until = dpo.get_by_text("You may object until")
    expect(until).to_contain_text(re.compile("|".join(deadline_texts)))
    expect(until).to_contain_text(DPO)
    reason = "Our customers' data must stay in the EU; Mailgun would process it in the US."
    dpo.get_by_label("Why do you object to this change?").fill(reason)
    dpo.get_by_role("button", name="Send my objection").click()
    expect(dpo.get_by_role("heading", name="Your objection is recorded")).to_be_visible()
    in_time = dpo.get_by_text("In time: the deadline is")
    expect(in_time).to_contain_text(re.compile("|".join(deadline_texts)))
    expect(dpo.get_by_role("main")).to_contain_text(f"We recorded your objection to {CHANGE}")
    assert dpo.get_by_text("Out of time").count() == 0

    # The legal inbox is told at once.
    [alert] = messages_to(settings.LEGAL_INBOX_EMAIL)
    assert alert.subject == f"Objection to {CHANGE}"
    assert reason in alert.body
    admin_path = link_path(alert.body, "/admin/subprocessors/objection/")

    # Counsel finds it in the Objection changelist, open and in time, and opens it.
    counsel.goto("/admin/subprocessors/objection/")
    objection_row = counsel.get_by_role("row").filter(has_text=DPO)
    expect(objection_row).to_have_count(1)
    expect(objection_row).to_contain_text(CHANGE)
    expect(objection_row).to_contain_text("Acme Analytics GmbH")
    expect(objection_row).to_contain_text("Open")
    expect(objection_row.locator("img[alt=True]")).to_have_count(1)  # in time
    assert any(
        deadlines.objection_deadline(day).isoformat() in objection_row.inner_text()
        for day in notice_dates
    )
    objection_row.get_by_role("link").first.click()
    counsel.wait_for_url(re.compile(re.escape(admin_path) + "$"))
    expect(counsel.locator("#content")).to_contain_text(reason)

    assert dpo.csp_violations == []
    assert counsel.csp_violations == []
