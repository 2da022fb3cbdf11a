"""Statutory response clocks for data subject requests (DOMAIN.md R3, T3, T4), and the
customer notice and order review of law-enforcement demands (R4).

Each regime is data (a row of ``Regime``); these functions only do the arithmetic. Holidays
and the review period are passed in; nothing here reads the clock, the settings or the
database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from harmonyze_portal.dates import (
    Computation,
    add_days,
    add_months,
    add_working_days,
    moved_explained,
    next_working_day,
    period_explained,
    unit_text,
)

DAYS = "days"
MONTHS = "months"
BUSINESS_DAYS = "business_days"


def add_period(start: date, value: int, unit: str, holidays: Collection[date] = ()) -> date:
    """``start`` + ``value`` calendar days, calendar months (T3) or working days."""
    if unit == DAYS:
        return add_days(start, value)
    if unit == MONTHS:
        return add_months(start, value)
    if unit == BUSINESS_DAYS:
        return add_working_days(start, value, holidays)
    raise ValueError(f"unknown period unit {unit!r}")


def statutory_end(end: date, moves_off_weekends: bool, holidays: Collection[date] = ()) -> date:
    """T4: a statutory deadline on a weekend or public holiday moves to the next working day,
    where the regime says so."""
    return next_working_day(end, holidays) if moves_off_weekends else end


def respond_by(
    received: date,
    value: int,
    unit: str,
    *,
    moves_off_weekends: bool,
    holidays: Collection[date] = (),
) -> date:
    """R3: the response deadline from the legal date of receipt (GDPR: one month; CCPA: 45
    days; LGPD: 15 days ...)."""
    return statutory_end(add_period(received, value, unit, holidays), moves_off_weekends, holidays)


def extended_to(
    received: date,
    value: int,
    unit: str,
    extension_value: int,
    extension_unit: str,
    *,
    moves_off_weekends: bool,
    holidays: Collection[date] = (),
) -> date:
    """R3: the extended deadline: GDPR one month + two further months; CCPA 45 + 45 days,
    both counted from the legal date of receipt, with T4 applied once, at the end.

    Two traps. In one unit the total counts from receipt (T3): Jan 31 + 3 months is Apr 30,
    where chaining the clamped Feb 28 + 2 months would lose two days. And the extension is
    added to the period, not to the original deadline as moved by T4: received 2026-01-28, the
    month ends on Saturday 2026-02-28 (moved to Monday 2026-03-02), and the extension ends on
    2026-04-28, three months from receipt, not 2026-05-04 (2 months after that Monday)."""
    if extension_unit == unit:
        end = add_period(received, value + extension_value, unit, holidays)
    else:
        end = add_period(
            add_period(received, value, unit, holidays), extension_value, extension_unit, holidays
        )
    return statutory_end(end, moves_off_weekends, holidays)


def acknowledge_by(received: date, business_days: int, holidays: Collection[date] = ()) -> date:
    """R3 (CCPA): confirm receipt within 10 business days."""
    return add_working_days(received, business_days, holidays)


def dsr_customer_notice_due(received: date, target_days: int) -> date:
    """R1 (SCC Clause 10(a)): the customer is notified "promptly" of a request about its
    Service Data; the house target is ``target_days`` calendar days after receipt (T2). A house
    target, not a statutory period: it never moves off weekends (T4)."""
    return add_days(received, target_days)


def customer_notice_due(
    *, received: date, compelled: bool, nondisclosure_order: bool, order_ends: date | None
) -> date | None:
    """R4 (PP 5): the day from which Harmonyze owes the customer notice of a compelled demand,
    so it can seek a protective order. ``None``: no notice is owed (not compelled), or an order
    without an end date forbids it (its review comes up instead, :func:`order_review_due`).

    Without an order the notice is owed from receipt. With one, from the day after its last
    binding day: an order binding through 2026-05-14 makes the notice due on 2026-05-15. (The
    trap: comparing "ends < today" in one place and "due = ends" in another puts the same
    notice a day apart on two screens; store this date and compare it alone.)
    """
    if not compelled:
        return None
    if not nondisclosure_order:
        return received
    if order_ends is None:
        return None
    return add_days(order_ends, 1)


def order_review_due(
    *,
    nondisclosure_order: bool,
    order_starts: date | None,
    order_ends: date | None,
    last_review: date | None,
    review_days: int,
) -> date | None:
    """R4, SCC Clause 15.1(b): an order without an end date never lets the notice fall due, so
    it comes up for review ``review_days`` (90 by default) after it started, and again that
    long after each recorded effort to lift it. Starts 2026-01-01 → review 2026-04-01; an
    effort recorded 2026-03-15 → next review 2026-06-13. ``None`` for an order with an end
    date (the notice follows it) or no order.
    """
    if not nondisclosure_order or order_ends is not None or order_starts is None:
        return None
    since = max(order_starts, last_review) if last_review else order_starts
    return add_days(since, review_days)


def respond_by_explained(
    *, rule: str, label: str, received: date, value: int, unit: str, due: date, calendar: str
) -> Computation:
    """R3 (T3, T4): how a stored statutory deadline ``due`` was reached: "received 5 Nov 2026
    + 1 month = 5 Dec 2026, a Saturday → 7 Dec 2026 (T4, IE calendar)". Pure: the move is read
    from ``due`` itself (the holidays that made it are in the regime's calendar)."""
    if unit == BUSINESS_DAYS:  # counted on working days already (CCPA's "10 business days")
        return period_explained(
            rule,
            start_label=label,
            start=received,
            amount=unit_text(value, unit),
            result=due,
            note=f"{calendar} calendar",
        )
    end = add_period(received, value, unit)
    counted = period_explained(
        rule, start_label=label, start=received, amount=unit_text(value, unit), result=end
    )
    return moved_explained(counted, due, calendar)


def dsr_customer_notice_explained(received: date, due: date) -> Computation:
    """R1 (SCC Clause 10(a)): "received 5 Nov 2026 + 3 days = 8 Nov 2026 (house target)"."""
    return period_explained(
        "R1",
        start_label="received",
        start=received,
        amount=unit_text((due - received).days, DAYS),
        result=due,
        note="house target",
    )
