"""The DPA's sub-processor clock (DOMAIN.md S3, S4): dates in, dates out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from harmonyze_portal.dates import Computation, add_days, period_explained, unit_text

NOTICE_DAYS = 15
OBJECTION_DAYS = 7


def earliest_access(notice_date: date) -> date:
    """S3 (DPA 5.1): the new sub-processor may access Customer Personal Data no earlier than
    the Notice date + 15 days."""
    return add_days(notice_date, NOTICE_DAYS)


def notice_date(*, published_on: date, last_sent_on: date | None, holding: int) -> date | None:
    """S3 (DPA 5.1, as revised): the Notice date is the legal date by which the Notice had been
    sent to every active signup, i.e. of the last successful delivery.

    ``holding`` counts the deliveries that hold the gate: still queued (retrying), or failed for
    good without counsel's decision to proceed without the address. While any holds it there is
    no Notice date, so no earliest access date. A failed delivery sent three days later moves
    the date three days. Nobody to notify (or nobody reached and every address waived): the
    Notice went out, to no one, on the day it was published.
    """
    if holding:
        return None
    if last_sent_on is None:
        return published_on
    return max(last_sent_on, published_on)


def notice_date_refusal(
    *, typed: date | None, stored: date | None, due: date | None, access_began: bool
) -> str | None:
    """S3 (DPA 5.1): why a Change may not take the Notice date ``typed`` (``stored`` is the one
    it has); None when it may. The Notice date is never typed: it is ``due``, what the
    deliveries give (see ``notice_date``), and once access has begun on it, the date that
    admitted the access stays."""
    if typed == stored:
        return None
    if stored is not None and access_began:
        return (
            f"The Notice date {stored:%Y-%m-%d} admitted the sub-processor's access: it no "
            "longer moves (S3)."
        )
    if typed == due:
        return None
    if due is None:
        return (
            "No Notice date yet: a delivery still holds the gate (queued, or failed for good "
            "without counsel's decision to proceed without the address) (S3, DPA 5.1)."
        )
    return (
        f"The Notice date is the day the Notice had reached every active signup, "
        f"{due:%Y-%m-%d} from the deliveries; it is not typed (S3, DPA 5.1)."
    )


def access_refusal(
    *,
    earliest_access_on: date | None,
    access_began_on: date | None,
    active: bool,
    today: date,
    withdrawn_on: date | None = None,
) -> str | None:
    """S3 (DPA 5.1): why a sub-processor may not be active, or have an access date, yet; None
    when it may. Only a published Change whose earliest access date (Notice date + 15 days) has
    arrived opens the gate, and access cannot be recorded as beginning before that date, nor
    after today (it is a fact that happened).

    ``withdrawn_on``: the sub-processor was withdrawn (retired) that day and no change has
    announced it since; coming back is an intended addition again, with its own Notice."""
    if not active and access_began_on is None:
        return None
    if earliest_access_on is None and withdrawn_on is not None:
        return (
            f"This sub-processor was withdrawn on {withdrawn_on:%Y-%m-%d}: it returns only as a "
            "new addition. Publish a new change announcing it, wait until the Notice has reached "
            "every active signup, then 15 days (S3, DPA 5.1)."
        )
    if earliest_access_on is None:
        return (
            "No published change with a Notice date announces this sub-processor: publish its "
            "change, and wait until the Notice has reached every active signup, then 15 days "
            "(S3, DPA 5.1)."
        )
    if earliest_access_on > today:
        return (
            f"The earliest access date is {earliest_access_on:%Y-%m-%d} (Notice date + 15 "
            "days, DPA 5.1): the sub-processor cannot be active or have access before it (S3)."
        )
    if access_began_on is None:
        return "Record the date access to customer data began."
    if access_began_on < earliest_access_on:
        return (
            f"Access cannot begin before {earliest_access_on:%Y-%m-%d}: the Notice date + 15 days "
            "(S3, DPA 5.1)."
        )
    if access_began_on > today:
        return "Access began on a date that has not come yet: record it once access has begun."
    return None


def objection_deadline(delivered_on: date) -> date:
    """S4 (DPA 5.1): a customer may object within 7 days of receiving the Notice; the last
    day in time is the delivery date + 7."""
    return add_days(delivered_on, OBJECTION_DAYS)


def objection_in_time(received_on: date, deadline: date | None) -> bool:
    """S4 (DPA 5.1): an objection received on or before its deadline is in time. No deadline:
    the Notice never reached that customer, so its 7 days have not started and it is in
    time."""
    return deadline is None or received_on <= deadline


def next_attempt(
    *, queued_at: datetime, attempts: int, last_attempt_at: datetime | None, retry_minutes: int
) -> datetime:
    """S6 (every active signup receives each Notice): when a queued delivery is tried again.

    Never attempted: ``retry_minutes`` after it was queued (the publishing task normally sends
    it long before; this catches a task that never ran). After the n-th failed attempt:
    ``retry_minutes`` × 2^(n−1) after that attempt, so 5, 10, 20, 40 minutes by default.
    Elapsed time, not calendar days: the delay is about the mail server, not a legal date.
    """
    if attempts == 0 or last_attempt_at is None:
        return queued_at + timedelta(minutes=retry_minutes)
    return last_attempt_at + timedelta(minutes=retry_minutes * 2 ** (attempts - 1))


def claim_expires(*, claimed_at: datetime, lease_minutes: int) -> datetime:
    """S6 (each Notice exactly once): when a worker's claim on a delivery lapses.

    A worker marks a delivery "sending", its attempt counted, before the SMTP exchange. If the
    worker dies (SIGKILL, a lost machine) the claim lapses ``lease_minutes`` later and the
    delivery is tried again as a further attempt: at most one duplicate per crash, carrying the
    same Message-ID, and the attempt cap still ends it. The lease must outlast a claimed batch.
    """
    return claimed_at + timedelta(minutes=lease_minutes)


def earliest_access_explained(notice_date: date) -> Computation:
    """S3 (DPA 5.1): "Notice date 1 Mar 2026 + 15 days = 16 Mar 2026"."""
    return period_explained(
        "S3",
        start_label="Notice date",
        start=notice_date,
        amount=unit_text(NOTICE_DAYS, "days"),
        result=earliest_access(notice_date),
    )


def delivered_on(deadline: date) -> date:
    """S4: the delivery date a stored objection deadline was counted from."""
    return add_days(deadline, -OBJECTION_DAYS)


def objection_deadline_explained(delivered_on: date) -> Computation:
    """S4 (DPA 5.1): "Notice delivered 1 Mar 2026 + 7 days = 8 Mar 2026"."""
    return period_explained(
        "S4",
        start_label="Notice delivered",
        start=delivered_on,
        amount=unit_text(OBJECTION_DAYS, "days"),
        result=objection_deadline(delivered_on),
    )
