"""`manage.py seed_demo`: idempotent demo data and one demo user per role."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from customers.models import (
    DPA,
    AssistanceRequest,
    Breach,
    BreachNotice,
    Contact,
    Customer,
    CustomerDomain,
    DeletionCertificate,
    ProhibitedDataFinding,
)
from customers.models.accounts import CustomerStatus
from customers.models.dpas import DPAStatus
from harmonyze_portal.models import PublicHoliday

pytestmark = pytest.mark.django_db

LOGIN_LINE = re.compile(r"^\s+(counsel|analyst|viewer)\s+(\S+)\s+\((.+)\)$", re.MULTILINE)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_refuses_to_run_without_debug(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        seed()
    assert not get_user_model().objects.exists()


def test_creates_one_user_per_role_and_prints_passwords_once(settings) -> None:
    settings.DEBUG = True
    first = seed()
    logins = LOGIN_LINE.findall(first)
    assert [(name, role) for name, _, role in logins] == [
        ("counsel", "Privacy counsel"),
        ("analyst", "Privacy analyst"),
        ("viewer", "Viewer"),
    ]
    users = get_user_model().objects
    for name, password, role in logins:
        user = users.get(username=name)
        assert user.is_staff
        assert not user.is_superuser
        assert user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [role]

    second = seed()
    assert LOGIN_LINE.findall(second) == []
    assert users.count() == 3
    assert PublicHoliday.objects.count() == 3  # closure days; holidays come from the library
    assert "0 holidays added" in second


def test_reset_passwords_prints_new_working_ones(settings) -> None:
    settings.DEBUG = True
    old = {name: pw for name, pw, _ in LOGIN_LINE.findall(seed())}
    new = {name: pw for name, pw, _ in LOGIN_LINE.findall(seed("--reset-passwords"))}
    assert set(new) == {"counsel", "analyst", "viewer"}
    counsel = get_user_model().objects.get(username="counsel")
    assert new["counsel"] != old["counsel"]
    assert counsel.check_password(new["counsel"])


def test_demo_rows_name_the_seed_task_in_their_history(settings) -> None:
    settings.DEBUG = True
    seed()
    record = PublicHoliday.objects.first().history.get()
    assert record.history_actor == "task: seed demo data"
    assert record.history_change_reason == "Demo data"


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
    assert {row.history_actor for row in Customer.history.all()} == {"task: seed demo data"}
