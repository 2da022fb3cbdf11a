"""The Notice on the wire (S4, S6; issue 16, P1): the fan-out's short path sends exactly the
bytes Django's SMTP backend would, and hands anything it cannot render identically to Django."""

from __future__ import annotations

import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any

import pytest
import time_machine
from django.core.mail import mailers

from subprocessors.models import Change, Delivery, Signup
from subprocessors.notice_mail import NoticeMail, message_id, notice_message
from tests.smtp import FaultySMTP, smtp_mailers, smtp_server

pytestmark = pytest.mark.django_db

SUBJECT = "Notice of a new sub-processor: Postmark"
BODY = "Harmonyze intends to add Postmark (email delivery, United States).\nYou have 7 days."


def notice(
    *, subject: str = SUBJECT, body: str = BODY, email: str = "dpo@acme.example"
) -> tuple[Change, Delivery]:
    change = Change(pk=41, notice_subject=subject, notice_body=body)
    signup = Signup(pk=7, email=email)
    return change, Delivery(change=change, signup=signup)


def django_bytes(delivery: Delivery, change: Change) -> bytes:
    """What ``django.core.mail.backends.smtp.EmailBackend._send`` writes for the message."""
    return notice_message(delivery, change).message(policy=email.policy.SMTP).as_bytes()


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 12, 1, 14, 39, 5, tzinfo=UTC), tick=False):
        yield


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (SUBJECT, BODY),
        # RFC 2047 subject, an 8bit body: both rendered by the email package as Django does.
        ("Avis : nouveau sous-traitant Société Générale — Zürich", "Coût : 10 €\nÇa commence."),
        ("A subject long enough to fold at seventy-eight characters " * 3, "x" * 998),
        (SUBJECT, "Lines\r\nwith CRLF\rand CR\n\nand a blank one\n"),
        (SUBJECT, ".A line starting with a dot\nFrom the start of a line\n"),
    ],
    ids=["ascii", "non-ascii", "long-subject-998-body-line", "line-endings", "dot-and-from"],
)
@pytest.mark.parametrize("localtime", [False, True], ids=["utc", "localtime"])
def test_the_short_path_writes_djangos_bytes(
    subject: str, body: str, localtime: bool, settings: Any
) -> None:
    settings.EMAIL_USE_LOCALTIME = localtime
    change, delivery = notice(subject=subject, body=body)
    wire = NoticeMail(change).wire_bytes(delivery)
    assert wire is not None
    assert wire == django_bytes(delivery, change)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"email": "dpo@bücher.example"}, "an IDN domain Django encodes with IDNA"),
        ({"email": '"dpo office"@acme.example'}, "a quoted local part"),
        ({"body": "x" * 999}, "a 999-character line the email package re-encodes"),
    ],
)
def test_what_the_short_path_cannot_render_identically_goes_to_django(
    fields: dict[str, str], why: str
) -> None:
    change, delivery = notice(**fields)
    assert NoticeMail(change).wire_bytes(delivery) is None, why


@pytest.fixture
def server(settings: Any) -> Iterator[FaultySMTP]:
    handler = FaultySMTP()
    with smtp_server(handler) as port:
        settings.MAILERS = smtp_mailers(port)
        yield handler
    mailers.default.close()


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("fields", "path", "recipient"),
    [
        ({}, "short", "dpo@acme.example"),
        ({"body": "Coût : 10 €\n.leading dot"}, "short", "dpo@acme.example"),
        ({"email": "dpo@bücher.example"}, "django", "dpo@xn--bcher-kva.example"),
        ({"body": "y" * 1200}, "django", "dpo@acme.example"),
    ],
)
def test_the_server_receives_djangos_message_on_either_path(
    server: FaultySMTP, fields: dict[str, str], path: str, recipient: str
) -> None:
    change, delivery = notice(**fields)
    mail = NoticeMail(change)
    assert (mail.wire_bytes(delivery) is not None) == (path == "short")

    sent_id = mail.send(delivery, mailers.default)

    assert sent_id == message_id(change, 7) == "<notice-41-7@harmonyze.com>"
    (received,) = server.contents
    parsed = message_from_bytes(received, policy=email.policy.default)
    expected = message_from_bytes(django_bytes(delivery, change), policy=email.policy.default)
    assert parsed["Message-ID"] == sent_id
    assert parsed.get_content() == expected.get_content()
    assert list(parsed.items()) == list(expected.items())
    assert server.accepted == [(recipient, sent_id)]


@pytest.mark.usefixtures("frozen")
def test_a_subject_the_email_package_refuses_fails_each_attempt_not_the_fan_out(
    server: FaultySMTP,
) -> None:
    # Never produced by publishing (the subject is one line), but a stored row could hold it:
    # each delivery's attempt fails with the reason (S6 records it), nothing is sent.
    change, delivery = notice(subject="Line one\nBcc: everyone@example.com")
    mail = NoticeMail(change)
    assert mail.wire_bytes(delivery) is None
    with pytest.raises(ValueError, match=r"linefeed|newline|carriage"):
        mail.send(delivery, mailers.default)
    assert server.contents == []
