"""The customers demo data (`manage.py seed_demo`): covers C1–C9, and a second run adds nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from customers.models import (
    DPA,
    AssistanceRequest,
    Breach,
    BreachMessage,
    BreachNotice,
    BreachRemediation,
    Contact,
    Customer,
    CustomerDomain,
    DeletionCertificate,
    Instruction,
    InstructionNotice,
    InstructionResponse,
    LegalHold,
    ProhibitedDataFinding,
)
from customers.models.accounts import CustomerStatus
from customers.models.breach_log import NO_FAULT_PHRASE
from customers.models.dpas import DPAStatus

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


CUSTOMER_MODELS = (
    Customer,
    CustomerDomain,
    Contact,
    DPA,
    Breach,
    BreachNotice,
    AssistanceRequest,
    ProhibitedDataFinding,
    DeletionCertificate,
    Instruction,
    InstructionNotice,
    InstructionResponse,
    LegalHold,
)


def customer_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CUSTOMER_MODELS}


def test_seeding_twice_adds_no_customer_data(settings) -> None:
    settings.DEBUG = True
    with time_machine.travel(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        first = seed()
        rows = customer_rows()
    # A later day must not add a second terminated customer, breach or request either.
    with time_machine.travel(datetime(2026, 3, 9, 15, 0, tzinfo=UTC), tick=False):
        second = seed()

    assert "5 customers added" in first
    assert "0 customers added" in second
    assert customer_rows() == rows
    assert Customer.history.count() == rows["Customer"] + 2  # the termination, the purge


@time_machine.travel(datetime(2026, 3, 1, 3, 0, tzinfo=UTC), tick=False)
def test_demo_customers_cover_each_rule(settings) -> None:
    """C2 one DPA in force each (and one superseded), C3 a deletion due in ten days (legal
    date: 2026-02-28 in New York), C5 one notice sent and one pending, C6 and C7 open items."""
    settings.DEBUG = True
    seed()

    customers = Customer.objects.all()
    assert customers.count() == 5
    for customer in customers:
        assert customer.dpas.filter(status=DPAStatus.IN_FORCE).count() == 1, customer
        assert customer.contacts.filter(is_notice_contact=True).count() == 1, customer
        assert customer.domains.exists(), customer
    assert DPA.objects.filter(status=DPAStatus.SUPERSEDED).count() == 1
    acme = Customer.objects.for_email("dana@acme-analytics.com").get()
    assert acme.dpas.in_force().get().supervisory_authority == "Data Protection Commission"
    globex = Customer.objects.get(legal_name="Globex Corporation Ltd")
    assert globex.dpas.in_force().get().uk_addendum is True
    initech = Customer.objects.get(legal_name="Initech AG")
    assert initech.dpas.in_force().get().swiss_fadp is True

    terminated = Customer.objects.get(status=CustomerStatus.TERMINATED)
    legal_today = date(2026, 2, 28)
    assert terminated.deletion_due == legal_today + timedelta(days=10)
    assert terminated.deletion_completed_on is None
    assert terminated.history.filter(history_change_reason__startswith="Terminated:").exists()

    notices = BreachNotice.objects.all()
    assert Breach.objects.count() == 1
    assert notices.count() == 2
    assert notices.pending().count() == 1
    assert notices.exclude(notified_at=None).get().is_late is False
    assert AssistanceRequest.objects.open().count() == 1
    assert ProhibitedDataFinding.objects.open().count() == 1
    # C8: one notice due today and unsent, one sent on time with the customer's response.
    assert Instruction.objects.count() == 1
    unsent = InstructionNotice.objects.unsent().get()
    assert unsent.due_on == legal_today
    sent = InstructionNotice.objects.exclude(sent_at=None).get()
    assert not sent.is_late
    assert InstructionResponse.objects.get().notice == sent
    # C9: the terminated customer's deletion is held, its review due in twelve days.
    hold = LegalHold.objects.active().get()
    assert hold.customer == terminated
    assert hold.review_on == legal_today + timedelta(days=12)
    assert Customer.objects.deletion_open_with_hold().get().hold_basis == hold.legal_basis
    assert {row.history_actor for row in Customer.history.all()} == {"task: seed demo data"}
    # C5 in full: a first notice and an update, both disclaiming fault, and the remediation log.
    sent = BreachMessage.objects.order_by("sent_at")
    assert [message.kind for message in sent] == ["first", "update"]
    assert all(NO_FAULT_PHRASE in message.body for message in sent)
    assert BreachRemediation.objects.count() == 3
    # C7: one finding closed as authorised by the customer's Order Form.
    assert ProhibitedDataFinding.objects.authorised().get().order_form_reference
