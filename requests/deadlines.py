"""Statutory response clocks for data subject requests (DOMAIN.md R3, T3, T4).

Each regime is data (a row of ``Regime``); these functions only do the arithmetic. Holidays
are passed in; nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from harmonyze_portal.dates import add_days, add_months, add_working_days, next_working_day

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


def customer_notice_due(received: date, target_days: int) -> date:
    """R1 (SCC Clause 10(a)): the customer is notified "promptly" of a request about its
    Service Data; the house target is ``target_days`` calendar days after receipt (T2). A house
    target, not a statutory period: it never moves off weekends (T4)."""
    return add_days(received, target_days)
