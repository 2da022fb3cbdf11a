"""Emails go out from the task queue, after the transaction that caused them commits."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from harmonyze_portal.mail import queue_email, send_email


def test_send_email_task_sends_and_returns_the_message_id() -> None:
    result = send_email.enqueue(
        to=["dpo@acme.example"],
        subject="Sub-processor notice",
        body="Plain text",
        html="<p>HTML</p>",
        headers={"List-Unsubscribe": "<https://portal.example/u/x/>"},
    )
    assert result.status == "SUCCESSFUL"
    [message] = mail.outbox
    assert message.to == ["dpo@acme.example"]
    assert message.extra_headers["List-Unsubscribe"] == "<https://portal.example/u/x/>"
    assert result.return_value == message.extra_headers["Message-ID"]
    assert result.return_value.endswith("@harmonyze.com>")
    assert message.alternatives[0].mimetype == "text/html"


@pytest.mark.django_db
def test_queue_email_waits_for_commit(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(to=["dpo@acme.example"], subject="s", body="b")
        assert mail.outbox == []
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_queue_email_sends_nothing_when_the_transaction_rolls_back() -> None:
    def failing_request() -> None:
        with transaction.atomic():
            queue_email(to=["dpo@acme.example"], subject="s", body="b")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert mail.outbox == []
