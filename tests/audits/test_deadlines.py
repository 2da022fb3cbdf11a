"""The audits area's pure date rules (A1), at their edges: no database."""

from __future__ import annotations

from datetime import date

import pytest

from audits import deadlines


@pytest.mark.parametrize(
    ("previous_start", "anniversary"),
    [
        (date(2025, 3, 15), date(2026, 3, 15)),
        (date(2024, 2, 29), date(2025, 2, 28)),
        (date(2023, 2, 28), date(2024, 2, 28)),
        (date(2025, 1, 31), date(2026, 1, 31)),
        (date(2025, 12, 31), date(2026, 12, 31)),
    ],
)
def test_rule_a1_the_next_yearly_start_is_the_twelve_month_anniversary(
    previous_start: date, anniversary: date
) -> None:
    assert deadlines.next_yearly_start(previous_start) == anniversary


@pytest.mark.parametrize(
    ("start", "allowed"),
    [(date(2025, 2, 27), False), (date(2025, 2, 28), True), (date(2025, 3, 1), True)],
)
def test_rule_a1_a_yearly_audit_after_a_feb_29_start_may_start_on_feb_28(
    start: date, allowed: bool
) -> None:
    assert deadlines.yearly_audit_allowed(date(2024, 2, 29), start) is allowed


def test_the_a1_a2_and_a4_lines() -> None:
    yearly = deadlines.next_yearly_start_explained(date(2024, 2, 29))
    assert yearly.result == date(2025, 2, 28)
    assert str(yearly) == "previous yearly audit started 29 Feb 2024 + 12 months = 28 Feb 2025 (T3)"
    lead = deadlines.earliest_start_explained(date(2026, 1, 31))
    assert str(lead) == "plan received 31 Jan 2026 + 1 month = 28 Feb 2026"
    final = deadlines.final_plan_latest_explained(date(2026, 6, 1))
    assert str(final) == "proposed start 1 Jun 2026 − 14 days = 18 May 2026"
