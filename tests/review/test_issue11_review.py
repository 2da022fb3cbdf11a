"""Review of issue 11: attempts to break S3/S1, R6, H1 and the T4/R1/R2/R3 guarantees on paths
the implementation's own tests do not try. Each test fails on the merged code."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from harmonyze_portal.models import PublicHoliday
from requests.models import DataSubjectRequest, DSRStatus, Outcome, Role
from subprocessors.models import (
    Change,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    SubProcessor,
    SubProcessorStatus,
)
from tests.requests.builders import make_demand, make_dsr
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

    change.notice_date = date(2026, 5, 1)
    with pytest.raises(ValidationError):
        change.save()
        sp.refresh_from_db()
        sp.status = SubProcessorStatus.ACTIVE
        sp.access_began_on = date(2026, 5, 20)
        sp.save()


# --- T4/R3: a closed request keeps the deadlines it was closed with ----------------------------


@time_machine.travel(datetime(2026, 9, 1, 15, tzinfo=UTC), tick=False)
def test_rule_t4_a_closed_request_is_not_recomputed_when_it_is_saved_again() -> None:
    """Removing a closure day recomputes *open* requests only; but any later save of a closed
    request (a note, a typo fixed) silently recomputes its stored deadlines against today's
    calendar, rewriting the dates it was answered against."""
    # GDPR: received Fri 2026-03-06, one month -> Mon 2026-04-06 is Easter Monday in Ireland
    # -> moves to Tue 2026-04-07. A closure day on 2026-04-07 moves it to Wed 2026-04-08.
    PublicHoliday(date=date(2026, 4, 7), name="Office closed").save()
    dsr = make_dsr(received=date(2026, 3, 6))
    assert dsr.respond_by == date(2026, 4, 8)
    dsr.status = DSRStatus.CLOSED
    dsr.role = Role.CONTROLLER
    dsr.outcome = Outcome.DENIED
    dsr.denial_reason = "Not a customer"
    dsr.save()

    PublicHoliday.objects.get(date=date(2026, 4, 7)).delete()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)  # closed: untouched by the recompute (holds)

    dsr.reply = "Typo fixed in the reply"
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)


# --- R2: an agent's request --------------------------------------------------------------------


def test_rule_r2_an_agent_known_by_email_only_needs_proof_before_fulfilled() -> None:
    """R2: an agent's request is not closed as fulfilled before a proof of authority is on
    file. The check keys on agent_name; an agent recorded by email alone passes."""
    dsr = make_dsr(agent_email="agent@optout.example")
    dsr.role = Role.CONTROLLER
    dsr.status = DSRStatus.CLOSED
    dsr.outcome = Outcome.FULFILLED
    dsr.verification_method = "account_email"
    dsr.verified_on = date(2026, 3, 3)
    with pytest.raises(ValidationError):
        dsr.save()


# --- H1: links between records ------------------------------------------------------------------


def test_rule_h1_removing_a_customer_from_a_demand_is_history() -> None:
    from requests.models import DemandCustomer
    from tests.customers.builders import make_customer

    acme = make_customer("Acme")
    demand = make_demand(customers=(acme,))
    before = DemandCustomer.history.count()
    demand.customers.remove(acme)
    assert DemandCustomer.history.count() == before + 1
    demand.customers.add(acme)
    demand.customers.clear()
    assert DemandCustomer.history.filter(history_type="-").count() == 2
