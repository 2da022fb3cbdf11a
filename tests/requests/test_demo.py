"""The requests demo data (`manage.py seed_demo`): covers R1–R4, and a second run adds nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from requests.models import DataSubjectRequest, LawEnforcementDemand, Role

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_covers_each_request_and_demand_rule(settings) -> None:
    settings.DEBUG = True
    # 10:00 in New York: the legal date is 2026-03-02 (T1).
    with time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), tick=False):
        first = seed()
    with time_machine.travel(datetime(2026, 3, 9, 15, 0, tzinfo=UTC), tick=False):
        second = seed()

    assert "6 privacy requests and demands added" in first
    assert "0 privacy requests and demands added" in second
    processor = DataSubjectRequest.objects.get(requester_email="m.schneider@acme-analytics.com")
    assert processor.role == Role.UNDECIDED
    assert processor.suggested_customer() == processor.customer
    assert processor.customer is not None
    assert processor.customer.legal_name == "Acme Analytics GmbH"
    # Acme's DPA includes the SCCs: the customer notice is a deadline (R1).
    assert processor.customer_notice_due == date(2026, 3, 4)
    fadp = DataSubjectRequest.objects.get(requester_email="luca.meier@example.ch")
    assert (fadp.regime.code, fadp.received_on, fadp.respond_by) == (
        "fadp",
        date(2026, 2, 20),
        date(2026, 3, 23),  # 30 days is Sunday March 22 (T4)
    )
    gdpr = DataSubjectRequest.objects.get(requester_email="lena.fischer@example.de")
    assert (gdpr.received_on, gdpr.respond_by) == (date(2026, 2, 6), date(2026, 3, 6))
    ccpa = DataSubjectRequest.objects.get(requester_email="jordan.lee@example.com")
    assert ccpa.acknowledge_by is not None
    assert ccpa.acknowledged_on is None
    assert ccpa.acknowledge_by >= date(2026, 3, 2)
    for demand in LawEnforcementDemand.objects.all():
        demand.full_clean()
        assert demand.customers.exists()
    due = (
        LawEnforcementDemand.objects.customer_notice_open()
        .filter(customer_notice_due_on__lte=date(2026, 3, 2))
        .get()
    )
    assert due.nondisclosure_order_ends == date(2026, 2, 23)
    assert due.customer_notice_due_on == date(2026, 2, 24)  # the day after its last binding day
    assert {d.outcome for d in LawEnforcementDemand.objects.all()} == {
        "nothing disclosed",
        "some disclosed",
    }
