"""S6 under the faults of issue 13, against a real SMTP server (``tests/smtp.py``): 451s,
connections dropped mid-DATA, refused reconnects and a worker killed mid fan-out. Every
active signup receives the Notice exactly once, except the documented crash window: at most
one duplicate per delivery in flight at the kill, with the same Message-ID."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from harmonyze_portal.history import acting_as, bulk_create_with_history
from subprocessors.delivery import sending_requested
from subprocessors.models import (
    Change,
    Delivery,
    DeliveryStatus,
    Signup,
    SignupStatus,
    SubProcessorStatus,
)
from subprocessors.services import change_publish
from tests.smtp import Faults, FaultySMTP, smtp_mailers, smtp_server
from tests.subprocessors.builders import make_change, make_subprocessor

SIGNUPS = 200
ROOT = Path(__file__).resolve().parents[2]


def active_signups(count: int) -> list[Signup]:
    now = timezone.now()
    with acting_as("test setup"):
        return bulk_create_with_history(
            [
                Signup(
                    email=f"dpo{n}@customer{n}.example",
                    status=SignupStatus.ACTIVE,
                    confirmed_at=now,
                )
                for n in range(count)
            ],
            Signup,
        )


def publish(*, send: bool = True) -> Change:
    """Publish a change; ``send=False`` queues the deliveries without running the task."""
    change = make_change(make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED))
    if not send:
        sending_requested.disconnect(dispatch_uid="subprocessors-send-change-notices")
    try:
        change_publish(change=change)
    finally:
        if not send:
            from subprocessors.tasks import _enqueue_sending

            sending_requested.connect(
                _enqueue_sending, dispatch_uid="subprocessors-send-change-notices"
            )
    change.refresh_from_db()
    return change


def retry_until_settled(start: datetime, rounds: int = 10) -> int:
    """Run the cron an hour apart (past every back-off and lease) until nothing is left to
    send; returns the rounds it took. Bounded: the attempt cap ends every delivery."""
    for n in range(1, rounds + 1):
        with time_machine.travel(start + timedelta(hours=n), tick=False):
            call_command("retry_notices", stdout=io.StringIO())
        if not Delivery.objects.awaiting_attempt().exists():
            return n
    raise AssertionError(f"deliveries still waiting after {rounds} rounds")


def assert_exactly_once(server: FaultySMTP, change: Change, duplicates: int = 0) -> None:
    counts = server.count()
    extra = 0
    for delivery in Delivery.objects.filter(change=change).select_related("signup"):
        received = server.message_ids(delivery.signup.email)
        if delivery.status == DeliveryStatus.SENT:
            assert received, f"{delivery.signup} is recorded sent but received nothing"
            # A duplicate is the same message: the same Message-ID as the recorded one.
            assert set(received) == {delivery.message_id}
            extra += len(received) - 1
        else:
            assert delivery.status == DeliveryStatus.FAILED
            assert received == [], f"{delivery.signup} received a Notice recorded as failed"
    assert extra <= duplicates, f"{extra} extra messages: {counts.most_common(3)}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "faults",
    [
        # Every 7th message refused with 451, every 11th dropped mid-DATA, half the reconnects
        # after a drop refused.
        Faults(temporary_every=7, drop_every=11, refuse_after_drop=0.5),
        # The server: 451 to 15 % of messages, drops, half the reconnects refused.
        Faults(temporary_share=0.15, drop_share=0.05, refuse_after_drop=0.5, seed=13),
    ],
    ids=["every-kth", "seeded-15-percent"],
)
def test_rule_s6_exactly_once_under_451s_drops_and_refused_reconnects(
    faults: Faults, settings: Any
) -> None:
    active_signups(SIGNUPS)
    server = FaultySMTP(faults)
    with smtp_server(server) as port:
        settings.MAILERS = smtp_mailers(port)
        started = timezone.now()
        change = publish()
        retry_until_settled(started)

    # Every fault happened.
    assert server.temporary > 0
    assert server.dropped > 0
    assert server.refused > 0
    assert_exactly_once(server, change)
    deliveries = Delivery.objects.filter(change=change)
    # Every SMTP exchange is one counted attempt: none lost to a rollback (issue 13).
    attempts = sum(d.attempts for d in deliveries)
    exchanges = len(server.accepted) + server.temporary + server.dropped + server.refused
    assert attempts == exchanges
    assert all(d.attempts <= settings.NOTICE_MAX_ATTEMPTS for d in deliveries)
    assert deliveries.filter(status=DeliveryStatus.SENT).count() == len(server.accepted)


@pytest.mark.django_db(transaction=True)
def test_rule_s6_the_attempt_cap_ends_a_delivery_that_never_gets_through(settings: Any) -> None:
    active_signups(3)
    # Every message dropped mid-DATA and every reconnect after it refused: the old batch
    # transaction rolled back each attempt's count with the failed reopen, so it never ended.
    server = FaultySMTP(Faults(drop_every=1, refuse_after_drop=1.0))
    with smtp_server(server) as port:
        settings.MAILERS = smtp_mailers(port)
        started = timezone.now()
        change = publish()
        rounds = retry_until_settled(started)

    assert rounds == settings.NOTICE_MAX_ATTEMPTS - 1
    deliveries = Delivery.objects.filter(change=change)
    assert {(d.status, d.attempts) for d in deliveries} == {
        (DeliveryStatus.FAILED, settings.NOTICE_MAX_ATTEMPTS)
    }
    assert server.dropped + server.refused == 3 * settings.NOTICE_MAX_ATTEMPTS
    assert server.accepted == []


# --- A worker killed with SIGKILL mid fan-out.

SENDER = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
from django.conf import settings
from tests.smtp import smtp_mailers
settings.MAILERS = smtp_mailers(int(sys.argv[1]))
from subprocessors.tasks import send_change_notices
send_change_notices.call(change_id=int(sys.argv[2]))
"""


@contextmanager
def shared_database(tmp_path: Path) -> Iterator[str]:
    """A DATABASE_URL another process can open, holding this test's committed rows: the test
    database itself on PostgreSQL; on SQLite (in memory in tests) a file copy, copied back
    into the test database when the block ends."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
        yield f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        return
    connection.ensure_connection()
    memory = connection.connection
    path = tmp_path / "shared.sqlite3"
    with sqlite3.connect(path) as copy:
        memory.backup(copy)
    yield f"sqlite:///{path}"
    with sqlite3.connect(path) as copy:
        copy.backup(memory)


@pytest.mark.django_db(transaction=True)
def test_rule_s6_a_worker_killed_mid_fan_out_leaves_at_most_one_duplicate(
    settings: Any, tmp_path: Path
) -> None:
    active_signups(SIGNUPS)
    change = publish(send=False)
    assert Delivery.objects.filter(change=change, status=DeliveryStatus.QUEUED).count() == SIGNUPS
    kill_at = 73  # mid fan-out, and mid claim batch
    server = FaultySMTP(Faults(temporary_every=17))
    worker: list[subprocess.Popen[bytes]] = []

    def kill(accepted: int) -> None:
        # Between the server's acceptance and the worker's record of it: the crash window.
        if accepted == kill_at:
            os.kill(worker[0].pid, signal.SIGKILL)

    server.on_accepted = kill
    with smtp_server(server) as port:
        with shared_database(tmp_path) as url:
            worker.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and script
                    [sys.executable, "-c", SENDER, str(port), str(change.pk)],
                    cwd=ROOT,
                    env={**os.environ, "DATABASE_URL": url},
                )
            )
            assert worker[0].wait(timeout=60) == -signal.SIGKILL

        left = Delivery.objects.filter(change=change)
        assert left.filter(status=DeliveryStatus.SENT).count() == kill_at - 1
        # The delivery in flight stays claimed until its lease runs out: not re-sent at once.
        in_flight = left.get(status=DeliveryStatus.SENDING, signup__email=server.accepted[-1][0])
        settings.MAILERS = smtp_mailers(port)
        call_command("retry_notices", stdout=io.StringIO())
        assert len(server.accepted) == kill_at
        retry_until_settled(timezone.now())

    assert Delivery.objects.filter(change=change, status=DeliveryStatus.SENT).count() == SIGNUPS
    assert len(server.accepted) == SIGNUPS + 1
    assert_exactly_once(server, change, duplicates=1)
    [twice] = [rcpt for rcpt, n in server.count().items() if n == 2]
    assert twice == in_flight.signup.email
    in_flight.refresh_from_db()
    assert in_flight.attempts == 2  # the lost attempt is counted: the cap still ends it


@pytest.mark.django_db(transaction=True)
def test_rule_s6_a_claim_left_at_the_last_attempt_fails_for_good_and_is_not_sent_again(
    settings: Any,
) -> None:
    active_signups(2)
    change = publish(send=False)
    lost, waiting = Delivery.objects.filter(change=change).order_by("pk")
    lost.status, lost.attempts = DeliveryStatus.SENDING, settings.NOTICE_MAX_ATTEMPTS
    lost.last_attempt_at = timezone.now() - timedelta(minutes=settings.NOTICE_LEASE_MINUTES)
    lost.save()
    server = FaultySMTP()
    with smtp_server(server) as port:
        settings.MAILERS = smtp_mailers(port)
        call_command("retry_notices", stdout=io.StringIO())

    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == (DeliveryStatus.FAILED, settings.NOTICE_MAX_ATTEMPTS)
    assert "may have been sent" in lost.last_error
    assert server.count() == {waiting.signup.email: 1}


@pytest.mark.django_db(transaction=True)
def test_rule_s6_an_outcome_that_cannot_be_committed_stops_the_fan_out_before_the_next_message(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the outcome is committed by a writer thread while the next envelope is
    # exchanged; either way the next message must not be handed over before it is recorded.
    from subprocessors import delivery as delivery_module

    active_signups(5)
    change = publish(send=False)
    written = delivery_module._write_outcome
    calls: list[int] = []

    def database_gone_at_the_second(delivery: Delivery) -> None:
        calls.append(delivery.pk)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        written(delivery)

    monkeypatch.setattr(delivery_module, "_write_outcome", database_gone_at_the_second)
    server = FaultySMTP()
    with smtp_server(server) as port:
        settings.MAILERS = smtp_mailers(port)
        with pytest.raises(
            (delivery_module.OutcomeNotRecorded, ConnectionError), match="database went away"
        ):
            delivery_module.send_notices(change_id=change.pk)

    # Two accepted, the second unrecorded (the crash window); the third never handed over.
    assert len(server.accepted) == 2
    deliveries = Delivery.objects.filter(change=change).order_by("pk")
    assert [d.status for d in deliveries] == [
        DeliveryStatus.SENT,
        *[DeliveryStatus.SENDING] * 4,  # claimed: their lease brings them back, once each
    ]


@pytest.mark.django_db(transaction=True)
def test_rule_h1_every_outcome_names_the_task_and_its_reason(settings: Any) -> None:
    # The PostgreSQL writer thread does not inherit the task's context by itself.
    active_signups(4)
    server = FaultySMTP(Faults(temporary_every=3))
    with smtp_server(server) as port:
        settings.MAILERS = smtp_mailers(port)
        change = publish()

    rows = Delivery.history.filter(change_id=change.pk, history_type="~").order_by("history_id")
    written = [row for row in rows if row.status == DeliveryStatus.SENT or row.last_error]
    assert len([r for r in written if r.status == DeliveryStatus.SENT]) == 3
    assert any(r.last_error for r in written)  # the 451 is recorded too
    for row in written:
        assert row.history_actor == "task: send notices"
        assert row.history_change_reason == "Notice delivery"
