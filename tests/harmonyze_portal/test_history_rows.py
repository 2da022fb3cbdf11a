"""update_with_history: the row and its history row written together, as save() records them
(H1), in one statement on PostgreSQL outside a transaction (the Notice fan-out's hot path)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from harmonyze_portal.history import acting_as
from harmonyze_portal.history_rows import update_with_history
from subprocessors.models import Delivery, DeliveryStatus, SignupStatus
from tests.subprocessors.builders import make_change, make_delivery, make_signup, make_subprocessor

FIELDS = ["status", "attempts", "last_error", "next_attempt_at"]


def _queued_delivery() -> Delivery:
    change = make_change(make_subprocessor())
    delivery = make_delivery(change, make_signup(status=SignupStatus.ACTIVE))
    delivery.status = DeliveryStatus.QUEUED
    delivery.sent_at = None
    delivery.save()
    return Delivery.objects.select_related("change__subprocessor", "signup").get(pk=delivery.pk)


def _write(delivery: Delivery, **kwargs: Any) -> None:
    delivery.status = DeliveryStatus.SENDING
    delivery.attempts = 3
    delivery.last_error = "451 try again later"
    delivery.next_attempt_at = delivery.scheduled_attempt()
    update_with_history(delivery, FIELDS, **kwargs)


def _check_written(delivery: Delivery, actor: str, reason: str) -> None:
    stored = Delivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.attempts, stored.last_error) == (
        DeliveryStatus.SENDING,
        3,
        "451 try again later",
    )
    row = delivery.history.latest()  # type: ignore[attr-defined]
    assert row.history_type == "~"
    assert (row.status, row.attempts, row.last_error) == (
        DeliveryStatus.SENDING,
        3,
        "451 try again later",
    )
    assert row.next_attempt_at == stored.next_attempt_at
    assert row.history_actor == actor
    assert row.history_change_reason == reason
    assert row.history_record == str(delivery)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_writes_row_and_history_as_save_would() -> None:
    delivery = _queued_delivery()
    before = delivery.history.count()  # type: ignore[attr-defined]
    with (
        acting_as("task: send notices", "Notice sent"),
        CaptureQueriesContext(connection) as queries,
    ):
        _write(delivery)
    assert delivery.history.count() == before + 1  # type: ignore[attr-defined]
    _check_written(delivery, "task: send notices", "Notice sent")
    if connection.vendor == "postgresql":
        # One statement, its own transaction: no BEGIN/COMMIT round trips around it.
        assert len(queries) == 1, [q["sql"] for q in queries]


@pytest.mark.django_db(transaction=True)
def test_the_staff_member_and_the_objects_own_reason_are_recorded() -> None:
    counsel = User.objects.create_user("counsel", is_staff=True)
    delivery = _queued_delivery()
    delivery._change_reason = "Queued again by staff for a retry"  # type: ignore[attr-defined]
    _write(delivery, user=counsel)
    row = delivery.history.latest()  # type: ignore[attr-defined]
    assert row.history_user_id == counsel.pk
    assert row.history_change_reason == "Queued again by staff for a retry"


@pytest.mark.django_db
def test_inside_a_transaction_it_takes_the_orm_path_with_the_same_record() -> None:
    delivery = _queued_delivery()
    with acting_as("task: send notices", "Notice sent"):
        _write(delivery)
    _check_written(delivery, "task: send notices", "Notice sent")


@pytest.mark.django_db(transaction=True)
def test_a_refused_write_leaves_neither_row_nor_history() -> None:
    delivery = _queued_delivery()
    before = delivery.history.count()  # type: ignore[attr-defined]
    # "Sent" with its next attempt still stored: the delivery's CheckConstraint refuses it.
    delivery.status = DeliveryStatus.SENT
    with pytest.raises(IntegrityError):
        update_with_history(delivery, ["status"])
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.QUEUED
    assert delivery.history.count() == before  # type: ignore[attr-defined]
