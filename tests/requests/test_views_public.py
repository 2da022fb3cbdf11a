"""The public privacy request form and its verification link (R1–R3, T1): the same answer for
every address, nothing half-saved on bad input, scanner-safe verification, and the legal date
of receipt at submission (R3: counted "regardless of time required to verify")."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from customers.models import Customer
from requests import services
from requests.models import DataSubjectRequest, DSRStatus, Regime, Right
from tests.harmonyze_portal.answers import answer
from tests.requests.builders import make_dsr, make_submission

pytestmark = pytest.mark.django_db

IP = "198.51.100.9"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# 15:00 UTC is mid-morning in New York: the same legal date as the UTC date.
MARCH_2 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def request_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Jane Subject",
        "email": "jane@example.org",
        "right": Right.ACCESS,
        "regime": "gdpr",
        "service_named": "",
        "details": "Please send me a copy of my account data.",
        "agent_name": "",
        "agent_email": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def send_request(client: Client, ip: str = IP, **changes: Any) -> Any:
    return client.post("/privacy-requests/", request_data(**changes), REMOTE_ADDR=ip)


def verify_link(message: Any) -> str:
    match = re.search(r"https?://\S+(/privacy-requests/verify/\S+/)", message.body)
    assert match, message.body
    assert match.group(0).startswith(django_settings.PORTAL_BASE_URL)
    return match.group(1)


def verify_path(dsr: DataSubjectRequest) -> str:
    return f"/privacy-requests/verify/{services.verification_token(dsr)}/"


# --- The form ---------------------------------------------------------------------------------


def test_the_form_is_plain_accessible_html(client: Client, acme: Customer) -> None:
    response = client.get("/privacy-requests/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "csrfmiddlewaretoken" in html
    assert 'enctype="multipart/form-data"' in html
    for name in ("name", "email", "regime", "service_named", "details", "agent_proof"):
        assert f'<label for="id_{name}">' in html
    assert "<legend>What do you ask for?" in html
    # The regimes are picked by name, and none is picked for the requester (issue 15): where
    # they live decides the deadline.
    assert '<option value="" selected>Choose where you live</option>' in html
    assert '<option value="gdpr">GDPR (EU)</option>' in html
    assert " selected>GDPR" not in html
    assert '<option value="lgpd">LGPD (Brazil)</option>' in html
    assert "<script" not in html
    assert "style=" not in html
    assert "Acme" not in html  # customers are never listed


def test_the_landing_page_links_to_the_form(client: Client) -> None:
    assert '<a href="/privacy-requests/">Privacy requests</a>' in client.get("/").content.decode()


# --- Submitting -------------------------------------------------------------------------------


def test_a_request_awaits_verification_and_the_email_carries_the_link(
    client: Client, media: Path, django_capture_on_commit_callbacks
) -> None:
    proof = SimpleUploadedFile("my agent.pdf", PDF, content_type="application/pdf")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_request(
            client,
            email="Jane@Example.ORG",
            right=Right.DELETION,
            regime="ccpa",
            agent_name="Alex Agent",
            agent_email="alex@agents.example",
            agent_proof=proof,
        )
    assert response.status_code == 302
    assert response["Location"] == "/privacy-requests/sent/"

    dsr = DataSubjectRequest.objects.get()
    assert dsr.status == DSRStatus.UNVERIFIED
    assert dsr.channel == "public_form"
    assert dsr.requester_email == "jane@example.org"
    assert (dsr.right, dsr.regime.code) == (Right.DELETION, "ccpa")
    # R3: the clocks count from the day it was submitted, though it is no request until
    # confirmed: no list of open requests (nor the dashboard) shows it yet.
    assert dsr.received_on == date(2026, 3, 2)
    assert (dsr.acknowledge_by, dsr.respond_by) == (date(2026, 3, 16), date(2026, 4, 16))
    assert not DataSubjectRequest.objects.open().exists()
    assert dsr.agent_name == "Alex Agent"
    assert dsr.agent_proof.name.startswith("requests/agent-proof/")
    assert "my agent" not in dsr.agent_proof.name
    assert len(stored_files(media)) == 1
    assert dsr.history.get().history_change_reason == "Privacy request submitted"

    [message] = mail.outbox
    assert message.to == ["jane@example.org"]
    assert message.subject == "Confirm your privacy request to Harmonyze"
    token = verify_link(message).rstrip("/").rsplit("/", 1)[1]
    with time_machine.travel(MARCH_2, tick=False):
        assert services.read_verification_token(token) == (dsr.pk, "jane@example.org")


def test_every_address_gets_the_same_answer(
    client: Client, acme: Customer, django_capture_on_commit_callbacks
) -> None:
    """Known customer domain, address already used, or a stranger: one page for all."""
    make_dsr(email="old@example.org")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        responses = [
            send_request(client, email=email)
            for email in ("dana@acme.com", "old@example.org", "nobody@nowhere.example")
        ]
        pages = [client.get(response["Location"]) for response in responses]
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, "/privacy-requests/sent/")}
    assert len({page.content for page in pages}) == 1
    assert "Check your inbox" in pages[0].content.decode()
    assert [message.to for message in mail.outbox] == [
        ["dana@acme.com"],
        ["old@example.org"],
        ["nobody@nowhere.example"],
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "jane-at-example"}, "email", "Enter a whole email address"),
        ({"email": ""}, "email", "Enter your email address"),
        ({"right": None}, "right", "Choose what you ask for."),
        ({"right": "everything"}, "right", "Choose one of the requests listed."),
        ({"regime": "mars"}, "regime", "Choose one of the laws listed."),
        ({"regime": ""}, "regime", "Choose the law that applies where you live."),
        ({"name": ""}, "name", "Enter your name"),
        ({"agent_email": "alex@agents.example"}, "agent_name", "Name the authorized agent"),
        (
            {
                "agent_name": "Alex Agent",
                "agent_proof": SimpleUploadedFile("proof.pdf", b"<html>not a pdf</html>"),
            },
            "agent_proof",
            "This file is named .pdf but is not a PDF document.",
        ),
        (
            {"agent_name": "Alex Agent", "agent_proof": SimpleUploadedFile("proof.docx", PDF)},
            "agent_proof",
            "Upload a PDF file (name ending in .pdf).",
        ),
        (
            {"agent_name": "Alex Agent", "details": ""},
            "agent_proof",
            "An authorized agent acts with proof of authority",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_input_names_the_field_and_writes_nothing(
    client: Client,
    media: Path,
    django_capture_on_commit_callbacks,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_request(client, **changes)
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert error, html
    assert message in error.group(1)
    assert "Error: " in html
    assert not DataSubjectRequest.objects.exists()
    assert DataSubjectRequest.history.count() == 0
    assert stored_files(media) == []
    assert mail.outbox == []


def test_the_form_needs_a_csrf_token(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    assert send_request(client).status_code == 403
    assert not DataSubjectRequest.objects.exists()


def _token_in(page: Any) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_the_blank_form_is_rendered_once_and_then_served_without_a_query(
    client: Client, django_assert_num_queries: Any
) -> None:
    """Issue 16, P8: the empty form is the same page for everyone; it listed the regimes in
    three identical queries on every visit."""
    first = client.get("/privacy-requests/")
    with django_assert_num_queries(0):
        again = Client().get("/privacy-requests/")
    assert again.status_code == 200
    assert again.content.replace(_token_in(again).encode(), b"") == first.content.replace(
        _token_in(first).encode(), b""
    )
    assert 'value="gdpr"' in again.content.decode()


def test_each_visitor_gets_a_csrf_token_of_their_own_that_works(db: None) -> None:
    jane, john = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    jane_page, john_page = jane.get("/privacy-requests/"), john.get("/privacy-requests/")

    assert _token_in(jane_page) != _token_in(john_page)
    assert jane_page.cookies[django_settings.CSRF_COOKIE_NAME].value
    assert john_page.cookies[django_settings.CSRF_COOKIE_NAME].value
    data = {**request_data(), "csrfmiddlewaretoken": _token_in(jane_page)}
    assert jane.post("/privacy-requests/", data, REMOTE_ADDR=IP).status_code == 302
    # The page is shared, the token is not: Jane's token is no good with John's cookie.
    assert john.post("/privacy-requests/", data, REMOTE_ADDR=IP).status_code == 403


def test_a_renamed_regime_shows_on_the_form_at_once(client: Client) -> None:
    client.get("/privacy-requests/")
    gdpr = Regime.objects.get(code="gdpr")
    gdpr.name = "GDPR (European Union), as amended"
    gdpr.save()

    assert "GDPR (European Union), as amended" in client.get("/privacy-requests/").content.decode()


def test_too_many_requests_get_429_write_nothing_and_send_nothing(
    client: Client, settings: Any, django_capture_on_commit_callbacks
) -> None:
    settings.PUBLIC_POST_RATE = "2/h"
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_request(client, email="one@example.org").status_code == 302
        assert send_request(client, email="two@example.org").status_code == 302
        response = send_request(client, email="three@example.org")
        assert client.get("/privacy-requests/", REMOTE_ADDR=IP).status_code == 200
    assert response.status_code == 429
    assert "Please wait a moment" in response.content.decode()
    assert sorted(DataSubjectRequest.objects.values_list("requester_email", flat=True)) == [
        "one@example.org",
        "two@example.org",
    ]
    assert [message.to for message in mail.outbox] == [["one@example.org"], ["two@example.org"]]


# --- Verifying --------------------------------------------------------------------------------


def test_opening_the_link_changes_nothing(client: Client) -> None:
    """Mail scanners open every link: only the button's POST acts."""
    dsr = make_submission()
    history = DataSubjectRequest.history.count()
    response = client.get(verify_path(dsr))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post">' in html
    assert "Confirm my request" in html
    assert client.head(verify_path(dsr)).status_code == 200
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.UNVERIFIED
    assert dsr.received_on == date(2026, 3, 2)
    assert DataSubjectRequest.history.count() == history


def test_rule_r3_receipt_is_the_legal_date_of_submission_not_of_confirmation(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    """R3, T1: sent at 03:30 UTC on Feb 1, still Jan 31 in New York, and confirmed a day later:
    received Jan 31, so GDPR's month ends on Saturday Feb 28 and moves to Monday March 2 (T3,
    T4) — not March 2 + 1 day from the confirmation."""
    submitted_at = datetime(2026, 2, 1, 3, 30, tzinfo=UTC)
    with (
        time_machine.travel(submitted_at, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_request(client)
    path = verify_link(mail.outbox[0])
    dsr = DataSubjectRequest.objects.get()
    verified_at = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
    with time_machine.travel(verified_at, tick=False):
        response = client.post(path, REMOTE_ADDR=IP)
    assert response.status_code == 200
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN
    assert dsr.verified_email_at == verified_at
    assert dsr.received_on == date(2026, 1, 31)
    assert dsr.respond_by == date(2026, 3, 2)
    assert dsr.customer is None
    assert dsr.history.first().history_change_reason == "Email verified"

    html = " ".join(response.content.decode().split())
    assert "Your privacy request is received" in html
    assert '<dd id="received-on">31 January 2026 (the legal date of receipt)</dd>' in html
    assert '<dd id="respond-by">2 March 2026' in html


def test_verifying_suggests_the_customer_from_the_domain(client: Client, acme: Customer) -> None:
    dsr = make_submission(email="jane@acme.com")
    with time_machine.travel(MARCH_2 + timedelta(days=1), tick=False):
        response = client.post(verify_path(dsr))
    assert response.status_code == 200
    dsr.refresh_from_db()
    assert dsr.customer == acme
    assert dsr.received_on == date(2026, 3, 2)
    html = response.content.decode()
    assert 'id="redirect-note"' in html
    assert 'id="respond-by"' not in html
    assert "Acme" not in html  # the page never names a customer


def test_the_whole_flow_from_form_to_verification(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(MARCH_2, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            send_request(client, regime="ccpa")
        path = verify_link(mail.outbox[0])
        assert client.get(path).status_code == 200
        response = client.post(path)
    assert response.status_code == 200
    dsr = DataSubjectRequest.objects.get()
    assert dsr.received_on == date(2026, 3, 2)
    assert (dsr.acknowledge_by, dsr.respond_by) == (date(2026, 3, 16), date(2026, 4, 16))
    assert "16 April 2026" in response.content.decode()


def test_a_forged_token_gets_400(client: Client) -> None:
    dsr = make_dsr(received=None)
    token = services.verification_token(dsr)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_salt = signing.dumps({"d": dsr.pk, "e": dsr.requester_email}, salt="audits.plan")
    other_email = signing.dumps({"d": dsr.pk, "e": "eve@example.org"}, salt=services.VERIFY_SALT)
    for bad in (forged, other_salt, other_email, "nonsense"):
        for response in (
            client.get(f"/privacy-requests/verify/{bad}/"),
            client.post(f"/privacy-requests/verify/{bad}/"),
        ):
            assert response.status_code == 400
            assert "not valid" in response.content.decode()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.UNVERIFIED


def test_an_expired_token_gets_410(client: Client, settings: Any) -> None:
    with time_machine.travel(MARCH_2, tick=False):
        dsr = make_dsr(received=None)
        path = verify_path(dsr)
    later = MARCH_2 + timedelta(hours=settings.NOTICE_CONFIRM_HOURS, seconds=1)
    with time_machine.travel(later, tick=False):
        assert client.get(path).status_code == 410
        response = client.post(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.UNVERIFIED


def test_a_used_token_gets_410_and_verifies_nothing_twice(client: Client) -> None:
    dsr = make_submission()
    path = verify_path(dsr)
    with time_machine.travel(MARCH_2, tick=False):
        assert client.post(path).status_code == 200
    with time_machine.travel(MARCH_2 + timedelta(days=1), tick=False):
        again = client.post(path)
        assert client.get(path).status_code == 410
    assert again.status_code == 410
    assert "already confirmed" in again.content.decode()
    dsr.refresh_from_db()
    assert dsr.received_on == date(2026, 3, 2)
    assert dsr.history.count() == 2  # submitted, verified


def test_a_token_for_a_purged_request_gets_410_expired(client: Client) -> None:
    """R3: an unconfirmed request is purged when its link expires; a link that outlived it
    says it expired (it was never a request)."""
    token = signing.dumps({"d": 999_999, "e": "jane@example.org"}, salt=services.VERIFY_SALT)
    for response in (
        client.get(f"/privacy-requests/verify/{token}/"),
        client.post(f"/privacy-requests/verify/{token}/"),
    ):
        assert response.status_code == 410
        assert "expired" in response.content.decode()


def test_the_verification_email_echoes_nothing_typed(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    """It goes to an address nobody has confirmed yet: a stranger's text must not reach any
    inbox from privacy@ (a 200-character name, the details, the service named)."""
    name = "Win a prize at https://evil.example " + "x" * 164
    with django_capture_on_commit_callbacks(execute=True):
        send_request(
            client,
            email="victim@example.org",
            name=name,
            details="Call +1 555 0100 now",
            service_named="Totally Real Bank",
        )
    [message] = mail.outbox
    assert len(name) == 200
    for typed in ("evil.example", "x" * 20, "555 0100", "Totally Real Bank"):
        assert typed not in message.body
        assert typed not in message.subject


def test_known_and_unknown_senders_get_the_very_same_answer(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    """Status, every header but Date, cookies and body, each from a fresh client: a customer's
    domain, an address already used, a stranger (every submission is recorded alike)."""
    make_dsr(email="old@example.org")
    senders = ("dana@acme.com", "old@example.org", "nobody@nowhere.example")
    with time_machine.travel(MARCH_2, tick=False), django_capture_on_commit_callbacks(execute=True):
        answers = [answer(send_request(Client(), email=email)) for email in senders]
    assert answers[0] == answers[1] == answers[2]
    assert DataSubjectRequest.objects.count() == 4


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF",
        b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF",
    ],
    ids=["auto-run javascript", "pdf/html polyglot"],
)
def test_an_active_pdf_is_refused_with_a_message_and_nothing_is_kept(
    client: Client, media: Path, django_capture_on_commit_callbacks, data: bytes
) -> None:
    proof = SimpleUploadedFile("proof.pdf", data, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = send_request(client, agent_name="Alex Agent", agent_proof=proof)
    assert response.status_code == 400
    assert "could run when it is opened" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()
    assert stored_files(media) == []
    assert mail.outbox == []
