"""The deliveries admin (S6): staff cannot type a delivery or its next attempt; a retry
queues it again with its back-off stored and sends as that staff member; the "due now" filter
is the cron's QuerySet method."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from subprocessors.models import Delivery, DeliveryStatus, SignupStatus
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LIST = "/admin/subprocessors/delivery/"


@pytest.fixture(autouse=True)
def retry_minutes(settings: Any) -> None:
    settings.NOTICE_RETRY_MINUTES = 5
    settings.NOTICE_MAX_ATTEMPTS = 3


def make_delivery(email: str, *, status: str, attempts: int) -> Delivery:
    change = make_change(make_subprocessor(f"Mailgun {email}", status="announced"), published_at=T0)
    delivery = Delivery(
        change=change,
        signup=make_signup(email, status=SignupStatus.ACTIVE),
        status=status,
        attempts=attempts,
        last_attempt_at=T0 if attempts else None,
        last_error="451 4.3.0 Try again later" if attempts else "",
    )
    with time_machine.travel(T0, tick=False):
        delivery.save()
    return delivery


@pytest.mark.parametrize("role", ["counsel", "analyst"])
def test_rule_s6_a_retry_queues_the_failed_delivery_with_its_back_off_and_sends_it(
    role: str,
    request: pytest.FixtureRequest,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    staff = request.getfixturevalue(role)
    gone = make_delivery("gone@example.org", status=DeliveryStatus.FAILED, attempts=3)
    assert gone.next_attempt_at is None
    client = signed_in(staff)

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(LIST, {"action": "retry", "_selected_action": [gone.pk]})

    gone.refresh_from_db()
    # Queued again: due 5 × 2² minutes after its last attempt, already past, so the cron
    # would pick it up too; the sending itself is asked for once the retry commits.
    assert (gone.status, gone.next_attempt_at) == (
        DeliveryStatus.QUEUED,
        T0 + timedelta(minutes=20),
    )
    assert gone.history.first().history_user == staff
    assert gone.history.first().history_change_reason == "Queued again by staff for a retry"
    assert len(callbacks) == 1
    callbacks[0]()
    gone.refresh_from_db()
    assert (gone.status, gone.next_attempt_at) == (DeliveryStatus.SENT, None)
    assert gone.history.first().history_user == staff  # the task's rows are theirs (H1)


def test_rule_s6_the_viewer_cannot_retry(
    viewer: Any, signed_in: Callable[[Any], Client], django_capture_on_commit_callbacks: Any
) -> None:
    gone = make_delivery("gone@example.org", status=DeliveryStatus.FAILED, attempts=3)

    with django_capture_on_commit_callbacks() as callbacks:
        response = signed_in(viewer).post(LIST, {"action": "retry", "_selected_action": [gone.pk]})

    assert response.status_code in (200, 302, 403)
    gone.refresh_from_db()
    assert (gone.status, gone.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert callbacks == []


@pytest.mark.parametrize("role", ["counsel", "analyst", "viewer"])
def test_rule_s6_nobody_adds_or_edits_a_delivery_in_the_admin(
    role: str, request: pytest.FixtureRequest, signed_in: Callable[[Any], Client]
) -> None:
    queued = make_delivery("bob@globex.co.uk", status=DeliveryStatus.QUEUED, attempts=1)
    client = signed_in(request.getfixturevalue(role))

    assert client.get(f"{LIST}add/").status_code == 403
    response = client.post(
        f"{LIST}{queued.pk}/change/",
        {"next_attempt_at_0": "2020-01-01", "next_attempt_at_1": "00:00", "status": "failed"},
    )
    assert response.status_code in (200, 403)
    queued.refresh_from_db()
    assert (queued.status, queued.next_attempt_at) == (
        DeliveryStatus.QUEUED,
        T0 + timedelta(minutes=5),
    )


def test_rule_s6_the_due_now_filter_lists_what_the_cron_would_retry(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    waiting = make_delivery("bob@globex.co.uk", status=DeliveryStatus.QUEUED, attempts=2)
    make_delivery("gone@example.org", status=DeliveryStatus.FAILED, attempts=3)
    client = signed_in(counsel)

    with time_machine.travel(T0 + timedelta(minutes=9), tick=False):
        before = client.get(LIST, {"attempt": "due"})
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        after = client.get(LIST, {"attempt": "due"})

    assert list(before.context["cl"].result_list) == []
    assert list(after.context["cl"].result_list) == [waiting]
