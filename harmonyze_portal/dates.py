"""Date arithmetic of DOMAIN.md T1–T4, as pure functions.

No ``now()``, no settings, no database: callers pass the time zone and the holidays, so every
rule can be tested at its edges with plain dates.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_library


def legal_date(moment: datetime, tz: ZoneInfo | str) -> date:
    """T1: the date of ``moment`` in the legal time zone.

    Datetimes are stored in UTC; 2026-03-01 03:00 UTC is still 2026-02-28 in New York.
    A naive datetime is refused: guessing its zone is how deadlines drift by a day.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("legal_date() needs an aware datetime; naive datetimes are ambiguous.")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return moment.astimezone(zone).date()


def add_days(day: date, days: int) -> date:
    """T2: "N days after D" is D + N calendar days (negative N goes back)."""
    return day + timedelta(days=days)


def latest_day_before(day: date, days: int) -> date:
    """T2: "at least N days before D" means on or before D − N; returns D − N."""
    return day - timedelta(days=days)


def add_months(day: date, months: int) -> date:
    """T3: add calendar months, clamping to the target month's last day.

    2026-01-31 + 1 month = 2026-02-28; 2024-01-31 + 1 month = 2024-02-29;
    2024-02-29 − 12 months = 2023-02-28. Negative ``months`` go back.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month_index = divmod(index, 12)
    month = month_index + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def subtract_months(day: date, months: int) -> date:
    """T3 backwards: "N months before D"."""
    return add_months(day, -months)


def holiday_calendars() -> dict[str, list[str]]:
    """The calendars the maintained ``holidays`` library offers: country code → subdivisions."""
    return holiday_library.list_supported_countries()


@functools.cache
def calendar_holidays(country: str, subdivision: str, years: tuple[int, ...]) -> frozenset[date]:
    """T4: the public holidays of one country (or one of its subdivisions) in ``years``, from
    the ``holidays`` library, observed days included (US 2026-07-03 for the 4th, a Saturday).

    A country without a subdivision gets its nationwide days only: "GB" has no Easter Monday
    (not a bank holiday in Scotland), "CH" only the four federal days. Unknown codes raise
    ``NotImplementedError`` (the library's); callers validate the code when it is entered.
    Cached: the library's calendars do not change while the process runs.
    """
    days = holiday_library.country_holidays(country, subdiv=subdivision or None, years=years)
    return frozenset(days)


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    """Monday to Friday and not a configured public holiday (T4)."""
    return day.weekday() < 5 and day not in holidays


def next_working_day(day: date, holidays: Collection[date] = ()) -> date:
    """T4: ``day`` itself if it is a working day, else the next one.

    Only statutory deadlines move; contractual DPA deadlines (T2, T3) never call this.
    """
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, days: int, holidays: Collection[date] = ()) -> date:
    """``days`` working days after ``day`` (CCPA's "10 business days", R3); ``day`` itself
    does not count."""
    if days < 0:
        raise ValueError("add_working_days() counts forwards only.")
    current = day
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            remaining -= 1
    return current


def day_text(day: date) -> str:
    """A legal date as the explanations write it: "5 Nov 2026"."""
    return f"{day.day} {day:%b %Y}"


def unit_text(value: int, unit: str) -> str:
    """ "1 month", "45 days", "10 business days"."""
    name = unit.replace("_", " ")
    if value == 1 and name.endswith("s"):
        name = name[:-1]
    return f"{value} {name}"


@dataclass(frozen=True)
class Computation:
    """How a deadline was computed (T5), as the deadline line says it: "received 5 Nov 2026
    + 1 month = 5 Dec 2026, a Saturday → 7 Dec 2026 (T4, Ireland calendar)".

    Built from the inputs and the stored result by the ``*_explained`` functions of each area's
    ``deadlines.py``; pure like them.
    """

    rule: str
    result: date
    steps: tuple[str, ...]

    def __str__(self) -> str:
        return ", ".join(self.steps)


def period_explained(
    rule: str,
    *,
    start_label: str,
    start: date,
    amount: str,
    result: date,
    sign: str = "+",
    note: str = "",
) -> Computation:
    """ "terminated 5 Nov 2026 + 90 days = 3 Feb 2027" (T2, T3): a contractual period that
    never moves off weekends."""
    step = f"{start_label} {day_text(start)} {sign} {amount} = {day_text(result)}"
    return Computation(rule, result, (step + (f" ({note})" if note else ""),))


def moved_explained(computation: Computation, moved_to: date, calendar_name: str) -> Computation:
    """T4: a statutory end moved off a weekend or holiday to ``moved_to``; unchanged when it
    did not move."""
    end = computation.result
    if moved_to == end:
        return computation
    why = f"a {end:%A}" if end.weekday() >= 5 else "a public holiday or closure day"
    step = f"{why} → {day_text(moved_to)} (T4, {calendar_name} calendar)"
    return Computation(computation.rule, moved_to, (*computation.steps, step))
