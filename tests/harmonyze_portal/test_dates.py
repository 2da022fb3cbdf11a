"""Date arithmetic of DOMAIN.md T1–T4 at its edges: month ends, Feb 29, year ends, DST, weekends.

Pure functions, so no database and no clock: every date is written out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from harmonyze_portal.dates import (
    add_days,
    add_months,
    add_working_days,
    calendar_holidays,
    holiday_calendars,
    is_working_day,
    latest_day_before,
    legal_date,
    next_working_day,
    subtract_months,
)

NEW_YORK = "America/New_York"

# US public holidays of 2026 that the tables below lean on.
INDEPENDENCE_DAY_OBSERVED = date(2026, 7, 3)  # a Friday
MEMORIAL_DAY = date(2026, 5, 25)  # a Monday
MLK_DAY = date(2026, 1, 19)  # a Monday
CHRISTMAS = date(2026, 12, 25)  # a Friday
NEW_YEAR_2027 = date(2027, 1, 1)  # a Friday


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- T1: the legal date ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Just after midnight UTC it is still the evening before in New York (EST, UTC−5).
        pytest.param("2026-01-01T00:01:00", date(2025, 12, 31), id="new-year-utc-is-nye-local"),
        pytest.param("2026-03-01T03:00:00", date(2026, 2, 28), id="docstring-example"),
        pytest.param("2026-03-01T04:59:59", date(2026, 2, 28), id="last-second-before-local-day"),
        pytest.param("2026-03-01T05:00:00", date(2026, 3, 1), id="local-midnight-est"),
        pytest.param("2026-12-31T23:59:00", date(2026, 12, 31), id="late-utc-same-local-day"),
        # Spring forward, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        pytest.param("2026-03-08T04:59:00", date(2026, 3, 7), id="dst-start-eve-23:59-est"),
        pytest.param("2026-03-08T05:00:00", date(2026, 3, 8), id="dst-start-00:00-est"),
        pytest.param("2026-03-08T06:59:00", date(2026, 3, 8), id="dst-start-01:59-est"),
        pytest.param("2026-03-08T07:00:00", date(2026, 3, 8), id="dst-start-03:00-edt"),
        # After the change local midnight is 04:00 UTC, not 05:00.
        pytest.param("2026-03-09T03:59:00", date(2026, 3, 8), id="dst-start-next-eve-edt"),
        pytest.param("2026-03-09T04:00:00", date(2026, 3, 9), id="dst-start-next-midnight-edt"),
        # Fall back, 2026-11-01: 02:00 EDT returns to 01:00 EST (06:00 UTC).
        pytest.param("2026-11-01T03:59:00", date(2026, 10, 31), id="dst-end-eve-23:59-edt"),
        pytest.param("2026-11-01T04:30:00", date(2026, 11, 1), id="dst-end-00:30-edt"),
        pytest.param("2026-11-01T05:30:00", date(2026, 11, 1), id="dst-end-first-01:30-edt"),
        pytest.param("2026-11-01T06:30:00", date(2026, 11, 1), id="dst-end-second-01:30-est"),
        pytest.param("2026-11-02T04:30:00", date(2026, 11, 1), id="dst-end-23:30-est"),
        pytest.param("2026-11-02T05:00:00", date(2026, 11, 2), id="dst-end-next-midnight-est"),
    ],
)
def test_legal_date_in_new_york_rule_t1(moment: str, expected: date) -> None:
    assert legal_date(utc(moment), NEW_YORK) == expected


def test_legal_date_accepts_a_zoneinfo_or_a_zone_name_rule_t1() -> None:
    moment = utc("2026-03-01T03:00:00")

    assert legal_date(moment, ZoneInfo(NEW_YORK)) == date(2026, 2, 28)
    assert legal_date(moment, NEW_YORK) == date(2026, 2, 28)


def test_legal_date_follows_the_configured_zone_rule_t1() -> None:
    """The zone is configurable: the same instant is a different date east of UTC."""
    moment = utc("2026-02-28T15:00:00")

    assert legal_date(moment, "UTC") == date(2026, 2, 28)
    assert legal_date(moment, "Asia/Tokyo") == date(2026, 3, 1)
    assert legal_date(moment, NEW_YORK) == date(2026, 2, 28)


def test_legal_date_of_a_non_utc_aware_datetime_rule_t1() -> None:
    """An aware datetime in another offset is converted, not read at face value."""
    paris_morning = datetime(2026, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))

    assert legal_date(paris_morning, NEW_YORK) == date(2026, 5, 31)


def test_legal_date_refuses_a_naive_datetime_rule_t1() -> None:
    with pytest.raises(ValueError, match="aware"):
        legal_date(datetime(2026, 3, 1, 3, 0), NEW_YORK)


def test_legal_date_refuses_a_tzinfo_without_an_offset_rule_t1() -> None:
    """A tzinfo whose utcoffset() is None leaves the datetime naive in Python's eyes."""

    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta | None:
            return None

        def dst(self, dt: datetime | None) -> timedelta | None:
            return None

        def tzname(self, dt: datetime | None) -> str | None:
            return None

    with pytest.raises(ValueError, match="aware"):
        legal_date(datetime(2026, 3, 1, 3, 0, tzinfo=NoOffset()), NEW_YORK)


# --- T2: calendar days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        pytest.param(date(2026, 12, 31), 1, date(2027, 1, 1), id="year-end"),
        pytest.param(date(2026, 12, 28), 7, date(2027, 1, 4), id="S4-objection-over-year-end"),
        pytest.param(date(2026, 2, 20), 15, date(2026, 3, 7), id="S3-notice-plus-15"),
        pytest.param(date(2026, 10, 15), 90, date(2027, 1, 13), id="C3-termination-plus-90"),
        pytest.param(date(2024, 2, 28), 1, date(2024, 2, 29), id="into-leap-day"),
        pytest.param(date(2024, 2, 28), 2, date(2024, 3, 1), id="over-leap-day"),
        pytest.param(date(2026, 2, 28), 1, date(2026, 3, 1), id="no-leap-day-in-2026"),
        pytest.param(date(2023, 12, 1), 90, date(2024, 2, 29), id="90-days-lands-on-leap-day"),
        pytest.param(date(2026, 1, 1), -1, date(2025, 12, 31), id="negative-goes-back"),
        pytest.param(date(2026, 1, 3), 0, date(2026, 1, 3), id="zero-is-same-day"),
    ],
)
def test_add_days_counts_calendar_days_rule_t2(day: date, days: int, expected: date) -> None:
    assert add_days(day, days) == expected


def test_add_days_does_not_move_off_a_weekend_rule_t4() -> None:
    """Contractual DPA periods (T2) do not move to a working day, even on a Saturday."""
    assert add_days(date(2026, 2, 27), 15) == date(2026, 3, 14)  # a Saturday


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        pytest.param(date(2026, 3, 16), 15, date(2026, 3, 1), id="plain"),
        pytest.param(date(2026, 3, 15), 15, date(2026, 2, 28), id="over-feb-2026"),
        pytest.param(date(2024, 3, 15), 15, date(2024, 2, 29), id="lands-on-leap-day"),
        pytest.param(date(2026, 1, 10), 15, date(2025, 12, 26), id="over-year-end"),
        pytest.param(date(2026, 3, 1), 14, date(2026, 2, 15), id="A4-two-weeks-before-start"),
    ],
)
def test_latest_day_before_is_d_minus_n_rule_t2(day: date, days: int, expected: date) -> None:
    """T2: "at least N days before D" means on or before D − N."""
    assert latest_day_before(day, days) == expected


def test_latest_day_before_leaves_exactly_n_days_rule_t2() -> None:
    """The last allowed day leaves N days; the day after it leaves one fewer."""
    start = date(2026, 3, 16)
    last_allowed = latest_day_before(start, 15)

    assert (start - last_allowed).days == 15
    assert (start - (last_allowed + timedelta(days=1))).days == 14


# --- T3: calendar months -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2026, 1, 31), 1, date(2026, 2, 28), id="jan31-clamps-to-feb28"),
        pytest.param(date(2024, 1, 31), 1, date(2024, 2, 29), id="jan31-clamps-to-feb29-leap"),
        pytest.param(date(2026, 2, 28), 1, date(2026, 3, 28), id="feb28-does-not-become-mar31"),
        pytest.param(date(2026, 3, 31), 1, date(2026, 4, 30), id="mar31-clamps-to-apr30"),
        pytest.param(date(2026, 12, 31), 1, date(2027, 1, 31), id="dec-to-jan-rollover"),
        pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="over-year-end-clamped"),
        pytest.param(date(2026, 1, 31), 24, date(2028, 1, 31), id="plus-24"),
        pytest.param(date(2026, 1, 31), 25, date(2028, 2, 29), id="plus-25-leap"),
        pytest.param(date(2024, 2, 29), 12, date(2025, 2, 28), id="leap-day-plus-12"),
        pytest.param(date(2024, 2, 29), 48, date(2028, 2, 29), id="leap-day-plus-48"),
        pytest.param(date(2026, 5, 15), 0, date(2026, 5, 15), id="zero"),
        pytest.param(date(2026, 1, 15), -1, date(2025, 12, 15), id="jan-to-dec-rollback"),
        pytest.param(date(2026, 3, 31), -1, date(2026, 2, 28), id="mar31-minus-1-clamps"),
        pytest.param(date(2026, 8, 31), -6, date(2026, 2, 28), id="minus-6-clamps"),
        pytest.param(date(2026, 1, 31), -25, date(2023, 12, 31), id="minus-25"),
        pytest.param(date(2026, 3, 31), -25, date(2024, 2, 29), id="minus-25-leap"),
    ],
)
def test_add_months_clamps_to_month_end_rule_t3(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2024, 2, 29), 12, date(2023, 2, 28), id="twelve-months-before-feb29"),
        pytest.param(date(2025, 3, 1), 12, date(2024, 3, 1), id="twelve-months-before-mar1"),
        pytest.param(date(2026, 1, 15), 1, date(2025, 12, 15), id="jan-to-dec-rollback"),
        pytest.param(date(2026, 3, 31), 1, date(2026, 2, 28), id="mar31-clamps-to-feb28"),
        pytest.param(date(2026, 5, 31), 3, date(2026, 2, 28), id="may31-minus-3"),
        pytest.param(date(2026, 2, 15), 25, date(2024, 1, 15), id="minus-25"),
    ],
)
def test_subtract_months_is_t3_backwards_rule_t3(day: date, months: int, expected: date) -> None:
    assert subtract_months(day, months) == expected


@pytest.mark.parametrize("months", [-25, -12, -1, 0, 1, 12, 25])
def test_subtract_months_equals_adding_negative_months_rule_t3(months: int) -> None:
    day = date(2024, 2, 29)

    assert subtract_months(day, months) == add_months(day, -months)


def test_month_arithmetic_is_not_reversible_at_month_end_rule_t3() -> None:
    """Clamping loses the day: Jan 31 + 1 month − 1 month is Jan 28, not Jan 31."""
    assert subtract_months(add_months(date(2026, 1, 31), 1), 1) == date(2026, 1, 28)


# --- T4: working days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "holidays", "expected"),
    [
        pytest.param(date(2026, 1, 5), (), True, id="monday"),
        pytest.param(date(2026, 1, 9), (), True, id="friday"),
        pytest.param(date(2026, 1, 10), (), False, id="saturday"),
        pytest.param(date(2026, 1, 11), (), False, id="sunday"),
        pytest.param(INDEPENDENCE_DAY_OBSERVED, {INDEPENDENCE_DAY_OBSERVED}, False, id="holiday"),
        pytest.param(date(2026, 7, 2), {INDEPENDENCE_DAY_OBSERVED}, True, id="day-before-holiday"),
    ],
)
def test_is_working_day_rule_t4(day: date, holidays: set[date], expected: bool) -> None:
    assert is_working_day(day, holidays) is expected


@pytest.mark.parametrize(
    ("day", "holidays", "expected"),
    [
        pytest.param(date(2026, 1, 7), (), date(2026, 1, 7), id="working-day-stays"),
        pytest.param(date(2026, 1, 9), (), date(2026, 1, 9), id="friday-stays"),
        pytest.param(date(2026, 1, 3), (), date(2026, 1, 5), id="saturday-to-monday"),
        pytest.param(date(2026, 1, 4), (), date(2026, 1, 5), id="sunday-to-monday"),
        pytest.param(
            INDEPENDENCE_DAY_OBSERVED,
            {INDEPENDENCE_DAY_OBSERVED},
            date(2026, 7, 6),
            id="friday-holiday-to-monday",
        ),
        pytest.param(
            date(2026, 5, 23), {MEMORIAL_DAY}, date(2026, 5, 26), id="weekend-then-monday-holiday"
        ),
        pytest.param(
            CHRISTMAS,
            {CHRISTMAS, date(2026, 12, 28)},
            date(2026, 12, 29),
            id="friday-and-monday-holidays",
        ),
        pytest.param(
            date(2026, 12, 31), {NEW_YEAR_2027}, date(2026, 12, 31), id="holiday-next-day-only"
        ),
        pytest.param(NEW_YEAR_2027, {NEW_YEAR_2027}, date(2027, 1, 4), id="over-year-end"),
    ],
)
def test_next_working_day_rule_t4(day: date, holidays: set[date], expected: date) -> None:
    assert next_working_day(day, holidays) == expected


def test_next_working_day_without_holidays_ignores_public_holidays_rule_t4() -> None:
    """Holidays are configured, not assumed: with none given, Christmas is a Friday like any."""
    assert next_working_day(CHRISTMAS) == CHRISTMAS


@pytest.mark.parametrize(
    ("day", "days", "holidays", "expected"),
    [
        pytest.param(date(2026, 1, 5), 10, (), date(2026, 1, 19), id="ccpa-10-from-monday"),
        pytest.param(date(2026, 1, 5), 10, {MLK_DAY}, date(2026, 1, 20), id="ccpa-10-over-mlk"),
        pytest.param(date(2026, 1, 9), 1, (), date(2026, 1, 12), id="friday-plus-1-over-weekend"),
        pytest.param(date(2026, 1, 10), 1, (), date(2026, 1, 12), id="saturday-plus-1"),
        pytest.param(date(2026, 1, 11), 5, (), date(2026, 1, 16), id="sunday-plus-5"),
        pytest.param(
            date(2026, 7, 1),
            5,
            {INDEPENDENCE_DAY_OBSERVED},
            date(2026, 7, 9),
            id="over-friday-holiday",
        ),
        pytest.param(
            date(2026, 12, 23),
            3,
            {CHRISTMAS, NEW_YEAR_2027},
            date(2026, 12, 29),
            id="over-christmas",
        ),
        pytest.param(
            date(2026, 12, 30),
            2,
            {CHRISTMAS, NEW_YEAR_2027},
            date(2027, 1, 4),
            id="over-new-year",
        ),
    ],
)
def test_add_working_days_ccpa_business_days_rule_r3(
    day: date, days: int, holidays: set[date], expected: date
) -> None:
    """R3 / T4: CCPA's "10 business days"; the day of receipt itself does not count."""
    assert add_working_days(day, days, holidays) == expected


@pytest.mark.parametrize("day", [date(2026, 1, 7), date(2026, 1, 10), CHRISTMAS])
def test_add_working_days_zero_is_the_same_day_rule_t4(day: date) -> None:
    """Zero working days is the day itself, even when that is a weekend or a holiday."""
    assert add_working_days(day, 0, {CHRISTMAS}) == day


def test_add_working_days_refuses_negative_counts_rule_t4() -> None:
    with pytest.raises(ValueError, match="forwards"):
        add_working_days(date(2026, 1, 5), -1)


# --- T4: each regime's calendar from the holidays library --------------------------------------


def test_rule_t4_ireland_has_saint_patricks_day_and_the_us_does_not() -> None:
    irish = calendar_holidays("IE", "", (2026,))
    american = calendar_holidays("US", "", (2026,))
    assert date(2026, 3, 17) in irish
    assert date(2026, 3, 17) not in american
    assert MEMORIAL_DAY in american
    assert MEMORIAL_DAY not in irish


def test_rule_t4_the_us_calendar_has_observed_days() -> None:
    """July 4 2026 is a Saturday: observed on Friday July 3; New Year 2028, a Saturday, is
    observed on Friday 2027-12-31."""
    american = calendar_holidays("US", "", (2026, 2027))
    assert INDEPENDENCE_DAY_OBSERVED in american
    assert date(2027, 12, 31) in american


def test_rule_t4_a_region_adds_its_own_days() -> None:
    """Easter Monday is no bank holiday in Scotland, so not a UK-wide one; England has it."""
    easter_monday = date(2026, 4, 6)
    assert easter_monday not in calendar_holidays("GB", "", (2026,))
    assert easter_monday in calendar_holidays("GB", "ENG", (2026,))


def test_rule_t4_switzerland_without_a_canton_has_the_federal_days_only() -> None:
    assert sorted(calendar_holidays("CH", "", (2026,))) == [
        date(2026, 1, 1),
        date(2026, 5, 14),  # Ascension
        date(2026, 8, 1),  # National Day
        CHRISTMAS,
    ]


def test_rule_t4_the_calendars_offered_include_the_regimes_countries() -> None:
    assert {"IE", "GB", "CH", "US", "BR"} <= set(holiday_calendars())
    assert "ENG" in holiday_calendars()["GB"]
