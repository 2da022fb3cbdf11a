"""The customer-side deadlines (DOMAIN.md C3–C9), pure: dates in, dates out, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from customers import deadlines

# --- C3: deletion due = termination + 90 days (DPA 9).


@pytest.mark.parametrize(
    ("termination", "due"),
    [
        (date(2026, 1, 31), date(2026, 5, 1)),
        (date(2024, 2, 29), date(2024, 5, 29)),
        (date(2025, 12, 31), date(2026, 3, 31)),
        (date(2026, 3, 1), date(2026, 5, 30)),
    ],
)
def test_rule_c3_deletion_is_due_ninety_calendar_days_after_termination(
    termination: date, due: date
) -> None:
    assert deadlines.deletion_due(termination) == due
    assert deadlines.deletion_due(termination) == termination + timedelta(days=90)


def test_rule_c3_deletion_due_does_not_move_off_a_weekend() -> None:
    """T2: a contractual period ends on its day, Saturday or not."""
    due = deadlines.deletion_due(date(2026, 3, 9))  # + 90 = Sunday 2026-06-07
    assert due == date(2026, 6, 7)
    assert due.weekday() == 6


# --- C4: credential purge = termination + 30, or an earlier deletion request.


@pytest.mark.parametrize(
    ("termination", "due"),
    [
        (date(2026, 1, 31), date(2026, 3, 2)),
        (date(2024, 2, 29), date(2024, 3, 30)),
        (date(2026, 2, 28), date(2026, 3, 30)),
    ],
)
def test_rule_c4_purge_is_due_thirty_days_after_termination(termination: date, due: date) -> None:
    assert deadlines.credential_purge_due(termination, None) == due


def test_rule_c4_an_earlier_deletion_request_brings_the_purge_forward() -> None:
    termination = date(2026, 1, 31)
    assert deadlines.credential_purge_due(termination, date(2026, 2, 10)) == date(2026, 2, 10)


def test_rule_c4_a_request_on_the_last_allowed_day_is_that_day() -> None:
    termination = date(2026, 1, 31)
    assert deadlines.credential_purge_due(termination, date(2026, 3, 1)) == date(2026, 3, 1)
    assert deadlines.credential_purge_due(termination, date(2026, 3, 2)) == date(2026, 3, 2)


def test_rule_c4_a_request_after_the_thirty_days_does_not_extend_them() -> None:
    termination = date(2024, 2, 29)
    assert deadlines.credential_purge_due(termination, date(2024, 3, 31)) == date(2024, 3, 30)
    assert deadlines.credential_purge_due(termination, date(2024, 6, 1)) == date(2024, 3, 30)


def test_rule_c4_a_request_before_termination_takes_effect_on_the_termination_date() -> None:
    """PP 4: data is not purged while the account is live."""
    termination = date(2026, 1, 31)
    assert deadlines.credential_purge_due(termination, date(2026, 1, 30)) == termination
    assert deadlines.credential_purge_due(termination, date(2025, 6, 1)) == termination
    assert deadlines.credential_purge_due(termination, termination) == termination


# --- C5: breach notice target = awareness + 72 hours (configurable).


def test_rule_c5_the_notice_target_is_seventy_two_hours_after_awareness() -> None:
    aware = datetime(2026, 1, 31, 22, 15, tzinfo=UTC)
    assert deadlines.breach_notice_due(aware, 72) == datetime(2026, 2, 3, 22, 15, tzinfo=UTC)


def test_rule_c5_the_target_crosses_feb_29() -> None:
    aware = datetime(2024, 2, 28, 9, 0, tzinfo=UTC)
    assert deadlines.breach_notice_due(aware, 72) == datetime(2024, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("hours", "expected_day"), [(24, 1), (48, 2), (96, 4)])
def test_rule_c5_the_target_hours_are_configurable(hours: int, expected_day: int) -> None:
    aware = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    due = deadlines.breach_notice_due(aware, hours)
    assert due == aware + timedelta(hours=hours)
    assert due.day == 1 + expected_day


def test_rule_c5_the_target_counts_elapsed_hours_across_a_dst_change() -> None:
    """72 real hours, even when New York springs forward (2026-03-08) in between."""
    aware = datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    due = deadlines.breach_notice_due(aware, 72)
    assert (due.astimezone(UTC) - aware.astimezone(UTC)) == timedelta(hours=72)


# --- C6: assistance due = received + the service target.


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        (date(2026, 1, 31), 30, date(2026, 3, 2)),
        (date(2024, 2, 29), 30, date(2024, 3, 30)),
        (date(2024, 1, 30), 30, date(2024, 2, 29)),
        (date(2026, 1, 31), 10, date(2026, 2, 10)),
    ],
)
def test_rule_c6_assistance_is_due_the_target_days_after_receipt(
    received: date, days: int, due: date
) -> None:
    assert deadlines.assistance_due(received, days) == due


# --- The deadline line (T5) ------------------------------------------------------------------


def test_the_c3_line_counts_90_days_from_termination() -> None:
    line = deadlines.deletion_due_explained(date(2026, 11, 5))
    assert line.result == deadlines.deletion_due(date(2026, 11, 5)) == date(2027, 2, 3)
    assert str(line) == "terminated 5 Nov 2026 + 90 days = 3 Feb 2027"


def test_the_c4_line_says_which_date_wins() -> None:
    termination = date(2026, 3, 1)
    assert str(deadlines.credential_purge_due_explained(termination, None)) == (
        "terminated 1 Mar 2026 + 30 days = 31 Mar 2026"
    )
    earlier = deadlines.credential_purge_due_explained(termination, date(2026, 3, 10))
    assert earlier.result == date(2026, 3, 10)
    assert str(earlier).endswith("deletion asked earlier, on 10 Mar 2026 → 10 Mar 2026")
    before = deadlines.credential_purge_due_explained(termination, date(2026, 2, 1))
    assert before.result == termination
    assert "before termination → 1 Mar 2026 (never before termination)" in str(before)
    later = deadlines.credential_purge_due_explained(termination, date(2026, 4, 30))
    assert later.result == date(2026, 3, 31)  # the 30 days end first: the request adds nothing


def test_the_c5_line_counts_elapsed_hours_across_the_clock_change() -> None:
    new_york = ZoneInfo("America/New_York")
    aware = datetime(2026, 3, 7, 12, tzinfo=new_york)  # EST; DST starts on 8 March
    due = deadlines.breach_notice_due(aware, 72)
    line = deadlines.breach_notice_due_explained(aware, due, new_york)
    assert str(line).startswith("aware 7 Mar 2026 12:00 EST + 72 hours = 10 Mar 2026 13:00 EDT")
    assert line.result == date(2026, 3, 10)


# --- C8: a notice about an instruction is due the legal day it is identified (DPA 2.3).

NEW_YORK = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def test_rule_c8_identified_at_2359_is_due_that_same_legal_day() -> None:
    identified = ny(2026, 3, 3, 23, 59)  # already 2026-03-04 04:59 in UTC
    assert deadlines.instruction_notice_due(identified, NEW_YORK) == date(2026, 3, 3)
    # Sent one minute later, at 00:01 on the next legal day: late.
    assert deadlines.instruction_notice_late(identified, ny(2026, 3, 4, 0, 1), NEW_YORK)
    # Sent at 23:59:59 the same day: on time.
    last_moment = datetime(2026, 3, 3, 23, 59, 59, tzinfo=NEW_YORK)
    assert not deadlines.instruction_notice_late(identified, last_moment, NEW_YORK)


def test_rule_c8_identified_at_0001_has_the_whole_legal_day() -> None:
    identified = ny(2026, 3, 4, 0, 1)  # 05:01 UTC, the same date in both zones
    assert deadlines.instruction_notice_due(identified, NEW_YORK) == date(2026, 3, 4)
    assert not deadlines.instruction_notice_late(identified, ny(2026, 3, 4, 23, 58), NEW_YORK)
    assert deadlines.instruction_notice_late(identified, ny(2026, 3, 5, 0, 0), NEW_YORK)


def test_rule_c8_the_legal_day_is_new_yorks_not_utcs() -> None:
    """T1: 2026-03-04 02:00 UTC is still the evening of 2026-03-03 in New York."""
    identified = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    assert deadlines.instruction_notice_due(identified, NEW_YORK) == date(2026, 3, 3)


def test_rule_c8_an_unsent_notice_is_not_late_yet() -> None:
    assert not deadlines.instruction_notice_late(ny(2026, 3, 3, 9, 0), None, NEW_YORK)


# --- C9: a legal hold keeps data from its start until the day it is released (DPA 9).

TERMINATED = date(2026, 1, 31)
DELETION_DUE = date(2026, 5, 1)  # C3: + 90 days


@pytest.mark.parametrize(
    ("started", "released", "held"),
    [
        (date(2026, 5, 1), None, True),  # started on the deletion date: held that day
        (date(2026, 5, 2), None, False),  # started the day after: not yet on the 1st
        (date(2026, 3, 1), date(2026, 5, 1), False),  # released on the day: deletable
        (date(2026, 3, 1), date(2026, 5, 2), True),  # released the day after: held
    ],
)
def test_rule_c9_a_hold_around_the_90_day_deletion_date(
    started: date, released: date | None, held: bool
) -> None:
    assert deadlines.deletion_due(TERMINATED) == DELETION_DUE
    assert deadlines.hold_active_on(DELETION_DUE, started, released) is held
    assert deadlines.deletion_held(DELETION_DUE, [(started, released)], DELETION_DUE) is held


def test_rule_c9_a_hold_does_not_hold_a_deletion_that_is_not_due() -> None:
    """An active customer has no deletion to hold; the hold is still a termination conflict."""
    assert not deadlines.deletion_held(None, [(date(2026, 3, 1), None)], DELETION_DUE)
