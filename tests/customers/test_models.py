"""The customers area's models: stored clocks (C3–C6), database constraints, clean() messages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import (
    DPA,
    AssistanceRequest,
    BreachNotice,
    Customer,
    CustomerDomain,
    ProhibitedDataFinding,
)
from customers.models.accounts import CustomerStatus
from customers.models.assistance import AssistanceKind, AssistanceStatus
from customers.models.dpas import DPAStatus
from tests.customers.builders import (
    make_assistance,
    make_breach,
    make_contact,
    make_customer,
    make_domain,
    make_dpa,
    make_finding,
    make_notice,
)

pytestmark = pytest.mark.django_db

AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)


# --- Customer: the termination date drives status and the C3/C4 clocks.


def test_rule_c3_c4_saving_a_termination_date_terminates_and_starts_the_clocks(
    acme: Customer,
) -> None:
    acme.termination_date = date(2026, 1, 31)
    acme.save()

    acme.refresh_from_db()
    assert acme.status == CustomerStatus.TERMINATED
    assert acme.deletion_due == date(2026, 5, 1)
    assert acme.credential_purge_due == date(2026, 3, 2)


def test_rule_c3_c4_clocks_from_feb_29(acme: Customer) -> None:
    acme.termination_date = date(2024, 2, 29)
    acme.save()

    assert acme.deletion_due == date(2024, 5, 29)
    assert acme.credential_purge_due == date(2024, 3, 30)


def test_rule_c4_an_earlier_deletion_request_is_stored_as_the_purge_date(acme: Customer) -> None:
    acme.termination_date = date(2026, 1, 31)
    acme.earlier_deletion_requested_on = date(2026, 2, 9)
    acme.save()

    assert Customer.objects.get(pk=acme.pk).credential_purge_due == date(2026, 2, 9)


def test_clearing_the_termination_date_reopens_and_history_keeps_both_states(
    acme: Customer,
) -> None:
    acme.termination_date = date(2026, 1, 31)
    acme.save()
    acme.termination_date = None
    acme.save()

    acme.refresh_from_db()
    assert acme.status == CustomerStatus.ACTIVE
    assert acme.deletion_due is None
    assert acme.credential_purge_due is None
    states = [
        (row.status, row.termination_date, row.deletion_due)
        for row in acme.history.order_by("history_date", "history_id")
    ]
    assert states == [
        (CustomerStatus.ACTIVE, None, None),
        (CustomerStatus.TERMINATED, date(2026, 1, 31), date(2026, 5, 1)),
        (CustomerStatus.ACTIVE, None, None),
    ]


def test_the_last_day_of_the_agreement_may_be_its_first(acme: Customer) -> None:
    """The termination date on the effective date itself is allowed (the last allowed day)."""
    acme.termination_date = acme.agreement_effective_on
    acme.terminated_by = "customer"
    acme.full_clean()
    acme.save()

    assert acme.status == CustomerStatus.TERMINATED


# --- The database holds the invariants even when clean() is bypassed.


def test_database_refuses_a_termination_before_the_effective_date(acme: Customer) -> None:
    acme.termination_date = date(2023, 12, 31)
    with pytest.raises(IntegrityError), transaction.atomic():
        acme.save()

    assert Customer.objects.get(pk=acme.pk).termination_date is None


def test_rule_c2_database_refuses_a_second_dpa_in_force(acme: Customer) -> None:
    make_dpa(acme, version="2024-03")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_dpa(acme, version="2025-09")

    assert DPA.objects.filter(customer=acme).count() == 1


def test_rule_c2_superseded_dpas_stay_on_record_beside_the_one_in_force(
    acme: Customer, globex: Customer
) -> None:
    make_dpa(acme, version="2023-01", status=DPAStatus.SUPERSEDED)
    make_dpa(acme, version="2023-06", status=DPAStatus.SUPERSEDED)
    current = make_dpa(acme, version="2024-03")
    make_dpa(globex, version="2024-03")

    assert list(DPA.objects.in_force().filter(customer=acme)) == [current]
    assert DPA.objects.filter(customer=acme).count() == 3


def test_database_refuses_a_second_notice_contact(acme: Customer) -> None:
    make_contact(acme, email="legal@acme.com", is_notice_contact=False)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_contact(acme, email="ciso@acme.com", is_notice_contact=True)

    assert acme.notice_contact is not None
    assert acme.notice_contact.email == "privacy@acme.com"


@pytest.mark.parametrize("duplicate", ["acme.com", "ACME.com", "Acme.Com"])
def test_database_refuses_a_domain_twice_whatever_its_case(
    acme: Customer, globex: Customer, duplicate: str
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_domain(globex, duplicate)

    assert not CustomerDomain.objects.filter(customer=globex, domain__iexact="acme.com").exists()


def test_rule_c6_database_refuses_an_oral_request_for_subprocessor_agreements(
    acme: Customer,
) -> None:
    """DPA 5.3: copies of sub-processor agreements on written request only."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make_assistance(acme, kind=AssistanceKind.SUBPROCESSOR_AGREEMENTS, in_writing=False)

    make_assistance(acme, kind=AssistanceKind.DPIA, in_writing=False)
    make_assistance(acme, kind=AssistanceKind.SUBPROCESSOR_AGREEMENTS, in_writing=True)
    assert AssistanceRequest.objects.count() == 2


# --- full_clean() names the field at fault.


def test_full_clean_names_termination_date_when_it_precedes_the_agreement(
    acme: Customer,
) -> None:
    acme.termination_date = date(2023, 12, 31)
    acme.terminated_by = "customer"

    with pytest.raises(ValidationError) as caught:
        acme.full_clean()

    assert "termination_date" in caught.value.message_dict
    assert "2024-01-01" in caught.value.message_dict["termination_date"][0]


def test_full_clean_accepts_a_valid_termination_before_save(acme: Customer) -> None:
    """The derived status and clocks must not trip the status constraint during validation."""
    acme.termination_date = date(2026, 1, 31)
    acme.terminated_by = "customer"

    acme.full_clean()


def test_rule_c2_full_clean_refuses_a_dpa_effective_before_the_agreement(acme: Customer) -> None:
    dpa = DPA(
        customer=acme,
        version="2024-03",
        signed_on=date(2023, 12, 1),
        effective_on=date(2023, 12, 31),
    )

    with pytest.raises(ValidationError) as caught:
        dpa.full_clean()

    assert list(caught.value.message_dict) == ["effective_on"]
    assert "2024-01-01" in caught.value.message_dict["effective_on"][0]


def test_rule_c2_a_dpa_effective_on_the_agreement_date_is_allowed(acme: Customer) -> None:
    DPA(
        customer=acme, version="2024-03", signed_on=date(2024, 1, 1), effective_on=date(2024, 1, 1)
    ).full_clean()


def test_rule_c2_full_clean_wants_at_least_one_transfer_term(acme: Customer) -> None:
    dpa = DPA(
        customer=acme,
        version="2024-03",
        signed_on=date(2024, 1, 1),
        effective_on=date(2024, 1, 1),
        eu_sccs_module_two=False,
        uk_addendum=False,
        swiss_fadp=False,
    )

    with pytest.raises(ValidationError) as caught:
        dpa.full_clean()

    assert "eu_sccs_module_two" in caught.value.message_dict
    assert "transfer mechanism" in caught.value.message_dict["eu_sccs_module_two"][0]


@pytest.mark.parametrize(
    "bad", ["https://acme.com", "acme", "jane@acme.com", "acme .com", "acme.com/dpa"]
)
def test_full_clean_refuses_what_is_not_an_email_domain(acme: Customer, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CustomerDomain(customer=acme, domain=bad).full_clean()

    assert "domain" in caught.value.message_dict


def test_full_clean_tidies_a_domain_written_with_at_and_capitals(acme: Customer) -> None:
    domain = CustomerDomain(customer=acme, domain=" @Acme-Labs.COM ")
    domain.full_clean()

    assert domain.domain == "acme-labs.com"


def test_full_clean_reports_a_domain_already_taken_by_another_customer(
    acme: Customer, globex: Customer
) -> None:
    with pytest.raises(ValidationError, match="already belongs to a customer"):
        CustomerDomain(customer=globex, domain="ACME.com").full_clean()


# --- C5: breach notices.


def test_rule_c5_a_notice_is_due_seventy_two_hours_after_awareness(acme: Customer) -> None:
    breach = make_breach(aware_at=AWARE)

    notice = make_notice(breach, acme)

    notice.refresh_from_db()
    assert notice.notice_due_at == datetime(2026, 2, 3, 15, 0, tzinfo=UTC)


def test_rule_c5_the_target_hours_come_from_settings(acme: Customer, settings) -> None:
    settings.BREACH_NOTICE_TARGET_HOURS = 24
    notice = make_notice(make_breach(aware_at=AWARE), acme)

    assert notice.notice_due_at == AWARE + timedelta(hours=24)


def test_rule_c5_correcting_awareness_moves_every_target(acme: Customer, globex: Customer) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme, globex))

    breach.aware_at = AWARE - timedelta(hours=10)
    breach.save()

    due = {n.customer_id: n.notice_due_at for n in BreachNotice.objects.filter(breach=breach)}
    assert due == {
        acme.pk: datetime(2026, 2, 3, 5, 0, tzinfo=UTC),
        globex.pk: datetime(2026, 2, 3, 5, 0, tzinfo=UTC),
    }
    notice = BreachNotice.objects.get(breach=breach, customer=acme)
    assert notice.history.count() == 2


def test_rule_c5_saving_a_breach_unchanged_writes_no_notice_history(acme: Customer) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    breach.title = "Misconfigured export bucket (contained)"
    breach.save()

    assert BreachNotice.objects.get(breach=breach).history.count() == 1


def test_rule_c5_a_notice_one_minute_inside_the_target_is_on_time(acme: Customer) -> None:
    notice = make_notice(
        make_breach(aware_at=AWARE), acme, notified_at=AWARE + timedelta(hours=71, minutes=59)
    )

    assert notice.is_late is False
    assert not BreachNotice.objects.late().exists()


def test_rule_c5_a_notice_exactly_at_the_target_is_on_time(acme: Customer) -> None:
    notice = make_notice(make_breach(aware_at=AWARE), acme, notified_at=AWARE + timedelta(hours=72))

    assert notice.is_late is False


def test_rule_c5_a_notice_one_minute_past_the_target_is_late(acme: Customer) -> None:
    notice = make_notice(
        make_breach(aware_at=AWARE), acme, notified_at=AWARE + timedelta(hours=72, minutes=1)
    )

    assert notice.is_late is True
    assert list(BreachNotice.objects.late()) == [notice]


def test_rule_c5_hours_left_for_a_pending_notice(acme: Customer) -> None:
    notice = make_notice(make_breach(aware_at=AWARE), acme)

    assert notice.is_late is False
    assert notice.hours_left(AWARE + timedelta(hours=70)) == pytest.approx(2.0)
    assert notice.hours_left(AWARE + timedelta(hours=73, minutes=30)) == pytest.approx(-1.5)
    assert list(BreachNotice.objects.pending()) == [notice]


def test_rule_c5_hours_left_is_none_once_notified(acme: Customer) -> None:
    notice = make_notice(make_breach(aware_at=AWARE), acme, notified_at=AWARE + timedelta(hours=1))

    assert notice.hours_left(AWARE + timedelta(hours=2)) is None
    assert not BreachNotice.objects.pending().exists()


def test_database_refuses_the_same_customer_twice_on_a_breach(acme: Customer) -> None:
    breach = make_breach(customers=(acme,))

    with pytest.raises(IntegrityError), transaction.atomic():
        make_notice(breach, acme)


# --- C6: assistance requests.


def test_rule_c6_an_assistance_request_is_due_thirty_days_after_receipt(acme: Customer) -> None:
    request = make_assistance(acme, received=date(2026, 1, 31))

    request.refresh_from_db()
    assert request.due_on == date(2026, 3, 2)


def test_rule_c6_the_assistance_target_comes_from_settings(acme: Customer, settings) -> None:
    settings.ASSISTANCE_TARGET_DAYS = 10

    assert make_assistance(acme, received=date(2024, 2, 29)).due_on == date(2024, 3, 10)


def test_rule_c6_open_and_overdue_assistance(acme: Customer) -> None:
    due_yesterday = make_assistance(acme, received=date(2026, 1, 1))  # due 2026-01-31
    due_today = make_assistance(acme, received=date(2026, 1, 2))  # due 2026-02-01
    done = make_assistance(
        acme,
        received=date(2025, 12, 1),
        status=AssistanceStatus.DONE,
        completed_on=date(2025, 12, 5),
    )

    today = date(2026, 2, 1)
    assert list(AssistanceRequest.objects.overdue(today)) == [due_yesterday]
    assert set(AssistanceRequest.objects.open()) == {due_yesterday, due_today}
    assert done not in AssistanceRequest.objects.open()


# --- Queryset helpers.


def make_terminated(name: str, termination: date, **fields: object) -> Customer:
    return make_customer(name, effective=date(2020, 1, 1), termination_date=termination, **fields)


def test_rule_c3_deletion_overdue_starts_the_day_after_the_due_date(db: None) -> None:
    due_yesterday = make_terminated("Due Yesterday Ltd", date(2026, 1, 30))  # due 2026-04-30
    make_terminated("Due Today Ltd", date(2026, 1, 31))  # due 2026-05-01
    make_terminated(
        "Deleted Ltd", date(2026, 1, 1), deletion_completed_on=date(2026, 3, 1)
    )  # due 2026-04-01, done
    make_customer("Still Active Ltd")

    assert list(Customer.objects.deletion_overdue(date(2026, 5, 1))) == [due_yesterday]
    assert due_yesterday.deletion_overdue(date(2026, 5, 1)) is True
    assert Customer.objects.get(legal_name="Due Today Ltd").deletion_overdue(date(2026, 5, 1)) is (
        False
    )


def test_rule_c3_deletion_due_between_includes_both_ends(db: None) -> None:
    first = make_terminated("First Day Ltd", date(2026, 1, 31))  # due 2026-05-01
    last = make_terminated("Last Day Ltd", date(2026, 3, 2))  # due 2026-05-31
    make_terminated("Next Month Ltd", date(2026, 3, 3))  # due 2026-06-01
    make_terminated("Last Month Ltd", date(2026, 1, 30))  # due 2026-04-30
    make_terminated(
        "Already Deleted Ltd", date(2026, 2, 10), deletion_completed_on=date(2026, 2, 20)
    )

    due = Customer.objects.deletion_due_between(date(2026, 5, 1), date(2026, 5, 31))

    assert list(due) == [first, last]


def test_rule_c4_purge_overdue(db: None) -> None:
    overdue = make_terminated("Purge Overdue Ltd", date(2026, 1, 31))  # purge due 2026-03-02
    make_terminated("Purged Ltd", date(2026, 1, 31), credential_purge_completed_on=date(2026, 2, 2))

    assert list(Customer.objects.purge_overdue(date(2026, 3, 2))) == []
    assert list(Customer.objects.purge_overdue(date(2026, 3, 3))) == [overdue]


def test_rules_c3_c4_open_until_done_whatever_the_date(db: None) -> None:
    """C3, C4: the open sets the dashboard counts; overdue and due-between narrow them."""
    neither = make_terminated("Nothing Done Ltd", date(2026, 1, 31))
    deleted = make_terminated(
        "Deleted Ltd", date(2026, 1, 31), deletion_completed_on=date(2026, 2, 2)
    )
    purged = make_terminated(
        "Purged Ltd", date(2026, 1, 31), credential_purge_completed_on=date(2026, 2, 2)
    )
    make_customer("Still Active Ltd")

    assert set(Customer.objects.deletion_open()) == {neither, purged}
    assert set(Customer.objects.purge_open()) == {neither, deleted}


@pytest.mark.parametrize(
    "email", ["jane@acme.com", "Jane.Doe@ACME.COM", " jane@acme.com ", "jane@Acme.com"]
)
def test_for_email_finds_the_customer_by_domain(
    acme: Customer, globex: Customer, email: str
) -> None:
    assert list(Customer.objects.for_email(email)) == [acme]


def test_for_email_matches_a_domain_stored_with_capitals(db: None) -> None:
    """A domain written through save() alone (an import, a script) still matches."""
    initech = make_customer("Initech AG", domains=("Initech.CH",))

    assert list(Customer.objects.for_email("peter@initech.ch")) == [initech]


def test_for_email_finds_nobody_for_a_subdomain_or_another_domain(acme: Customer) -> None:
    assert not Customer.objects.for_email("jane@eu.acme.com").exists()
    assert not Customer.objects.for_email("jane@acme.co").exists()
    assert not Customer.objects.for_email("not-an-email").exists()


def test_rule_c7_open_findings_until_deletion_is_confirmed(acme: Customer) -> None:
    open_finding = make_finding(acme, learned=date(2026, 1, 31))
    unattributed = make_finding(None, learned=date(2024, 2, 29))
    make_finding(acme, learned=date(2026, 1, 2), deletion_confirmed_on=date(2026, 1, 5))

    assert set(ProhibitedDataFinding.objects.open()) == {open_finding, unattributed}


def test_rule_c7_database_refuses_a_deletion_before_the_finding(acme: Customer) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_finding(acme, learned=date(2024, 2, 29), deletion_confirmed_on=date(2024, 2, 28))

    make_finding(acme, learned=date(2024, 2, 29), deletion_confirmed_on=date(2024, 2, 29))
