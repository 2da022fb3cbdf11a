"""The stored clocks of a data subject request (R3, T3, T4), the extension rules, the denial
check, the deadline filters and the customer suggestion (R1)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms import modelform_factory

from customers.models import Customer
from harmonyze_portal.models import PublicHoliday
from requests.models import DataSubjectRequest, DSRStatus, Outcome, Role
from tests.requests.builders import make_dsr

pytestmark = pytest.mark.django_db


def make_holiday(day: date, name: str) -> PublicHoliday:
    holiday = PublicHoliday(date=day, name=name)
    holiday.save()
    return holiday


# --- Stored clocks ---------------------------------------------------------------------------


def test_gdpr_clock_is_stored_on_save_and_moves_off_the_weekend() -> None:
    dsr = make_dsr(received=date(2026, 1, 31))
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 3, 2)  # Feb 28 is a Saturday (T3, T4)
    assert dsr.acknowledge_by is None  # only CCPA acknowledges
    assert dsr.extended_to is None
    assert dsr.due == date(2026, 3, 2)


def test_gdpr_clock_in_a_leap_year() -> None:
    assert make_dsr(received=date(2024, 1, 31)).respond_by == date(2024, 2, 29)


def test_a_public_holiday_row_moves_the_deadline() -> None:
    """T4: Memorial Day 2026 is a Monday; a deadline on it moves to Tuesday."""
    assert make_dsr(received=date(2026, 4, 25)).respond_by == date(2026, 5, 25)
    make_holiday(date(2026, 5, 25), "Memorial Day")
    assert make_dsr(received=date(2026, 4, 25)).respond_by == date(2026, 5, 26)


def test_ccpa_stores_the_acknowledgement_clock_with_holidays() -> None:
    make_holiday(date(2026, 3, 10), "Company holiday")
    dsr = make_dsr(regime_code="ccpa", received=date(2026, 3, 2))
    dsr.refresh_from_db()
    assert dsr.acknowledge_by == date(2026, 3, 17)  # 10 business days, one a holiday
    assert dsr.respond_by == date(2026, 4, 16)  # 45 days
    assert dsr.extended_to is None


def test_lgpd_stores_15_days() -> None:
    dsr = make_dsr(regime_code="lgpd", received=date(2026, 3, 2))
    assert (dsr.respond_by, dsr.acknowledge_by) == (date(2026, 3, 17), None)


def test_an_unverified_request_has_no_clocks() -> None:
    dsr = make_dsr(received=None)
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.UNVERIFIED
    assert (dsr.acknowledge_by, dsr.respond_by, dsr.extended_to) == (None, None, None)


def test_clocks_follow_a_corrected_receipt_date() -> None:
    dsr = make_dsr(regime_code="ccpa", received=date(2026, 3, 2))
    dsr.received_on = date(2026, 4, 16)
    dsr.save()
    dsr.refresh_from_db()
    # May 31 is a Sunday, and stays: US deadlines do not move (T4 revised).
    assert dsr.respond_by == date(2026, 5, 31)


# --- A closed request keeps the deadlines it was closed with (T4, R3) -------------------------


@pytest.fixture
def answered_around_a_closure_day() -> DataSubjectRequest:
    """GDPR, received Fri 2026-03-06: one month is Mon 2026-04-06, Easter Monday in Ireland,
    so Tue 2026-04-07; a closure day on 2026-04-07 moves it to Wed 2026-04-08. Denied and
    closed, then the closure day is removed."""
    make_holiday(date(2026, 4, 7), "Office closed")
    dsr = make_dsr(received=date(2026, 3, 6))
    assert dsr.respond_by == date(2026, 4, 8)
    dsr.status, dsr.role = DSRStatus.CLOSED, Role.CONTROLLER
    dsr.outcome, dsr.denial_reason = Outcome.DENIED, "Not a customer"
    dsr.save()
    PublicHoliday.objects.get(date=date(2026, 4, 7)).delete()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)  # closed: the recompute passes it by
    return dsr


def test_rule_t4_a_closed_request_is_not_recomputed_when_it_is_saved_again(
    answered_around_a_closure_day: DataSubjectRequest,
) -> None:
    """A later save of a closed request (a typo fixed in the reply) keeps the deadlines it was
    answered against, whatever the calendar says today."""
    dsr = answered_around_a_closure_day
    dsr.reply = "Typo fixed in the reply"
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)


def test_rule_t4_a_redirected_request_is_not_recomputed_either() -> None:
    make_holiday(date(2026, 4, 7), "Office closed")
    dsr = make_dsr(received=date(2026, 3, 6), status=DSRStatus.REDIRECTED)
    PublicHoliday.objects.get(date=date(2026, 4, 7)).delete()
    dsr.details = "Customer confirmed it answered"
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)


def test_rule_t4_a_request_reopened_is_recomputed_against_todays_calendar(
    answered_around_a_closure_day: DataSubjectRequest,
) -> None:
    """Reopened, its deadlines run again, so they follow the calendar again."""
    dsr = answered_around_a_closure_day
    dsr.status, dsr.outcome, dsr.denial_reason = DSRStatus.OPEN, "", ""
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 7)


# --- Extensions (R3) -------------------------------------------------------------------------


def test_the_extension_is_stored_only_once_the_requester_was_told() -> None:
    dsr = make_dsr(received=date(2026, 1, 31))
    assert dsr.extended_to is None
    dsr.extension_told_on = dsr.respond_by  # the last allowed day: Monday March 2
    dsr.full_clean()
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 3, 2)
    assert dsr.extended_to == date(2026, 4, 30)  # received + 3 months (T3)
    assert dsr.due == date(2026, 4, 30)


def test_ccpa_extension_adds_45_days() -> None:
    dsr = make_dsr(regime_code="ccpa", received=date(2026, 3, 2))
    dsr.extension_told_on = date(2026, 4, 1)
    dsr.full_clean()
    dsr.save()
    assert dsr.extended_to == date(2026, 5, 31)  # 90 days: a Sunday, kept (T4)


def test_an_extension_told_after_the_original_deadline_is_refused() -> None:
    dsr = make_dsr(received=date(2026, 1, 31))
    dsr.extension_told_on = date(2026, 3, 3)  # the day after the (moved) deadline
    with pytest.raises(ValidationError) as error:
        dsr.full_clean()
    assert list(error.value.message_dict) == ["extension_told_on"]
    assert "Too late to extend" in error.value.message_dict["extension_told_on"][0]
    assert "2026-03-02" in error.value.message_dict["extension_told_on"][0]


def test_an_extension_told_before_receipt_is_refused() -> None:
    dsr = make_dsr(received=date(2026, 3, 2))
    dsr.extension_told_on = date(2026, 3, 1)
    with pytest.raises(ValidationError) as error:
        dsr.full_clean()
    assert "before the request was received" in error.value.message_dict["extension_told_on"][0]


def test_a_regime_without_extension_refuses_one() -> None:
    dsr = make_dsr(regime_code="lgpd", received=date(2026, 3, 2))
    dsr.extension_told_on = date(2026, 3, 5)
    with pytest.raises(ValidationError) as error:
        dsr.full_clean()
    assert error.value.message_dict["extension_told_on"] == ["LGPD (Brazil) allows no extension."]


# --- Outcome ---------------------------------------------------------------------------------


def test_a_denial_needs_a_reason_in_the_form() -> None:
    dsr = make_dsr()
    form_class = modelform_factory(DataSubjectRequest, fields=["outcome", "denial_reason"])
    form = form_class({"outcome": Outcome.DENIED, "denial_reason": "  "}, instance=dsr)
    assert not form.is_valid()
    assert form.errors["denial_reason"] == ["Give the reason for the denial."]

    form = form_class(
        {"outcome": Outcome.DENIED, "denial_reason": "Identity not verified"}, instance=dsr
    )
    assert form.is_valid(), form.errors


def test_a_denial_without_a_reason_is_refused_by_the_database() -> None:
    dsr = make_dsr()
    dsr.outcome = Outcome.DENIED
    with pytest.raises(IntegrityError), transaction.atomic():
        dsr.save()
    dsr.refresh_from_db()
    assert dsr.outcome == ""


# --- Lists -----------------------------------------------------------------------------------


def test_overdue_and_due_between_use_the_extended_deadline_when_there_is_one() -> None:
    today = date(2026, 4, 6)
    late = make_dsr(email="late@example.org", received=date(2026, 3, 2))  # due Apr 2
    extended = make_dsr(email="extended@example.org", received=date(2026, 3, 2))
    extended.extension_told_on = date(2026, 3, 20)
    extended.save()  # due Jun 2
    this_week = make_dsr(email="soon@example.org", received=date(2026, 3, 9))  # due Apr 9
    last_day = make_dsr(email="today@example.org", received=date(2026, 3, 6))  # due Apr 6
    closed = make_dsr(email="closed@example.org", received=date(2026, 2, 2))
    closed.status = DSRStatus.CLOSED
    closed.save()
    make_dsr(email="unverified@example.org", received=None)

    assert list(DataSubjectRequest.objects.overdue(today)) == [late]
    assert set(DataSubjectRequest.objects.due_between(today, date(2026, 4, 12))) == {
        last_day,
        this_week,
    }
    assert list(DataSubjectRequest.objects.due_between(date(2026, 6, 2), date(2026, 6, 2))) == [
        extended
    ]
    # On the day after the extended deadline it is overdue too.
    assert extended in DataSubjectRequest.objects.overdue(date(2026, 6, 3))
    assert last_day not in DataSubjectRequest.objects.overdue(today)


def test_rule_r3_each_open_clock_is_one_queryset_method() -> None:
    """R3: the desk, the admin filter and the lists read these three, and nothing else."""
    ccpa = make_dsr(email="ccpa@example.org", regime_code="ccpa")
    acknowledged = make_dsr(email="ack@example.org", regime_code="ccpa")
    acknowledged.acknowledged_on = date(2026, 3, 3)
    acknowledged.save()
    plain = make_dsr(email="plain@example.org")
    extended = make_dsr(email="extended@example.org")
    extended.extension_told_on = date(2026, 3, 20)
    extended.save()
    make_dsr(email="closed@example.org", status=DSRStatus.CLOSED)
    make_dsr(email="unverified@example.org", received=None)

    requests = DataSubjectRequest.objects
    assert list(requests.acknowledgement_open()) == [ccpa]
    assert set(requests.response_open()) == {ccpa, acknowledged, plain}
    assert list(requests.extended_response_open()) == [extended]


# --- The customer suggestion (R1) ------------------------------------------------------------


def test_the_customer_is_suggested_from_the_email_domain(acme: Customer, globex: Customer) -> None:
    dsr = make_dsr(email="Jane@ACME.com", service_named="Globex")
    assert dsr.suggested_customer() == acme


def test_the_customer_is_suggested_from_the_service_named(acme: Customer, globex: Customer) -> None:
    assert make_dsr(email="jane@gmail.example", service_named=" globex ").suggested_customer() == (
        globex
    )
    assert make_dsr(email="jane@gmail.example").suggested_customer() is None
    assert make_dsr(email="jane@gmail.example", service_named="Initech").suggested_customer() is (
        None
    )
