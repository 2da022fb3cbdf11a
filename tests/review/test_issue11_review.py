"""Review of issue 11: attempts to break S3/S1, R6, H1 and the T4/R1/R2/R3 guarantees on paths
the implementation's own tests do not try. Each test fails on the merged code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from subprocessors.models import (
    Change,
    Delivery,
    DeliveryStatus,
    SubProcessorStatus,
)
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

pytestmark = pytest.mark.django_db


# --- S3: the 15-day gate ---------------------------------------------------------------------


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_a_withdrawn_subprocessor_is_not_reactivated_without_a_new_change() -> None:
    """A sub-processor that was withdrawn (retired) is an intended *addition* again when it
    comes back: it needs a new published Change and 15 days. The shell (and the admin form,
    which runs the same clean()) sets it active again with its old access date, no Notice."""
    sp = make_subprocessor("Postmark", access_began_on=date(2024, 3, 1))
    sp.status = SubProcessorStatus.RETIRED
    sp.retired_on = date(2025, 1, 1)
    sp.save()

    sp.status = SubProcessorStatus.ACTIVE
    sp.retired_on = None
    with pytest.raises(ValidationError):
        sp.save()


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_the_model_does_not_take_a_notice_date_while_a_failed_delivery_holds_the_gate() -> (
    None
):
    """S3 "in the model/database, not only the form": a delivery failed for good without
    counsel's waiver holds the gate, so no Notice date. From the shell, Change.save() accepts
    a typed Notice date anyway and the sub-processor then becomes active."""
    sp = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    change = make_change(sp, published_at=datetime(2026, 5, 1, 15, tzinfo=UTC))
    signup = make_signup("dpo@acme.com", status="active")
    Delivery(
        change=change, signup=signup, status=DeliveryStatus.FAILED, attempts=5, last_error="550"
    ).save()
    assert Change.objects.gate_held().filter(pk=change.pk).exists()

    change.notice_date = date(2026, 5, 1)  # typed: the earliest access date follows
    with pytest.raises(ValidationError):
        change.save()


# --- S3: the waiver is counsel's on every path ----------------------------------------------------


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_an_analyst_cannot_waive_a_failed_delivery_through_the_model(analyst: Any) -> None:
    """S3: only counsel records the decision to proceed without an address. The service checks
    the permission, the model and the database do not: a save from the shell, an import or any
    other path records an analyst's waiver, and the delivery stops holding the gate."""
    from django.utils import timezone

    sp = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    change = make_change(sp, published_at=datetime(2026, 5, 1, 15, tzinfo=UTC))
    signup = make_signup("dpo@acme.com", status="active")
    delivery = Delivery(
        change=change, signup=signup, status=DeliveryStatus.FAILED, attempts=5, last_error="550"
    )
    delivery.save()
    delivery.waived_at = timezone.now()
    delivery.waived_by = analyst
    delivery.waiver_reason = "Bounced"
    with pytest.raises(ValidationError):
        delivery.save()
