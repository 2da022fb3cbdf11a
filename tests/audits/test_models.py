"""The stored checks of an audit request (A1 entitlement, A2 lead time, A5 report in lieu), the
final plan rule (A4) and the constraints that hold when clean() is bypassed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audits import deadlines
from audits.models import AuditGround, AuditReport, AuditRequest, AuditStatus, ReportKind
from customers.models import Customer
from tests.audits.builders import make_audit_request, make_report
from tests.customers.builders import make_breach

pytestmark = pytest.mark.django_db


def report_ending(period_end: date, kind: str = ReportKind.SOC2_TYPE2) -> AuditReport:
    return make_report(
        kind=kind, period_start=period_end - timedelta(days=364), period_end=period_end
    )


# --- A2: the one-month lead time (T3) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "earliest"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2026, 3, 15), date(2026, 4, 15)),
    ],
)
def test_rule_a2_earliest_compliant_start_is_receipt_plus_one_calendar_month(
    acme: Customer, received: date, earliest: date
) -> None:
    request = make_audit_request(acme, received=received, start=received + timedelta(days=60))

    assert request.earliest_compliant_start == earliest


@pytest.mark.parametrize(("start", "met"), [(date(2026, 4, 14), False), (date(2026, 4, 15), True)])
def test_rule_a2_a_start_one_day_short_of_a_month_is_flagged(
    acme: Customer, start: date, met: bool
) -> None:
    request = make_audit_request(acme, received=date(2026, 3, 15), start=start)

    assert request.lead_time_met is met
    assert AuditRequest.objects.lead_time_missed().exists() is not met


def test_rule_a2_an_unconfirmed_plan_has_no_checks_yet(acme: Customer) -> None:
    request = make_audit_request(acme, received=None)

    assert (request.lead_time_met, request.earliest_compliant_start, request.entitled) == (
        None,
        None,
        None,
    )


# --- A1: one yearly audit, from anniversary to anniversary of its start -----------------------


def test_rule_a1_a_second_yearly_audit_before_the_anniversary_needs_a_ground(
    acme: Customer,
) -> None:
    first = make_audit_request(acme, received=date(2025, 9, 1), start=date(2025, 10, 15))

    second = make_audit_request(acme, received=date(2026, 3, 15))

    assert second.entitled is False
    assert second.previous_audit == first
    assert second.next_yearly_start == date(2026, 10, 15)
    assert second.needs_exception_ground is True
    second.ground = AuditGround.CONCERNS
    second.evidence = "Our pen test found the admin API open to the internet."
    second.save()
    assert second.entitled is False
    assert second.needs_exception_ground is False


@pytest.mark.parametrize(
    ("previous_start", "start", "entitled"),
    [
        (date(2025, 4, 15), date(2026, 4, 15), True),  # on the anniversary
        (date(2025, 4, 15), date(2026, 4, 14), False),  # the day before
        (date(2024, 2, 29), date(2025, 2, 28), True),  # Feb 29 → Feb 28 (T3)
        (date(2024, 2, 29), date(2025, 2, 27), False),
        (date(2025, 1, 31), date(2026, 1, 31), True),
        (date(2025, 4, 15), date(2025, 4, 15), False),  # the same day
    ],
)
def test_rule_a1_a_yearly_audit_may_start_on_the_anniversary_of_the_previous_start(
    acme: Customer, previous_start: date, start: date, entitled: bool
) -> None:
    previous = make_audit_request(
        acme, received=previous_start - timedelta(days=40), start=previous_start
    )

    request = make_audit_request(acme, received=start - timedelta(days=40), start=start)

    assert request.entitled is entitled
    assert request.needs_exception_ground is not entitled
    assert request.previous_audit == (None if entitled else previous)


def test_rule_a1_the_anniversary_counts_from_the_start_not_the_receipt(acme: Customer) -> None:
    """Received eleven months apart, starting twelve months apart: entitled."""
    make_audit_request(acme, received=date(2025, 2, 1), start=date(2025, 4, 15))

    request = make_audit_request(acme, received=date(2026, 1, 2), start=date(2026, 4, 15))

    assert request.entitled is True


# --- A1 whatever the order of entry: a save rechecks the later yearly audits --------------------


def test_rule_a1_a_yearly_audit_entered_before_an_existing_one_is_judged_against_it(
    acme: Customer,
) -> None:
    """Two yearly audits three months apart: the one entered second, but starting first, is
    the yearly audit; the later one is rechecked, with a history row and the reason."""
    june = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 6, 1))
    assert june.entitled is True

    march = make_audit_request(acme, received=date(2026, 1, 10), start=date(2026, 3, 1))

    june.refresh_from_db()
    assert (march.entitled, june.entitled, june.previous_audit) == (True, False, march)
    assert june.needs_exception_ground is True
    assert june.history.count() == 2
    assert june.history.first().history_change_reason == (
        "A1 entitlement rechecked: the audit request starting 2026-03-01 was entered"
    )


RECHECKED = "A1 entitlement rechecked: the audit request starting "


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": AuditStatus.WITHDRAWN}, f"{RECHECKED}2025-06-02 was changed"),
        (
            {"ground": AuditGround.CONCERNS, "evidence": "Pen test report of 2025-01-05"},
            f"{RECHECKED}2025-06-02 was changed",
        ),
        # Moved to the day whose anniversary is the later start; then to a day still short.
        ({"proposed_start": date(2025, 6, 1)}, f"{RECHECKED}2025-06-01 was changed"),
        ({"proposed_start": date(2025, 7, 1)}, None),
        (None, f"{RECHECKED}2025-06-02 was deleted"),
    ],
)
def test_rule_a1_the_later_yearly_audit_follows_the_earlier_ones_status_ground_start_or_deletion(
    acme: Customer, changes: dict[str, Any] | None, reason: str | None
) -> None:
    earlier = make_audit_request(acme, received=date(2025, 1, 10), start=date(2025, 6, 2))
    later = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 6, 1))
    assert (later.entitled, later.previous_audit) == (False, earlier)

    if changes is None:
        earlier.delete()
    else:
        for name, value in changes.items():
            setattr(earlier, name, value)
        earlier.save()

    later.refresh_from_db()
    if reason is None:
        assert (later.entitled, later.previous_audit) == (False, earlier)
        assert later.history.count() == 1  # unchanged: no row
    else:
        assert (later.entitled, later.previous_audit) == (True, None)
        assert later.history.first().history_change_reason == reason


def test_rule_a1_only_the_yearly_audits_within_twelve_months_after_are_rechecked(
    acme: Customer, globex: Customer
) -> None:
    anniversary = make_audit_request(acme, received=date(2026, 2, 1), start=date(2026, 3, 1))
    additional = make_audit_request(
        acme,
        received=date(2025, 12, 1),
        start=date(2026, 1, 5),
        ground=AuditGround.CONCERNS,
        evidence="Pen test report of 2025-11-20",
    )
    theirs = make_audit_request(globex, received=date(2025, 12, 1), start=date(2026, 1, 5))

    make_audit_request(acme, received=date(2025, 1, 2), start=date(2025, 3, 1))

    for request in (anniversary, additional, theirs):
        request.refresh_from_db()
        assert request.entitled is True
        assert request.history.count() == 1


@pytest.mark.parametrize("resaved", ["first", "second"])
def test_rule_a1_of_two_yearly_audits_starting_the_same_day_the_first_entered_is_the_yearly_one(
    acme: Customer, resaved: str
) -> None:
    first = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 6, 1))
    second = make_audit_request(acme, received=date(2026, 2, 1), start=date(2026, 6, 1))
    {"first": first, "second": second}[resaved].save()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.entitled, second.entitled, second.previous_audit) == (True, False, first)


def breach_ground_audit(customer: Customer, *, received: date, start: date) -> AuditRequest:
    return make_audit_request(
        customer,
        received=received,
        start=start,
        status=AuditStatus.UNDER_REVIEW,
        ground=AuditGround.BREACH,
        breach=make_breach(customers=(customer,)),
    )


def test_rule_a1_a_breach_ground_audit_does_not_use_up_the_yearly_one(acme: Customer) -> None:
    breach_ground_audit(acme, received=date(2026, 1, 5), start=date(2026, 2, 9))

    yearly = make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 4, 15))

    assert yearly.entitled is True
    assert yearly.previous_audit is None
    assert yearly.needs_exception_ground is False


@pytest.mark.parametrize(
    ("ground", "evidence"),
    [
        (AuditGround.CONCERNS, "Our pen test found the admin API open to the internet."),
        (AuditGround.LAW, "BaFin order of 2026-01-20 under § 25b KWG"),
    ],
)
def test_rule_a1_no_additional_ground_uses_up_the_yearly_audit(
    acme: Customer, ground: str, evidence: str
) -> None:
    make_audit_request(
        acme, received=date(2026, 1, 5), start=date(2026, 2, 9), ground=ground, evidence=evidence
    )

    assert make_audit_request(acme, received=date(2026, 3, 15)).entitled is True


def test_rule_a1_the_anniversary_is_the_previous_yearly_audits_not_an_additional_ones(
    acme: Customer,
) -> None:
    yearly = make_audit_request(acme, received=date(2025, 3, 1), start=date(2025, 4, 15))
    breach_ground_audit(acme, received=date(2025, 12, 1), start=date(2026, 1, 10))

    day_before = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 4, 14))

    assert day_before.entitled is False
    assert day_before.previous_audit == yearly
    day_before.proposed_start = date(2026, 4, 15)
    day_before.save()
    assert day_before.entitled is True


def test_rule_a1_a_withdrawn_or_unconfirmed_earlier_request_does_not_count(
    acme: Customer,
) -> None:
    make_audit_request(acme, received=date(2025, 9, 1), status=AuditStatus.WITHDRAWN)
    make_audit_request(acme, received=None)

    request = make_audit_request(acme, received=date(2026, 3, 15))

    assert request.entitled is True
    assert request.previous_audit is None


def test_rule_a1_a_request_whose_report_offer_is_unanswered_counts(acme: Customer) -> None:
    make_audit_request(acme, received=date(2025, 9, 1), status=AuditStatus.REPORT_OFFERED)

    assert make_audit_request(acme, received=date(2026, 3, 15)).entitled is False


def test_rule_a1_another_customers_audit_does_not_count(acme: Customer, globex: Customer) -> None:
    make_audit_request(globex, received=date(2026, 1, 10))

    assert make_audit_request(acme, received=date(2026, 3, 15)).entitled is True


def test_rule_a1_a_breach_ground_needs_a_breach_of_that_customer(
    acme: Customer, globex: Customer
) -> None:
    theirs = make_breach(customers=(globex,))
    ours = make_breach(customers=(acme,), title="Support export sent to the wrong workspace")
    request = AuditRequest(
        customer=acme,
        submitted_by_name="Dana Privacy",
        submitted_by_email="privacy@acme.com",
        scope="Logging",
        proposed_start=date(2026, 4, 15),
        duration_days=2,
        auditor_firm="Audit & Co",
        received_on=date(2026, 3, 15),
        status=AuditStatus.UNDER_REVIEW,
        ground=AuditGround.BREACH,
        breach=theirs,
    )

    with pytest.raises(ValidationError) as refused:
        request.full_clean()
    assert list(refused.value.message_dict) == ["breach"]
    assert "did not affect this customer" in refused.value.message_dict["breach"][0]

    request.breach = ours
    request.full_clean()


@pytest.mark.parametrize("ground", [AuditGround.CONCERNS, AuditGround.LAW])
def test_rule_a1_an_additional_audits_ground_points_at_its_evidence(
    acme: Customer, ground: str
) -> None:
    request = make_audit_request(acme, received=date(2026, 3, 15))
    request.ground = ground

    with pytest.raises(ValidationError) as refused:
        request.full_clean()
    assert list(refused.value.message_dict) == ["evidence"]


# --- A5: the report in lieu -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_end", "qualifies"), [(date(2025, 3, 15), True), (date(2025, 3, 14), False)]
)
def test_rule_a5_a_report_ending_exactly_twelve_months_before_receipt_qualifies(
    acme: Customer, period_end: date, qualifies: bool
) -> None:
    report = report_ending(period_end)

    request = make_audit_request(acme, received=date(2026, 3, 15))

    assert request.type2_report == (report if qualifies else None)


def test_rule_a5_the_latest_qualifying_type2_report_is_stored(acme: Customer) -> None:
    report_ending(date(2025, 6, 30))
    latest = report_ending(date(2025, 12, 31), kind=ReportKind.ISAE3402_TYPE2)

    assert make_audit_request(acme, received=date(2026, 3, 15)).type2_report == latest


def test_rule_a5_a_type1_report_never_qualifies_as_type2(acme: Customer) -> None:
    report_ending(date(2025, 12, 31), kind=ReportKind.SOC2_TYPE1)

    request = make_audit_request(acme, received=date(2026, 3, 15))

    assert request.type2_report is None
    assert request.other_qualifying_reports() == []


def test_rule_a5_iso_and_nist_reports_are_listed_as_other_qualifying(acme: Customer) -> None:
    iso = report_ending(date(2025, 11, 30), kind=ReportKind.ISO27001)
    nist = report_ending(date(2025, 10, 31), kind=ReportKind.NIST)
    report_ending(date(2025, 10, 31), kind=ReportKind.OTHER)
    report_ending(date(2024, 10, 31), kind=ReportKind.ISO27001)  # too old

    request = make_audit_request(acme, received=date(2026, 3, 15))

    assert request.type2_report is None
    assert request.other_qualifying_reports() == [iso, nist]


@pytest.mark.parametrize(
    ("period_end", "covered_through"),
    [
        (date(2025, 3, 15), date(2026, 3, 15)),
        # 2024-02-29 − 12 months = 2023-02-28 (T3), so that period still covers Feb 29.
        (date(2023, 2, 28), date(2024, 2, 29)),
        (date(2024, 2, 29), date(2025, 2, 28)),
        (date(2025, 1, 31), date(2026, 1, 31)),
    ],
)
def test_rule_a5_type2_coverage_ends_on_the_last_qualifying_receipt_date(
    period_end: date, covered_through: date
) -> None:
    assert deadlines.type2_coverage_ends(period_end) == covered_through
    assert deadlines.report_qualifies(period_end, covered_through)
    assert not deadlines.report_qualifies(period_end, covered_through + timedelta(days=1))


# --- A4: the final plan at least 14 days before the start --------------------------------------


@pytest.mark.parametrize(("days_before", "in_time"), [(13, False), (14, True)])
def test_rule_a4_the_final_plan_is_agreed_at_least_14_days_before_the_start(
    acme: Customer, days_before: int, in_time: bool
) -> None:
    request = make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 5, 1))
    request.final_plan_agreed_on = date(2026, 5, 1) - timedelta(days=days_before)

    if in_time:
        request.full_clean()
    else:
        with pytest.raises(ValidationError) as refused:
            request.full_clean()
        assert list(refused.value.message_dict) == ["final_plan_agreed_on"]
        assert "2026-04-17" in refused.value.message_dict["final_plan_agreed_on"][0]


# --- Constraints: the database holds even when clean() is bypassed ------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"duration_days": 0},
        {"duration_days": 31},
        {"auditor_firm": "", "self_audit": False},
        {"ground": AuditGround.CONCERNS},
        {"ground": AuditGround.CONCERNS, "evidence": "  \n "},
        {"ground": AuditGround.LAW},
        {"ground": AuditGround.BREACH, "status": AuditStatus.UNDER_REVIEW},
    ],
    ids=[
        "duration-0",
        "duration-31",
        "no-auditor",
        "concerns-without-evidence",
        "concerns-with-blank-evidence",
        "law-without-legal-basis",
        "breach-without-breach",
    ],
)
def test_request_constraints_hold_without_clean(acme: Customer, fields: dict) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_audit_request(acme, **fields)
    assert not AuditRequest.objects.exists()


def test_rule_a1_a_breach_of_another_customer_is_refused_without_clean(
    acme: Customer, globex: Customer
) -> None:
    theirs = make_breach(customers=(globex,))

    with pytest.raises(ValidationError) as refused, transaction.atomic():
        make_audit_request(
            acme, status=AuditStatus.UNDER_REVIEW, ground=AuditGround.BREACH, breach=theirs
        )
    assert refused.value.message_dict == {
        "breach": ["This breach did not affect this customer (A1)."]
    }
    assert not AuditRequest.objects.exists()


@pytest.mark.parametrize(
    "evidence",
    [
        {"evidence": "Order of the Central Bank of Ireland, 2026-01-20"},
        {"supporting_document": "audits/evidence/order.pdf"},
    ],
)
def test_rule_a1_a_legal_ground_with_its_evidence_saves_without_clean(
    acme: Customer, evidence: dict
) -> None:
    request = make_audit_request(acme, ground=AuditGround.LAW, **evidence)

    assert request.entitled is True


def test_a_self_audit_needs_no_auditor_firm(acme: Customer) -> None:
    request = make_audit_request(acme, auditor_firm="", auditor_lead="", self_audit=True)

    request.full_clean()


@pytest.mark.parametrize(
    "dates",
    [
        {"period_end": date(2025, 12, 31), "issued_on": date(2025, 12, 30)},
        {"period_start": date(2026, 1, 2), "period_end": date(2026, 1, 1)},
    ],
    ids=["issued-before-period-ends", "period-ends-before-start"],
)
def test_report_constraints_hold_without_clean(dates: dict) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_report(**dates)
    assert not AuditReport.objects.exists()


# --- A4: the final plan's due date, stored for the dashboard -----------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (date(2026, 5, 1), date(2026, 4, 17)),
        (date(2026, 3, 14), date(2026, 2, 28)),
        (date(2028, 3, 14), date(2028, 2, 29)),
    ],
)
def test_rule_a4_the_final_plan_due_date_is_stored_on_every_save(
    acme: Customer, start: date, due: date
) -> None:
    """A4: start − 14 days, by the pure rule (no offset re-applied by any consumer); a save
    from the shell that moves the start moves it."""
    request = make_audit_request(acme, received=date(2026, 1, 2), start=date(2026, 6, 1))
    request.proposed_start = start
    request.final_plan_due = date(2000, 1, 1)  # a stale value is never kept
    request.save()

    request.refresh_from_db()
    assert request.final_plan_due == due == deadlines.final_plan_latest(start)
    assert request.history.first().final_plan_due == due  # type: ignore[attr-defined]


def test_rule_a4_the_final_plan_is_open_until_agreed_while_planning(acme: Customer) -> None:
    open_ = make_audit_request(acme, status=AuditStatus.NEGOTIATION)
    agreed = make_audit_request(
        acme, status=AuditStatus.NEGOTIATION, final_plan_agreed_on=date(2026, 3, 20)
    )
    withdrawn = make_audit_request(acme, status=AuditStatus.WITHDRAWN)
    unconfirmed = make_audit_request(acme, received=None)

    assert list(AuditRequest.objects.final_plan_open()) == [open_]
    assert {agreed, withdrawn, unconfirmed}.isdisjoint(AuditRequest.objects.final_plan_open())


def test_rule_a2_a_missed_lead_time_stays_open_only_while_planning(acme: Customer) -> None:
    """A2: the same filter the dashboard lists: a withdrawn or completed request that missed
    the lead time is history, not work."""
    received, short = date(2026, 3, 15), date(2026, 4, 1)
    open_ = make_audit_request(acme, received=received, start=short)
    make_audit_request(acme, received=received, start=short, status=AuditStatus.WITHDRAWN)
    make_audit_request(acme, received=received, start=date(2026, 4, 15))

    assert list(AuditRequest.objects.lead_time_missed()) == [open_]
