"""The DPA's audit rules (DOMAIN.md A1, A2, A4, A5): dates in, dates out."""

from __future__ import annotations

from datetime import date, timedelta

from harmonyze_portal.dates import (
    Computation,
    add_months,
    latest_day_before,
    period_explained,
    subtract_months,
    unit_text,
)

LEAD_MONTHS = 1
FINAL_PLAN_DAYS = 14
ENTITLEMENT_MONTHS = 12
REPORT_MONTHS = 12


def earliest_start(received: date) -> date:
    """A2 (DPA 10.2): the plan reaches Harmonyze at least one month before the start, so the
    earliest compliant start is the legal date of receipt + 1 calendar month (T3)."""
    return add_months(received, LEAD_MONTHS)


def lead_time_met(received: date, start: date) -> bool:
    return start >= earliest_start(received)


def final_plan_latest(start: date) -> date:
    """A4 (DPA 10.2): the final plan is agreed at least two weeks before the start."""
    return latest_day_before(start, FINAL_PLAN_DAYS)


def final_plan_in_time(agreed: date, start: date) -> bool:
    return agreed <= final_plan_latest(start)


def next_yearly_start(previous_start: date) -> date:
    """A1 (DPA 10.1): a yearly audit may start on or after the twelve-month anniversary of the
    previous yearly audit's start, counted forwards (T3): 2025-03-15 gives 2026-03-15, and
    2024-02-29 gives 2025-02-28.

    The trap: checking backwards ("no yearly audit started in the twelve months before this
    start") clamps the other way, 2025-02-28 − 12 months = 2024-02-28, and refuses the
    anniversary of a Feb 29 start.
    """
    return add_months(previous_start, ENTITLEMENT_MONTHS)


def yearly_audit_allowed(previous_start: date, start: date) -> bool:
    """A1: whether a yearly audit starting ``start`` is within the entitlement, given the
    previous yearly audit's start. Additional audits (breach, documented concerns, law or
    regulator) neither need nor use up the entitlement, so they are never ``previous_start``."""
    return start >= next_yearly_start(previous_start)


def report_window_start(received: date) -> date:
    """A5 (DPA 10.4): a report whose audit period ended on or after this date was performed
    within the twelve months before the request."""
    return subtract_months(received, REPORT_MONTHS)


def report_qualifies(period_end: date, received: date) -> bool:
    return report_window_start(received) <= period_end <= received


def type2_coverage_ends(latest_period_end: date) -> date:
    """The last receipt date for which a report ending on ``latest_period_end`` still
    qualifies (A5): after it, no Type 2 report is within twelve months.

    Usually ``latest_period_end`` + 12 months; month-end clamping can add a day (a period
    ending 2023-02-28 still qualifies for a request received 2024-02-29).
    """
    last = add_months(latest_period_end, REPORT_MONTHS)
    while report_qualifies(latest_period_end, last + timedelta(days=1)):
        last += timedelta(days=1)
    return last


def earliest_start_explained(received: date) -> Computation:
    """A2 (DPA 10.2): "plan received 5 Nov 2026 + 1 month = 5 Dec 2026"."""
    return period_explained(
        "A2",
        start_label="plan received",
        start=received,
        amount=unit_text(LEAD_MONTHS, "months"),
        result=earliest_start(received),
    )


def final_plan_latest_explained(start: date) -> Computation:
    """A4 (DPA 10.2): "proposed start 1 Jun 2026 − 14 days = 18 May 2026"."""
    return period_explained(
        "A4",
        start_label="proposed start",
        start=start,
        amount=unit_text(FINAL_PLAN_DAYS, "days"),
        result=final_plan_latest(start),
        sign="−",
    )


def next_yearly_start_explained(previous_start: date) -> Computation:
    """A1 (DPA 10.1): "previous yearly audit started 29 Feb 2024 + 12 months = 28 Feb 2025"."""
    return period_explained(
        "A1",
        start_label="previous yearly audit started",
        start=previous_start,
        amount=unit_text(ENTITLEMENT_MONTHS, "months"),
        result=next_yearly_start(previous_start),
        note="T3",
    )
