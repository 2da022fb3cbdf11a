"""The sub-processor clock's pure rules (S3, S4, S6): dates in, dates out, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from subprocessors import deadlines

D = date(2026, 3, 2)
EARLIEST = date(2026, 3, 17)


def test_rule_s3_earliest_access_is_the_notice_date_plus_15_days_across_a_month_end() -> None:
    assert deadlines.earliest_access(D) == EARLIEST
    assert deadlines.earliest_access(date(2024, 2, 14)) == date(2024, 2, 29)
    assert deadlines.earliest_access(date(2025, 12, 31)) == date(2026, 1, 15)


@pytest.mark.parametrize(
    ("last_sent_on", "holding", "expected"),
    [
        (None, 0, D),  # nobody to notify: the Notice went out, to no one, that day
        (date(2026, 3, 2), 0, D),
        (date(2026, 3, 5), 0, date(2026, 3, 5)),  # the last successful delivery
        (date(2026, 3, 5), 1, None),  # a delivery still holds the gate
        (None, 2, None),
    ],
)
def test_rule_s3_the_notice_date_is_the_last_successful_delivery(
    last_sent_on: date | None, holding: int, expected: date | None
) -> None:
    assert (
        deadlines.notice_date(published_on=D, last_sent_on=last_sent_on, holding=holding)
        == expected
    )


def refusal(
    earliest: date | None, began: date | None, *, active: bool = True, today: date = EARLIEST
) -> str | None:
    return deadlines.access_refusal(
        earliest_access_on=earliest, access_began_on=began, active=active, today=today
    )


def test_rule_s3_access_on_the_earliest_access_date_is_allowed_the_day_before_refused() -> None:
    assert refusal(EARLIEST, EARLIEST) is None
    assert "cannot begin before 2026-03-17" in (refusal(EARLIEST, date(2026, 3, 16)) or "")


def test_rule_s3_the_gate_must_have_arrived_today() -> None:
    problem = refusal(EARLIEST, EARLIEST, today=date(2026, 3, 16))
    assert problem
    assert "earliest access date is 2026-03-17" in problem


def test_rule_s3_no_published_change_no_activation_nor_access_date() -> None:
    assert "publish its change" in (refusal(None, EARLIEST) or "")
    assert "publish its change" in (refusal(None, None) or "")
    assert "publish its change" in (refusal(None, EARLIEST, active=False) or "")


def test_rule_s3_active_needs_an_access_date_that_has_come() -> None:
    assert refusal(EARLIEST, None) == "Record the date access to customer data began."
    assert "has not come yet" in (refusal(EARLIEST, date(2026, 3, 18)) or "")


def test_rule_s3_an_announced_row_without_access_date_needs_nothing() -> None:
    assert refusal(None, None, active=False) is None


def test_rule_s4_in_time_on_day_7_out_of_time_on_day_8_and_no_deadline_is_in_time() -> None:
    deadline = deadlines.objection_deadline(D)
    assert deadline == date(2026, 3, 9)
    assert deadlines.objection_in_time(date(2026, 3, 9), deadline)
    assert not deadlines.objection_in_time(date(2026, 3, 10), deadline)
    assert deadlines.objection_in_time(date(2027, 1, 1), None)


# --- S6: the back-off between attempts (elapsed minutes, no legal date).

QUEUED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_rule_s6_never_attempted_is_due_retry_minutes_after_queued() -> None:
    assert deadlines.next_attempt(
        queued_at=QUEUED, attempts=0, last_attempt_at=None, retry_minutes=5
    ) == QUEUED + timedelta(minutes=5)


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 5), (2, 10), (3, 20), (5, 80)])
def test_rule_s6_the_back_off_doubles_after_each_failed_attempt(
    attempts: int, minutes: int
) -> None:
    last = QUEUED + timedelta(hours=1)
    assert deadlines.next_attempt(
        queued_at=QUEUED, attempts=attempts, last_attempt_at=last, retry_minutes=5
    ) == last + timedelta(minutes=minutes)


def test_rule_s6_the_back_off_crosses_midnight_and_a_clock_change_in_elapsed_time() -> None:
    # 2026-03-08 is the US spring-forward day: 40 minutes stay 40 minutes of UTC time.
    last = datetime(2026, 3, 8, 6, 50, tzinfo=UTC)  # 01:50 EST
    assert deadlines.next_attempt(
        queued_at=QUEUED, attempts=4, last_attempt_at=last, retry_minutes=5
    ) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_the_s3_and_s4_lines() -> None:
    access = deadlines.earliest_access_explained(date(2026, 2, 14))
    assert (access.rule, access.result) == ("S3", date(2026, 3, 1))
    assert str(access) == "Notice date 14 Feb 2026 + 15 days = 1 Mar 2026"
    objection = deadlines.objection_deadline_explained(deadlines.delivered_on(date(2026, 3, 3)))
    assert str(objection) == "Notice delivered 24 Feb 2026 + 7 days = 3 Mar 2026"
