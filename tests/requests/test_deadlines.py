"""The statutory response clocks (R3, T3, T4) as pure arithmetic: no database, no clock."""

from __future__ import annotations

from datetime import date

import pytest

from requests import deadlines
from requests.deadlines import BUSINESS_DAYS, DAYS, MONTHS

MEMORIAL_DAY = date(2026, 5, 25)


def gdpr_respond_by(received: date, holidays: frozenset[date] = frozenset()) -> date:
    return deadlines.respond_by(received, 1, MONTHS, moves_off_weekends=True, holidays=holidays)


def gdpr_extended_to(received: date, holidays: frozenset[date] = frozenset()) -> date:
    return deadlines.extended_to(
        received, 1, MONTHS, 2, MONTHS, moves_off_weekends=True, holidays=holidays
    )


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # T3: Jan 31 + 1 month clamps to Feb 28, a Saturday in 2026; T4 moves it to Monday.
        (date(2026, 1, 31), date(2026, 3, 2)),
        # 2024 is a leap year: Feb 29, a Thursday, stays.
        (date(2024, 1, 31), date(2024, 2, 29)),
        # A Sunday deadline (2025-11-30) moves to Monday.
        (date(2025, 10, 31), date(2025, 12, 1)),
        (date(2026, 3, 2), date(2026, 4, 2)),
    ],
)
def test_gdpr_one_month_moves_off_weekends(received: date, due: date) -> None:
    assert gdpr_respond_by(received) == due


def test_without_moving_off_weekends_the_clamped_day_stays() -> None:
    assert deadlines.respond_by(date(2026, 1, 31), 1, MONTHS, moves_off_weekends=False) == date(
        2026, 2, 28
    )


def test_a_deadline_on_a_holiday_monday_moves_to_tuesday() -> None:
    assert gdpr_respond_by(date(2026, 4, 25)) == MEMORIAL_DAY
    assert gdpr_respond_by(date(2026, 4, 25), frozenset({MEMORIAL_DAY})) == date(2026, 5, 26)


def test_a_holiday_right_after_a_weekend_moves_the_deadline_past_both() -> None:
    # Saturday May 23 + Sunday + Memorial Day: the next working day is Tuesday.
    assert gdpr_respond_by(date(2026, 4, 23)) == date(2026, 5, 25)
    saturday = deadlines.statutory_end(date(2026, 5, 23), True, {MEMORIAL_DAY})
    assert saturday == date(2026, 5, 26)


@pytest.mark.parametrize(
    ("received", "extended"),
    [
        # Received + 3 months (T3), not the clamped Feb 28 + 2 months (Apr 28).
        (date(2026, 1, 31), date(2026, 4, 30)),
        # 2026-01-31 is a Saturday: rolled forward to Monday Feb 2.
        (date(2025, 10, 31), date(2026, 2, 2)),
        (date(2023, 11, 30), date(2024, 2, 29)),
    ],
)
def test_gdpr_extension_is_three_months_from_receipt_rolled_forward(
    received: date, extended: date
) -> None:
    assert gdpr_extended_to(received) == extended


def test_ccpa_acknowledges_within_10_business_days() -> None:
    # Received Monday March 2: ten working days later is Monday March 16.
    assert deadlines.acknowledge_by(date(2026, 3, 2), 10) == date(2026, 3, 16)
    # A holiday in between pushes it a day.
    assert deadlines.acknowledge_by(date(2026, 3, 2), 10, {date(2026, 3, 10)}) == date(2026, 3, 17)
    # Received on a Friday: the weekend does not count.
    assert deadlines.acknowledge_by(date(2026, 3, 6), 10) == date(2026, 3, 20)


def test_ccpa_answers_within_45_days_extendable_by_45() -> None:
    received = date(2026, 3, 2)
    respond = deadlines.respond_by(received, 45, DAYS, moves_off_weekends=True)
    assert respond == date(2026, 4, 16)
    # 90 days is Sunday May 31: moved to Monday.
    extended = deadlines.extended_to(received, 45, DAYS, 45, DAYS, moves_off_weekends=True)
    assert extended == date(2026, 6, 1)


def test_ccpa_45_days_on_a_sunday_moves_to_monday() -> None:
    assert deadlines.respond_by(date(2026, 4, 16), 45, DAYS, moves_off_weekends=True) == date(
        2026, 6, 1
    )


def test_lgpd_answers_access_within_15_days() -> None:
    assert deadlines.respond_by(date(2026, 3, 2), 15, DAYS, moves_off_weekends=True) == date(
        2026, 3, 17
    )


def test_business_days_as_a_response_unit() -> None:
    assert deadlines.add_period(date(2026, 3, 2), 10, BUSINESS_DAYS) == date(2026, 3, 16)


def test_an_extension_in_another_unit_counts_from_the_original_deadline() -> None:
    extended = deadlines.extended_to(
        date(2026, 1, 31), 1, MONTHS, 10, DAYS, moves_off_weekends=False
    )
    assert extended == date(2026, 3, 10)


def test_an_unknown_unit_raises() -> None:
    with pytest.raises(ValueError, match="unknown period unit 'weeks'"):
        deadlines.add_period(date(2026, 3, 2), 2, "weeks")
    with pytest.raises(ValueError, match="unknown period unit"):
        deadlines.respond_by(date(2026, 3, 2), 2, "fortnights", moves_off_weekends=True)


# --- R4: the customer notice of a compelled demand, and the review of an open-ended order.


def notice_due(
    *,
    compelled: bool = True,
    order: bool = False,
    ends: date | None = None,
    received: date = date(2026, 3, 2),
) -> date | None:
    return deadlines.customer_notice_due(
        received=received, compelled=compelled, nondisclosure_order=order, order_ends=ends
    )


def test_rule_r4_without_an_order_the_notice_is_owed_from_receipt() -> None:
    assert notice_due() == date(2026, 3, 2)


def test_rule_r4_a_demand_not_compelled_owes_no_notice() -> None:
    assert notice_due(compelled=False) is None
    assert notice_due(compelled=False, order=True, ends=date(2026, 5, 14)) is None


@pytest.mark.parametrize(
    ("last_binding_day", "due"),
    [
        (date(2026, 5, 14), date(2026, 5, 15)),
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2024, 2, 28), date(2024, 2, 29)),  # leap year
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_rule_r4_the_notice_falls_due_the_day_after_the_last_binding_day(
    last_binding_day: date, due: date
) -> None:
    assert notice_due(order=True, ends=last_binding_day) == due


def test_rule_r4_an_order_without_an_end_date_holds_the_notice() -> None:
    assert notice_due(order=True, ends=None) is None


def review_due(
    *,
    order: bool = True,
    starts: date | None = date(2026, 1, 1),
    ends: date | None = None,
    last_review: date | None = None,
    days: int = 90,
) -> date | None:
    return deadlines.order_review_due(
        nondisclosure_order=order,
        order_starts=starts,
        order_ends=ends,
        last_review=last_review,
        review_days=days,
    )


def test_rule_r4_an_open_ended_order_comes_up_for_review_90_days_after_it_starts() -> None:
    assert review_due() == date(2026, 4, 1)  # Jan 1 + 90 days
    assert review_due(starts=date(2024, 1, 1)) == date(2024, 3, 31)  # leap year
    assert review_due(days=30) == date(2026, 1, 31)  # the period is a setting


def test_rule_r4_a_recorded_effort_to_lift_the_order_moves_the_next_review() -> None:
    assert review_due(last_review=date(2026, 3, 15)) == date(2026, 6, 13)
    # An effort recorded before the order started (entered late) does not pull it earlier.
    assert review_due(last_review=date(2025, 12, 1)) == date(2026, 4, 1)


def test_rule_r4_no_review_for_an_order_with_an_end_date_or_no_order() -> None:
    assert review_due(ends=date(2026, 6, 30)) is None
    assert review_due(order=False) is None
    assert review_due(starts=None) is None


# --- The deadline line (T5): how each date was computed --------------------------------------


def test_the_deadline_line_names_the_weekend_move_and_the_calendar() -> None:
    # 2026-11-05 + 1 month = Saturday 2026-12-05, moved to Monday 2026-12-07 (T4).
    due = gdpr_respond_by(date(2026, 11, 5))
    line = deadlines.respond_by_explained(
        rule="R3",
        label="received",
        received=date(2026, 11, 5),
        value=1,
        unit=MONTHS,
        due=due,
        calendar="IE",
    )
    assert line.result == due == date(2026, 12, 7)
    assert str(line) == (
        "received 5 Nov 2026 + 1 month = 5 Dec 2026, a Saturday → 7 Dec 2026 (T4, IE calendar)"
    )


def test_the_deadline_line_names_a_holiday_move_and_none_on_a_working_day() -> None:
    holidays = frozenset({MEMORIAL_DAY})
    due = gdpr_respond_by(date(2026, 4, 25), holidays)  # + 1 month = Memorial Day, a Monday
    moved = deadlines.respond_by_explained(
        rule="R3", label="received", received=date(2026, 4, 25), value=1, unit=MONTHS,
        due=due, calendar="US",
    )  # fmt: skip
    assert str(moved).endswith("25 May 2026, a public holiday or closure day → 26 May 2026 "
                               "(T4, US calendar)")  # fmt: skip
    kept = deadlines.respond_by_explained(
        rule="R3", label="received", received=date(2026, 3, 10), value=45, unit=DAYS,
        due=date(2026, 4, 24), calendar="US",
    )  # fmt: skip
    assert str(kept) == "received 10 Mar 2026 + 45 days = 24 Apr 2026"


def test_the_deadline_line_of_business_days_and_of_the_r1_notice() -> None:
    ack = deadlines.respond_by_explained(
        rule="R3", label="received", received=date(2026, 3, 10), value=10, unit=BUSINESS_DAYS,
        due=date(2026, 3, 24), calendar="US",
    )  # fmt: skip
    assert str(ack) == "received 10 Mar 2026 + 10 business days = 24 Mar 2026 (US calendar)"
    notice = deadlines.dsr_customer_notice_explained(date(2026, 1, 30), date(2026, 2, 2))
    assert str(notice) == "received 30 Jan 2026 + 3 days = 2 Feb 2026 (house target)"
