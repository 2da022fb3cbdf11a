"""Every email other than the Notice (confirmations, verifications, alerts, digests, breach
notices) is retried with back-off on a temporary SMTP error and never on a permanent one
(issue 13), against a real SMTP server that injects the faults (``tests/smtp.py``)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.tasks import default_task_backend

from customers.models import BreachNotice
from customers.tasks import send_breach_notice
from harmonyze_portal.mail import is_temporary, queue_email, retry_delay, send_email
from tests.customers.builders import make_breach, make_customer
from tests.smtp import Faults, FaultySMTP, smtp_mailers, smtp_server

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def server(settings: Any) -> Iterator[FaultySMTP]:
    handler = FaultySMTP()
    with smtp_server(handler) as port:
        settings.MAILERS = smtp_mailers(port)
        yield handler


def test_a_451_is_retried_and_the_message_arrives_once_with_its_message_id(
    server: FaultySMTP, django_capture_on_commit_callbacks: Any
) -> None:
    server.faults = Faults(temporary_first=2)
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(to=["dpo@acme.example"], subject="Confirm your address", body="Click")

    assert server.temporary == 2
    assert server.count() == {"dpo@acme.example": 1}
    [message_id] = server.message_ids("dpo@acme.example")
    assert message_id.endswith("@harmonyze.com>")


def test_a_permanent_error_is_logged_and_not_retried(
    server: FaultySMTP, caplog: pytest.LogCaptureFixture
) -> None:
    server.faults = Faults(permanent_every=1)
    with caplog.at_level(logging.ERROR, logger="harmonyze_portal.mail"):
        result = send_email.enqueue(to=["gone@example.org"], subject="Alert", body="b")

    assert result.status == "FAILED"
    assert (server.permanent, server.accepted) == (1, [])
    assert "failed for good, not retried" in caplog.text


def test_retries_are_bounded(
    server: FaultySMTP, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    server.faults = Faults(temporary_first=100)
    with django_capture_on_commit_callbacks(execute=True):
        send_email.enqueue(to=["dpo@acme.example"], subject="Digest", body="b")

    assert server.temporary == settings.MAIL_MAX_ATTEMPTS
    assert server.accepted == []


def test_where_the_backend_can_defer_the_retry_waits_out_the_back_off(
    server: FaultySMTP, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.MAIL_RETRY_SECONDS = 60
    server.faults = Faults(temporary_first=1)
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        returned = send_email.call(to=["dpo@acme.example"], subject="s", body="b", attempt=2)

    assert returned == ""
    [retry] = default_task_backend.results  # type: ignore[attr-defined]
    assert retry.task.run_after == NOW + timedelta(minutes=2)
    assert retry.kwargs["attempt"] == 3
    assert retry.kwargs["message_id"].endswith("@harmonyze.com>")


def test_rule_c5_a_breach_notice_is_retried_after_a_451_and_recorded_once(
    server: FaultySMTP, django_capture_on_commit_callbacks: Any
) -> None:
    acme = make_customer(notice_email="dpo@acme.example")
    breach = make_breach(aware_at=NOW, customers=(acme,))
    notice = BreachNotice.objects.get(breach=breach)
    server.faults = Faults(temporary_first=1)

    with django_capture_on_commit_callbacks(execute=True):
        first = send_breach_notice.call(notice_id=notice.pk, subject="Breach", body="Details")

    assert first == "retrying"
    notice.refresh_from_db()
    assert server.message_ids("dpo@acme.example") == [notice.message_id]
    assert notice.message_id == f"<breach-notice-{notice.pk}@harmonyze.com>"
    assert notice.notified_to == "dpo@acme.example"


@pytest.mark.parametrize(
    ("error", "temporary"),
    [
        (ConnectionRefusedError(), True),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPDataError(451, b"later"), True),
        (smtplib.SMTPDataError(550, b"no"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"unknown")}), False),
        (smtplib.SMTPNotSupportedError("no AUTH"), False),
        (ValueError("a bug"), False),
    ],
)
def test_temporary_means_4xx_or_a_lost_connection(error: Exception, temporary: bool) -> None:
    assert is_temporary(error) is temporary


def test_the_back_off_doubles() -> None:
    delays = [retry_delay(attempt=n, base_seconds=60) for n in (1, 2, 3, 4)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
