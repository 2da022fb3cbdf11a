"""S6 against a real SMTP server (aiosmtpd on loopback): every active signup receives each
Notice exactly once, through a mid-run SMTP failure and re-runs of the task."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import Client

from subprocessors.delivery import retry_at
from subprocessors.models import Change, Delivery, DeliveryStatus, SignupStatus, SubProcessorStatus
from subprocessors.services import change_publish
from subprocessors.tasks import ACTOR, send_change_notices
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

pytestmark = pytest.mark.django_db


class Inbox:
    """An SMTP handler that refuses chosen recipients with a temporary error (451)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Message]] = []
        self.refuse: dict[str, int] = {}  # address -> how many more times to refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.refuse.get(address, 0) > 0:
            self.refuse[address] -= 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.messages.append((rcpt, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def count(self) -> Counter[str]:
        return Counter(rcpt for rcpt, _ in self.messages)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox(settings: Any) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    # The test runner swaps every mailer for locmem at setup; overriding here, inside the
    # test, points the task at the real server.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }
    try:
        yield handler
    finally:
        controller.stop()


PUBLISHED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def published_change(django_capture_on_commit_callbacks: Any) -> Change:
    change = make_change(make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED))
    with django_capture_on_commit_callbacks(execute=True):
        change_publish(change=change)
    change.refresh_from_db()
    return change


def test_rule_s6_exactly_once_through_a_failure_and_re_runs(
    inbox: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    for email in ("alice@acme.com", "bob@globex.co.uk", "carol@example.org"):
        make_signup(email, status=SignupStatus.ACTIVE)
    make_signup("pending@example.org")  # never confirmed: gets nothing (S2)
    inbox.refuse["bob@globex.co.uk"] = 1

    with time_machine.travel(PUBLISHED, tick=False):
        change = published_change(django_capture_on_commit_callbacks)

    assert inbox.count() == {"alice@acme.com": 1, "carol@example.org": 1}
    bob = Delivery.objects.get(change=change, signup__email="bob@globex.co.uk")
    assert (bob.status, bob.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "451" in bob.last_error
    assert change.notice_date is None  # someone is still waiting for the Notice
    assert Delivery.objects.filter(change=change).count() == 3

    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        result = send_change_notices.enqueue(change_id=change.pk).return_value

    assert result == {"sent": 1, "failed": 0}
    assert inbox.count() == {"alice@acme.com": 1, "bob@globex.co.uk": 1, "carol@example.org": 1}
    bob.refresh_from_db()
    assert (bob.status, bob.attempts, bob.last_error) == (DeliveryStatus.SENT, 2, "")
    change.refresh_from_db()
    # The Notice date is the day the last signup received it (S3).
    assert (str(change.notice_date), str(change.earliest_access_on)) == (
        "2026-03-03",
        "2026-03-18",
    )

    again = send_change_notices.enqueue(change_id=change.pk).return_value

    assert again == {"sent": 0, "failed": 0}
    assert sum(inbox.count().values()) == 3
    change.refresh_from_db()
    assert str(change.notice_date) == "2026-03-03"


def test_rule_s6_every_notice_carries_one_click_unsubscribe_and_its_message_id(
    inbox: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_signup("carol@example.org", status=SignupStatus.ACTIVE)

    change = published_change(django_capture_on_commit_callbacks)

    assert len(inbox.messages) == 2
    for rcpt, message in inbox.messages:
        assert message["List-Unsubscribe"].startswith("<http")
        assert "/sub-processors/notices/unsubscribe/" in message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        delivery = Delivery.objects.get(change=change, signup__email=rcpt)
        assert message["Message-ID"] == delivery.message_id
        body = message.get_payload(decode=True).decode().replace("\r\n", "\n")
        assert body.startswith(change.notice_body)


def test_rule_s3_a_delivery_failing_for_good_holds_the_gate_until_sent_three_days_later(
    inbox: Inbox,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    counsel: Any,
    signed_in: Callable[[Any], Client],
) -> None:
    settings.NOTICE_MAX_ATTEMPTS = 2
    make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_signup("gone@example.org", status=SignupStatus.ACTIVE)
    inbox.refuse["gone@example.org"] = 99

    with time_machine.travel(PUBLISHED, tick=False):
        change = published_change(django_capture_on_commit_callbacks)
        send_change_notices.enqueue(change_id=change.pk)

    gone = Delivery.objects.get(change=change, signup__email="gone@example.org")
    assert (gone.status, gone.attempts) == (DeliveryStatus.FAILED, 2)
    assert inbox.count() == {"alice@acme.com": 1}
    change.refresh_from_db()
    # Failed for good: no Notice date, no earliest access date (S3 as revised).
    assert (change.notice_date, change.earliest_access_on) == (None, None)
    assert change.subprocessor.earliest_access_on is None
    client = signed_in(counsel)
    listed = client.get("/admin/subprocessors/delivery/?status=failed")
    assert [d.signup.email for d in listed.context["cl"].result_list] == ["gone@example.org"]

    # Three days later the address works again and the team retries: sent once, nobody else
    # gets a copy, and the Notice date is that day.
    inbox.refuse.clear()
    with (
        time_machine.travel(PUBLISHED + timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(
            "/admin/subprocessors/delivery/",
            {"action": "retry", "_selected_action": [gone.pk]},
        )
    gone.refresh_from_db()
    assert gone.status == DeliveryStatus.SENT
    assert inbox.count() == {"alice@acme.com": 1, "gone@example.org": 1}
    change.refresh_from_db()
    assert (str(change.notice_date), str(change.earliest_access_on)) == (
        "2026-03-05",
        "2026-03-20",
    )
    change.subprocessor.refresh_from_db()
    assert str(change.subprocessor.earliest_access_on) == "2026-03-20"


def test_rule_s6_the_cron_command_retries_after_the_back_off(
    inbox: Inbox, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTICE_RETRY_MINUTES = 5
    make_signup("bob@globex.co.uk", status=SignupStatus.ACTIVE)
    inbox.refuse["bob@globex.co.uk"] = 2

    with time_machine.travel(PUBLISHED, tick=False):
        change = published_change(django_capture_on_commit_callbacks)
    with time_machine.travel(PUBLISHED + timedelta(minutes=4), tick=False):
        call_command("retry_notices")
    assert Delivery.objects.get(change=change).attempts == 1  # back-off: 5 minutes
    with time_machine.travel(PUBLISHED + timedelta(minutes=5), tick=False):
        call_command("retry_notices")
    assert Delivery.objects.get(change=change).attempts == 2
    with time_machine.travel(PUBLISHED + timedelta(minutes=14), tick=False):
        call_command("retry_notices")
    assert Delivery.objects.get(change=change).attempts == 2  # back-off: 10 minutes
    with time_machine.travel(PUBLISHED + timedelta(minutes=15), tick=False):
        call_command("retry_notices")

    delivery = Delivery.objects.get(change=change)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    assert inbox.count() == {"bob@globex.co.uk": 1}


def test_h1_deliveries_are_written_by_the_notice_task(
    inbox: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    make_signup("alice@acme.com", status=SignupStatus.ACTIVE)

    change = published_change(django_capture_on_commit_callbacks)

    record = Delivery.objects.get(change=change).history.first()
    assert record.history_actor == ACTOR == "task: send notices"
    assert record.history_user is None


# --- The stored next attempt time (S6), on every path that writes a delivery.


def test_rule_s6_publishing_queues_each_delivery_due_after_retry_minutes(
    settings: Any,
) -> None:
    settings.NOTICE_RETRY_MINUTES = 5
    make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    change = make_change(make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED))

    with time_machine.travel(PUBLISHED, tick=False):
        change_publish(change=change)  # the task never runs: the cron must find it

    delivery = Delivery.objects.get(change=change)
    assert (delivery.status, delivery.next_attempt_at) == (
        DeliveryStatus.QUEUED,
        PUBLISHED + timedelta(minutes=5),
    )
    assert not Delivery.objects.due_for_attempt(PUBLISHED + timedelta(minutes=4)).exists()
    assert Delivery.objects.due_for_attempt(PUBLISHED + timedelta(minutes=5)).get() == delivery


def test_rule_s6_a_failed_attempt_stores_the_next_one_and_a_sent_delivery_has_none(
    inbox: Inbox, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTICE_RETRY_MINUTES = 5
    make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_signup("bob@globex.co.uk", status=SignupStatus.ACTIVE)
    inbox.refuse["bob@globex.co.uk"] = 2

    with time_machine.travel(PUBLISHED, tick=False):
        change = published_change(django_capture_on_commit_callbacks)
    alice = Delivery.objects.get(change=change, signup__email="alice@acme.com")
    bob = Delivery.objects.get(change=change, signup__email="bob@globex.co.uk")
    assert (alice.status, alice.next_attempt_at) == (DeliveryStatus.SENT, None)
    assert bob.next_attempt_at == PUBLISHED + timedelta(minutes=5)
    assert retry_at(change_id=change.pk) == bob.next_attempt_at
    # The history row of the attempt records the time too (H1).
    assert bob.history.first().next_attempt_at == bob.next_attempt_at

    second = PUBLISHED + timedelta(minutes=5)
    with time_machine.travel(second, tick=False):
        send_change_notices.enqueue(change_id=change.pk)
    bob.refresh_from_db()
    assert (bob.attempts, bob.next_attempt_at) == (2, second + timedelta(minutes=10))

    third = second + timedelta(minutes=10)
    with time_machine.travel(third, tick=False):
        send_change_notices.enqueue(change_id=change.pk)
    bob.refresh_from_db()
    assert (bob.status, bob.next_attempt_at) == (DeliveryStatus.SENT, None)
    assert retry_at(change_id=change.pk) is None


def test_rule_s6_a_delivery_failing_for_good_is_never_due_again(
    inbox: Inbox, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTICE_MAX_ATTEMPTS = 1
    make_signup("gone@example.org", status=SignupStatus.ACTIVE)
    inbox.refuse["gone@example.org"] = 99

    with time_machine.travel(PUBLISHED, tick=False):
        change = published_change(django_capture_on_commit_callbacks)

    gone = Delivery.objects.get(change=change)
    assert (gone.status, gone.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert not Delivery.objects.due_for_attempt(PUBLISHED + timedelta(days=30)).exists()
    call_command("retry_notices")
    assert Delivery.objects.get(change=change).attempts == 1
