"""Delivery's stored next attempt time (S6): derived on every save, refused by the database
when it disagrees with the status, and read by one QuerySet method at the back-off's edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.db.models import Model

from subprocessors.models import Change, Delivery, DeliveryStatus, Signup, SignupStatus
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def retry_minutes(settings: Any) -> None:
    settings.NOTICE_RETRY_MINUTES = 5
    settings.NOTICE_MAX_ATTEMPTS = 5


def published() -> Change:
    return make_change(make_subprocessor("Mailgun", status="announced"), published_at=T0)


def queued(change: Change, signup: Signup, **fields: Any) -> Delivery:
    with time_machine.travel(T0, tick=False):
        delivery = Delivery(change=change, signup=signup, **fields)
        delivery.save()
    return delivery


def due(now: datetime) -> list[int]:
    return list(Delivery.objects.due_for_attempt(now).values_list("pk", flat=True))


def test_rule_s6_a_queued_delivery_is_due_retry_minutes_after_it_was_queued() -> None:
    delivery = queued(published(), make_signup("alice@acme.com", status=SignupStatus.ACTIVE))

    assert delivery.next_attempt_at == T0 + 5 * MINUTE
    assert due(T0 + 4 * MINUTE) == []  # the minute before
    assert due(T0 + 5 * MINUTE - SECOND) == []
    assert due(T0 + 5 * MINUTE) == [delivery.pk]
    assert due(T0 + 6 * MINUTE) == [delivery.pk]  # the minute after


@pytest.mark.parametrize(("attempts", "back_off"), [(1, 5), (2, 10), (3, 20), (4, 40)])
def test_rule_s6_after_n_failed_attempts_the_next_waits_retry_minutes_times_2_to_the_n_minus_1(
    attempts: int, back_off: int
) -> None:
    last = T0 + 30 * MINUTE
    delivery = queued(
        published(),
        make_signup("bob@globex.co.uk", status=SignupStatus.ACTIVE),
        attempts=attempts,
        last_attempt_at=last,
    )

    assert delivery.next_attempt_at == last + back_off * MINUTE
    assert due(last + (back_off - 1) * MINUTE) == []
    assert due(last + back_off * MINUTE - SECOND) == []
    assert due(last + back_off * MINUTE) == [delivery.pk]
    assert due(last + (back_off + 1) * MINUTE) == [delivery.pk]


def test_rule_s6_sent_failed_and_waived_deliveries_have_no_next_attempt(counsel: Any) -> None:
    change = published()
    sent = queued(change, make_signup("a@acme.com", status=SignupStatus.ACTIVE))
    failed = queued(change, make_signup("b@acme.com", status=SignupStatus.ACTIVE))
    waived = queued(change, make_signup("c@acme.com", status=SignupStatus.ACTIVE))

    sent.status, sent.sent_at, sent.objection_deadline = DeliveryStatus.SENT, T0, T0.date()
    sent.save()
    for delivery in (failed, waived):
        delivery.status, delivery.attempts, delivery.last_attempt_at = "failed", 5, T0
        delivery.save()
    waived.waived_at, waived.waived_by, waived.waiver_reason = T0, counsel, "Address gone"
    waived.save()

    for delivery in (sent, failed, waived):
        delivery.refresh_from_db()
        assert delivery.next_attempt_at is None
    assert due(T0 + timedelta(days=365)) == []


def test_rule_s6_a_typed_next_attempt_is_not_trusted_from_the_shell() -> None:
    delivery = queued(published(), make_signup("alice@acme.com", status=SignupStatus.ACTIVE))

    # Typed earlier to jump the back-off: save() takes the time from the attempts instead.
    delivery.next_attempt_at = T0 - timedelta(days=1)
    delivery.save(update_fields=["last_error"])
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + 5 * MINUTE

    delivery.status, delivery.attempts, delivery.last_attempt_at = "failed", 5, T0
    delivery.next_attempt_at = T0 + MINUTE
    delivery.save()
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None


def test_rule_s6_past_save_the_database_refuses_a_next_attempt_that_disagrees_with_the_status(
    counsel: Any,
) -> None:
    delivery = queued(published(), make_signup("alice@acme.com", status=SignupStatus.ACTIVE))

    delivery.next_attempt_at = None  # queued, but never tried again
    with pytest.raises(IntegrityError), transaction.atomic():
        Model.save(delivery)

    delivery.status, delivery.attempts = DeliveryStatus.FAILED, 5
    delivery.next_attempt_at = T0  # failed for good, yet due
    with pytest.raises(IntegrityError), transaction.atomic():
        Model.save(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("queued", T0 + 5 * MINUTE)
