"""The public audit plan form and its confirmation link (A1, A2, T1, T3): the earliest start
shown before sending, matching by email without revealing customers, nothing half-saved on
bad input, scanner-safe confirmation, and the legal date of receipt at confirmation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audits import services
from audits.models import AuditGround, AuditRequest, AuditStatus
from customers.models import Customer
from subprocessors import tokens
from tests.audits.builders import make_audit_request
from tests.customers.builders import make_breach, make_contact, make_customer
from tests.harmonyze_portal.answers import (
    QUEUED,
    answer,
    indistinguishable,
    medians_ms,
    run_queued,
    work_before_the_answer,
)

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# 15:00 UTC is mid-morning in New York: the same legal date as the UTC date.
MARCH_2 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def acme(acme: Customer) -> Customer:
    """Acme's domain is acme.com; its outside counsel writes from another domain."""
    make_contact(acme, email="Counsel@Outside-Law.example", name="Olga Counsel", role="legal")
    return acme


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def plan_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_name": "Acme Analytics GmbH",
        "name": "Dana Privacy",
        "email": "dana@acme.com",
        "scope": "Access control and logging of the production platform",
        "proposed_start": "2026-04-15",
        "duration_days": "3",
        "auditor_firm": "Audit & Co",
        "auditor_lead": "Ada Auditor",
        "ground": AuditGround.ANNUAL,
        "evidence": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def send_plan(client: Client, ip: str = IP, **changes: Any) -> Any:
    return client.post("/audits/plan/", plan_data(**changes), REMOTE_ADDR=ip)


def confirm_link(message: Any) -> str:
    match = re.search(r"https?://\S+(/audits/plan/confirm/\S+/)", message.body)
    assert match, message.body
    assert match.group(0).startswith(django_settings.PORTAL_BASE_URL)
    return match.group(1)


def confirm_path(request: AuditRequest) -> str:
    return f"/audits/plan/confirm/{services.plan_confirm_token(request)}/"


# --- The form ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "earliest"),
    [
        # rule A2 with T3: Jan 31 + 1 month clamps to the month's last day.
        (datetime(2026, 1, 31, 15, 0, tzinfo=UTC), "28 February 2026"),
        (datetime(2024, 1, 31, 15, 0, tzinfo=UTC), "29 February 2024"),
        # 03:30 UTC on Feb 1 is still Jan 31 in New York (T1).
        (datetime(2026, 2, 1, 3, 30, tzinfo=UTC), "28 February 2026"),
    ],
)
def test_the_form_shows_the_earliest_start_for_a_plan_received_today(
    client: Client, now: datetime, earliest: str
) -> None:
    with time_machine.travel(now, tick=False):
        response = client.get("/audits/plan/")
    assert response.status_code == 200
    html = response.content.decode()
    notice = re.search(r'<p class="notice" id="earliest-start">(.*?)</p>', html, re.S)
    assert notice
    text = " ".join(notice.group(1).split())
    assert f"allows a start on or after <strong>{earliest}</strong>" in text
    assert "A2" in text


def test_the_form_is_plain_accessible_html(client: Client, acme: Customer) -> None:
    html = client.get("/audits/plan/").content.decode()
    assert "csrfmiddlewaretoken" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="date" name="proposed_start"' in html
    for name in ("customer_name", "name", "email", "scope", "duration_days", "auditor_firm"):
        assert f'<label for="id_{name}">' in html
    assert "<legend>Ground for the audit" in html
    assert "<script" not in html
    assert "style=" not in html
    # Customers are never listed publicly.
    assert "Acme" not in html
    assert "<select" not in html


def test_the_landing_page_links_to_the_form(client: Client) -> None:
    assert '<a href="/audits/plan/">Audit plans</a>' in client.get("/").content.decode()


# --- Submitting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["Dana@ACME.com", "counsel@outside-law.example"], ids=["domain", "contact"]
)
def test_a_plan_from_the_customers_domain_or_contact_awaits_confirmation(
    client: Client, acme: Customer, media: Path, django_capture_on_commit_callbacks, email: str
) -> None:
    plan = SimpleUploadedFile("our plan.pdf", PDF, content_type="application/pdf")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_plan(client, email=email, customer_name="ACME (Germany)", plan_file=plan)
    assert response.status_code == 302
    assert response["Location"] == "/audits/plan/sent/?start=2026-04-15"

    request = AuditRequest.objects.get()
    assert request.customer == acme
    assert request.customer_name_given == "ACME (Germany)"
    assert request.submitted_by_email == email.lower()
    assert request.status == AuditStatus.UNCONFIRMED
    assert request.received_on is None
    assert request.lead_time_met is None
    assert request.proposed_start == date(2026, 4, 15)
    assert request.plan_file.name.startswith("audits/plans/")
    assert request.plan_file.name.endswith(".pdf")
    assert "our plan" not in request.plan_file.name
    assert len(stored_files(media)) == 1
    history = request.history.get()
    assert history.history_change_reason == "Audit plan submitted"

    [message] = mail.outbox
    assert message.to == [email.lower()]
    assert message.subject == "Confirm your audit plan for Harmonyze"
    assert "Acme Analytics GmbH" in message.body
    token = confirm_link(message).rstrip("/").rsplit("/", 1)[1]
    with time_machine.travel(MARCH_2, tick=False):
        assert services.read_plan_confirm_token(token) == request.pk


@pytest.mark.parametrize(
    ("customer_name", "email"),
    [
        ("Initech LLC", "peter@initech.example"),
        # An address outside Acme's domains and contacts is treated as unknown: the typed
        # name never decides, so nobody can file a plan for a customer they do not belong to.
        ("Acme Analytics GmbH", "dana@gmail.example"),
    ],
    ids=["unknown-customer", "outside-the-domains"],
)
def test_an_unmatched_address_gets_the_same_answer_and_nothing_is_recorded(
    client: Client,
    acme: Customer,
    media: Path,
    django_capture_on_commit_callbacks,
    customer_name: str,
    email: str,
) -> None:
    plan = SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        known = send_plan(client, email="dana@acme.com")
        unknown = send_plan(client, email=email, customer_name=customer_name, plan_file=plan)
        known_page = client.get(known["Location"])
        unknown_page = client.get(unknown["Location"])

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert unknown_page.content == known_page.content
    assert AuditRequest.objects.get().submitted_by_email == "dana@acme.com"
    assert stored_files(media) == []
    # Only the address itself learns that we could not match it.
    neutral = mail.outbox[-1]
    assert neutral.to == [email]
    assert "could not match this address to a customer agreement" in neutral.body
    assert "/audits/plan/confirm/" not in neutral.body
    assert customer_name not in neutral.body


def test_a_contact_shared_by_two_customers_is_matched_by_the_name_given(
    client: Client, acme: Customer, django_capture_on_commit_callbacks
) -> None:
    globex = make_customer("Globex Corporation Ltd", domains=("globex.co.uk",))
    make_contact(globex, email="counsel@outside-law.example", name="Olga Counsel", role="legal")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        send_plan(
            client, email="counsel@outside-law.example", customer_name="globex corporation ltd"
        )
        send_plan(client, email="counsel@outside-law.example", customer_name="Globex")
    # The second one is ambiguous: not recorded, and answered like an unknown customer.
    assert AuditRequest.objects.get().customer == globex
    assert len(mail.outbox) == 2


def test_a_self_audit_needs_no_auditor(client: Client, acme: Customer) -> None:
    with time_machine.travel(MARCH_2, tick=False):
        response = send_plan(client, self_audit="on", auditor_firm="", auditor_lead="")
    assert response.status_code == 302
    request = AuditRequest.objects.get()
    assert request.self_audit is True
    assert request.auditor_firm == request.auditor_lead == ""


def test_a_breach_ground_is_recorded_without_a_breach_for_staff_to_link(
    client: Client, acme: Customer, media: Path, django_capture_on_commit_callbacks
) -> None:
    """Breaches are not public: the form records the ground and its evidence (A1)."""
    letter = SimpleUploadedFile("breach-letter.pdf", PDF, content_type="application/pdf")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_plan(
            client,
            ground=AuditGround.BREACH,
            evidence="Your breach notice of 31 January 2026 about the export bucket.",
            supporting_document=letter,
        )
        assert response.status_code == 302
        request = AuditRequest.objects.get()
        assert request.breach is None
        assert request.supporting_document.name.startswith("audits/evidence/")
        assert client.post(confirm_path(request)).status_code == 200

    request.refresh_from_db()
    assert request.status == AuditStatus.RECEIVED
    assert request.ground == AuditGround.BREACH
    assert request.breach is None
    # From receipt on, staff must link the breach that affected this customer before saving.
    with pytest.raises(ValidationError) as error:
        request.full_clean()
    assert "breach" in error.value.message_dict
    request.breach = make_breach(customers=(acme,))
    request.full_clean()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"proposed_start": "2026-03-01"}, "proposed_start", "The proposed start is in the past"),
        ({"proposed_start": "next spring"}, "proposed_start", "Enter the start date as a date"),
        ({"duration_days": "0"}, "duration_days", "An audit lasts 1 to 30 business days."),
        ({"duration_days": "31"}, "duration_days", "An audit lasts 1 to 30 business days."),
        ({"auditor_firm": ""}, "auditor_firm", "Name the third-party auditor"),
        ({"auditor_lead": ""}, "auditor_lead", "Name the lead auditor"),
        ({"self_audit": "on"}, "self_audit", "keep one of the two"),
        ({"email": "dana-at-acme"}, "email", "Enter a whole email address"),
        ({"customer_name": ""}, "customer_name", "Enter the name of your company."),
        ({"scope": ""}, "scope", "Describe the scope"),
        ({"ground": AuditGround.CONCERNS}, "evidence", "needs its evidence"),
        ({"ground": "because"}, "ground", "Choose one of the grounds listed."),
        (
            {"plan_file": SimpleUploadedFile("plan.pdf", b"<html>not a pdf</html>")},
            "plan_file",
            "This file is named .pdf but is not a PDF document.",
        ),
        (
            {"supporting_document": SimpleUploadedFile("evidence.docx", PDF)},
            "supporting_document",
            "Upload a PDF file (name ending in .pdf).",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_input_names_the_field_and_writes_nothing(
    client: Client,
    acme: Customer,
    media: Path,
    django_capture_on_commit_callbacks,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    good_file = SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")
    changes = {"plan_file": good_file, **changes}
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_plan(client, **changes)
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert error, html
    assert message in error.group(1)
    assert "Error: " in html  # in the title, for screen readers
    assert not AuditRequest.objects.exists()
    assert AuditRequest.history.count() == 0
    assert stored_files(media) == []
    assert mail.outbox == []


def test_a_file_over_the_size_limit_is_refused(
    client: Client, acme: Customer, settings: Any, media: Path
) -> None:
    settings.MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("plan.pdf", PDF + b"0" * (1024 * 1024), content_type="application/pdf")
    with time_machine.travel(MARCH_2, tick=False):
        response = send_plan(client, plan_file=big)
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.content.decode()
    assert not AuditRequest.objects.exists()
    assert stored_files(media) == []


def test_the_form_needs_a_csrf_token(acme: Customer) -> None:
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(MARCH_2, tick=False):
        response = send_plan(client)
    assert response.status_code == 403
    assert not AuditRequest.objects.exists()


def test_too_many_plans_get_429_write_nothing_and_send_nothing(
    client: Client, acme: Customer, settings: Any, django_capture_on_commit_callbacks
) -> None:
    settings.PUBLIC_POST_RATE = "2/h"
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_plan(client, email="one@acme.com").status_code == 302
        assert send_plan(client, email="two@acme.com").status_code == 302
        response = send_plan(client, email="three@acme.com")
        # Reading the form is never limited.
        assert client.get("/audits/plan/", REMOTE_ADDR=IP).status_code == 200
    assert response.status_code == 429
    assert "Please wait a moment" in response.content.decode()
    assert sorted(AuditRequest.objects.values_list("submitted_by_email", flat=True)) == [
        "one@acme.com",
        "two@acme.com",
    ]
    assert [message.to for message in mail.outbox] == [["one@acme.com"], ["two@acme.com"]]


@pytest.mark.parametrize(
    ("start", "verdict"),
    [
        ("2026-04-01", "is earlier than the lead time allows"),
        ("2026-04-02", "meets the lead time if you confirm today"),
    ],
)
def test_the_result_page_repeats_the_earliest_start_and_judges_the_proposed_one(
    client: Client, start: str, verdict: str
) -> None:
    """rule A2: confirmed on 2026-03-02, the earliest start is 2026-04-02."""
    with time_machine.travel(MARCH_2, tick=False):
        html = client.get(f"/audits/plan/sent/?start={start}").content.decode()
    assert "the earliest allowed start is\n<strong>2 April 2026</strong>" in html
    assert verdict in html
    assert "The legal date of receipt is the day you confirm the plan" in html


def test_the_result_page_ignores_a_bad_start(client: Client) -> None:
    response = client.get("/audits/plan/sent/?start=tomorrow")
    assert response.status_code == 200
    assert 'id="lead-time-result"' not in response.content.decode()


# --- Confirming -------------------------------------------------------------------------------


def test_opening_the_confirmation_link_changes_nothing(client: Client, acme: Customer) -> None:
    """Mail scanners open every link: only the button's POST acts."""
    request = make_audit_request(acme, received=None)
    history = AuditRequest.history.count()
    response = client.get(confirm_path(request))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post">' in html
    assert "Confirm and send the plan" in html
    assert client.head(confirm_path(request)).status_code == 200
    request.refresh_from_db()
    assert request.status == AuditStatus.UNCONFIRMED
    assert request.received_on is None
    assert AuditRequest.history.count() == history


@pytest.mark.parametrize(
    ("start", "met", "shown"),
    [
        (date(2026, 4, 14), False, "Lead time not met"),
        (date(2026, 4, 15), True, "Lead time met"),
    ],
)
def test_confirming_records_the_legal_date_of_receipt_and_the_lead_time(
    client: Client,
    acme: Customer,
    django_capture_on_commit_callbacks,
    start: date,
    met: bool,
    shown: str,
) -> None:
    """rule A2 with T1: confirmed at 03:30 UTC on March 16, still March 15 in New York, so the
    earliest compliant start is April 15: April 14 is flagged, April 15 is fine."""
    with time_machine.travel(datetime(2026, 3, 15, 14, 0, tzinfo=UTC), tick=False):
        request = make_audit_request(acme, received=None, start=start)
        path = confirm_path(request)
    confirmed_at = datetime(2026, 3, 16, 3, 30, tzinfo=UTC)
    with (
        time_machine.travel(confirmed_at, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(path, REMOTE_ADDR=IP)
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == AuditStatus.RECEIVED
    assert request.confirmed_at == confirmed_at
    assert request.received_on == date(2026, 3, 15)
    assert request.earliest_compliant_start == date(2026, 4, 15)
    assert request.lead_time_met is met
    assert request.history.first().history_change_reason == "Audit plan confirmed by email"

    html = " ".join(response.content.decode().split())
    assert "Your audit plan is received" in html
    assert '<dd id="received-on">15 March 2026 (the legal date of receipt)</dd>' in html
    assert "15 April 2026 (rule A2" in html
    assert shown in html

    # The legal inbox hears of it at once; the submitter gets nothing more.
    [alert] = mail.outbox
    assert alert.to == [django_settings.LEGAL_INBOX_EMAIL]
    assert alert.subject == "Audit plan received from Acme Analytics GmbH"
    assert "Received (legal date): 2026-03-15" in alert.body
    assert ("MISSED, earliest compliant start 2026-04-15" in alert.body) is not met


def test_the_whole_flow_from_form_to_confirmation(
    client: Client, acme: Customer, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(MARCH_2, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            send_plan(client, email="counsel@outside-law.example")
        path = confirm_link(mail.outbox[0])
        assert client.get(path).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(path)
    assert response.status_code == 200
    request = AuditRequest.objects.get()
    assert request.received_on == date(2026, 3, 2)
    assert request.lead_time_met is True
    assert [message.to for message in mail.outbox] == [
        ["counsel@outside-law.example"],
        [django_settings.LEGAL_INBOX_EMAIL],
    ]


def test_a_forged_token_gets_400(client: Client, acme: Customer) -> None:
    request = make_audit_request(acme, received=None)
    token = services.plan_confirm_token(request)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_purpose = tokens.confirm_token(request.pk, "dana@acme.com", 0)
    for bad in (forged, other_purpose, "nonsense"):
        for response in (
            client.get(f"/audits/plan/confirm/{bad}/"),
            client.post(f"/audits/plan/confirm/{bad}/"),
        ):
            assert response.status_code == 400
            assert "not valid" in response.content.decode()
    request.refresh_from_db()
    assert request.status == AuditStatus.UNCONFIRMED


def test_an_expired_token_gets_410(client: Client, acme: Customer, settings: Any) -> None:
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        request = make_audit_request(acme, received=None)
        path = confirm_path(request)
    later = start + timedelta(hours=settings.NOTICE_CONFIRM_HOURS, seconds=1)
    with time_machine.travel(later, tick=False):
        assert client.get(path).status_code == 410
        response = client.post(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    request.refresh_from_db()
    assert request.status == AuditStatus.UNCONFIRMED


def test_a_used_token_gets_410_and_confirms_nothing_twice(
    client: Client, acme: Customer, django_capture_on_commit_callbacks
) -> None:
    request = make_audit_request(acme, received=None)
    path = confirm_path(request)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path).status_code == 200
        again = client.post(path)
        assert client.get(path).status_code == 410
    assert again.status_code == 410
    assert "already confirmed" in again.content.decode()
    assert len(mail.outbox) == 1
    assert request.history.count() == 2  # created, confirmed


def test_confirming_a_stale_copy_of_a_confirmed_request_is_refused(acme: Customer) -> None:
    request = make_audit_request(acme, received=None)
    stale = AuditRequest.objects.get(pk=request.pk)
    services.plan_confirm(request=request)
    with pytest.raises(ValidationError):
        services.plan_confirm(request=stale)


def test_a_token_for_an_unknown_request_gets_404(client: Client) -> None:
    token = signing.dumps({"r": 999_999}, salt=services.CONFIRM_SALT)
    assert client.get(f"/audits/plan/confirm/{token}/").status_code == 404
    assert client.post(f"/audits/plan/confirm/{token}/").status_code == 404


def test_a_withdrawn_plan_cannot_be_confirmed(client: Client, acme: Customer) -> None:
    request = make_audit_request(acme, received=None, status=AuditStatus.WITHDRAWN)
    response = client.post(confirm_path(request))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    request.refresh_from_db()
    assert request.status == AuditStatus.WITHDRAWN


def test_the_confirmation_email_echoes_nothing_typed(
    client: Client, acme: Customer, django_capture_on_commit_callbacks
) -> None:
    """The address is not confirmed yet: no typed free text in the email (the name, the
    scope, the auditor), known customer or not."""
    name = "Win a prize at https://evil.example " + "x" * 164
    typed = {
        "name": name,
        "scope": "Call +1 555 0100 now",
        "auditor_firm": "Totally Real Bank",
        "auditor_lead": "Mallory Lead",
    }
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        send_plan(client, email="dana@acme.com", **typed)
        send_plan(client, email="dana@stranger.example", **typed)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        for text in ("evil.example", "x" * 20, "555 0100", "Totally Real Bank", "Mallory"):
            assert text not in message.body
            assert text not in message.subject


# --- Known and unknown senders are indistinguishable --------------------------------------


SENDERS = {
    "customer domain": "dana@acme.com",
    "customer contact": "counsel@outside-law.example",
    "unknown": "dana@stranger.example",
}


def test_known_and_unknown_senders_get_the_very_same_answer(
    acme: Customer, media: Path, django_capture_on_commit_callbacks
) -> None:
    """Status, every header but Date (no Vary: Cookie for the known one only), cookies and
    body, each from a fresh client; the known sender's plan is still recorded."""
    answers = {}
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        for who, email in SENDERS.items():
            plan = SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")
            answers[who] = answer(send_plan(Client(), email=email, plan_file=plan))
    assert answers["customer domain"] == answers["unknown"] == answers["customer contact"]
    assert "Vary" not in dict(answers["unknown"][1])
    assert AuditRequest.objects.count() == 2
    assert len(stored_files(media)) == 2  # the unknown sender's file was not kept
    assert len(mail.outbox) == 3


def test_the_page_is_answered_before_any_sender_dependent_work(
    acme: Customer, media: Path, settings: Any
) -> None:
    """With the production task queue: the view runs the same statements for every sender
    (it queues the work; it does not match or save), and the worker then records the known
    sender's plan and answers the unknown one."""
    settings.TASKS = QUEUED
    work = {}
    with time_machine.travel(MARCH_2, tick=False):
        for n, (who, email) in enumerate(SENDERS.items()):
            response, work[who] = work_before_the_answer(
                lambda email=email, n=n: send_plan(Client(), ip=f"198.51.100.{n}", email=email)
            )
            assert response.status_code == 302
        assert work["customer domain"] == work["unknown"] == work["customer contact"]
        assert not AuditRequest.objects.exists()
        assert run_queued() == 3
    assert sorted(AuditRequest.objects.values_list("submitted_by_email", flat=True)) == [
        "counsel@outside-law.example",
        "dana@acme.com",
    ]


def test_known_and_unknown_senders_take_the_same_time(acme: Customer, settings: Any) -> None:
    """A loose check (the statements above are the proof): median of 25 interleaved posts."""
    settings.TASKS = QUEUED
    settings.PUBLIC_POST_RATE = "100000/h"
    with time_machine.travel(MARCH_2, tick=True):
        medians = medians_ms(
            {
                who: lambda email=email: send_plan(Client(), email=email)
                for who, email in SENDERS.items()
            },
            rounds=25,
        )
    assert indistinguishable(medians), medians


# --- Plans never confirmed are purged, with their files (A2, PP 4) -------------------------


def test_an_unconfirmed_plan_is_purged_with_its_files_when_its_link_expires(
    acme: Customer, media: Path, django_capture_on_commit_callbacks, settings: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    def purge() -> str:
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("purge_unconfirmed_plans", stdout=out)
        return out.getvalue()

    files = {
        "plan_file": SimpleUploadedFile("plan.pdf", PDF),
        "supporting_document": SimpleUploadedFile("evidence.pdf", PDF),
    }
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        send_plan(Client(), **files)
        send_plan(Client(), email="other@acme.com")
    confirmed = AuditRequest.objects.get(submitted_by_email="other@acme.com")
    services.plan_confirm(request=confirmed)
    unconfirmed = AuditRequest.objects.get(submitted_by_email="dana@acme.com")
    assert len(stored_files(media)) == 2
    hours = settings.NOTICE_CONFIRM_HOURS

    with time_machine.travel(MARCH_2 + timedelta(hours=hours) - timedelta(seconds=1)):
        assert purge() == "0 unconfirmed audit plans purged.\n"
    with time_machine.travel(MARCH_2 + timedelta(hours=hours, seconds=1)):
        assert purge() == "1 unconfirmed audit plan purged.\n"

    assert list(AuditRequest.objects.all()) == [confirmed]
    assert stored_files(media) == []
    deleted = AuditRequest.history.filter(id=unconfirmed.pk).latest("history_date")
    assert deleted.history_type == "-"
    assert deleted.history_actor == services.PURGE_ACTOR
    # PP 4: no row of its history keeps who sent it, what it said, or its files.
    for row in AuditRequest.history.filter(id=unconfirmed.pk):
        assert (row.submitted_by_email, row.submitted_by_name, row.scope) == ("", "", "")
        assert (row.plan_file, row.supporting_document) == ("", "")


@pytest.mark.parametrize("field", ["plan_file", "supporting_document"])
def test_an_active_pdf_is_refused_with_a_message_and_nothing_is_kept(
    acme: Customer, media: Path, django_capture_on_commit_callbacks, field: str
) -> None:
    active = b"%PDF-1.7\n1 0 obj<</Type/Page/AA<</O<</S/J#61vaScript/JS(x)>>>>>>endobj\n%%EOF"
    upload = SimpleUploadedFile("plan.pdf", active, content_type="application/pdf")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_plan(Client(), **{field: upload})
    assert response.status_code == 400
    assert "could run when it is opened" in response.content.decode()
    assert not AuditRequest.objects.exists()
    assert stored_files(media) == []
    assert mail.outbox == []


def test_a_model_save_refuses_an_active_pdf_too(acme: Customer, media: Path) -> None:
    """The validator is the model field's: the admin and the shell meet it as the form does."""
    plan = make_audit_request(acme, received=None)
    plan.plan_file = SimpleUploadedFile("plan.pdf", b"%PDF-1.7\n<</S/Launch/F(cmd.exe)>>")
    with pytest.raises(ValidationError, match="could run when it is opened"):
        plan.full_clean()
