"""Customer-side deadlines (DOMAIN.md C3–C9): dates in, dates out.

Contractual periods are calendar days and never move off weekends (T2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from harmonyze_portal.dates import (
    Computation,
    add_days,
    day_text,
    legal_date,
    period_explained,
    unit_text,
)

DELETION_DAYS = 90
CREDENTIAL_PURGE_DAYS = 30


def deletion_due(termination: date) -> date:
    """C3 (DPA 9): Customer Personal Data is deleted within 90 days of termination."""
    return add_days(termination, DELETION_DAYS)


def credential_purge_due(termination: date, earlier_deletion_requested: date | None) -> date:
    """C4 (PP 4): data and credentials are kept at most 30 days after termination, unless the
    customer asks for deletion earlier: then the request date, and never before termination
    (a request made while the account is live takes effect when it ends)."""
    latest = add_days(termination, CREDENTIAL_PURGE_DAYS)
    if earlier_deletion_requested is None:
        return latest
    return min(latest, max(termination, earlier_deletion_requested))


def breach_notice_due(aware_at: datetime, target_hours: int) -> datetime:
    """C5 (DPA 7): the house target for notifying each affected customer.

    Elapsed hours, counted in UTC (T1): adding hours to a New York wall-clock time would give
    71 or 73 real hours across a daylight-saving change.
    """
    return aware_at.astimezone(UTC) + timedelta(hours=target_hours)


def assistance_due(received: date, target_days: int) -> date:
    """C6: the service target for an assistance request."""
    return add_days(received, target_days)


# How each deadline was computed (T5), for the deadline line on the desk and the pages.


def deletion_due_explained(termination: date) -> Computation:
    """C3 (DPA 9): "terminated 5 Nov 2026 + 90 days = 3 Feb 2027"."""
    return period_explained(
        "C3",
        start_label="terminated",
        start=termination,
        amount=unit_text(DELETION_DAYS, "days"),
        result=deletion_due(termination),
    )


def credential_purge_due_explained(
    termination: date, earlier_deletion_requested: date | None
) -> Computation:
    """C4 (PP 4): the 30 days, and the earlier deletion request that shortens them."""
    latest = period_explained(
        "C4",
        start_label="terminated",
        start=termination,
        amount=unit_text(CREDENTIAL_PURGE_DAYS, "days"),
        result=add_days(termination, CREDENTIAL_PURGE_DAYS),
    )
    due = credential_purge_due(termination, earlier_deletion_requested)
    if earlier_deletion_requested is None or due == latest.result:
        return latest
    asked = day_text(earlier_deletion_requested)
    step = (
        f"deletion asked earlier, on {asked} → {day_text(due)}"
        if due == earlier_deletion_requested
        else f"deletion asked on {asked}, before termination → {day_text(due)} "
        "(never before termination)"
    )
    return Computation("C4", due, (*latest.steps, step))


def breach_notice_due_explained(aware_at: datetime, due_at: datetime, tz: ZoneInfo) -> Computation:
    """C5 (DPA 7): "aware 5 Nov 2026 14:00 EST + 72 hours = 8 Nov 2026 14:00 EST (house
    target)"; the hours are elapsed hours, so the zone names may differ across a clock change."""
    hours = round((due_at - aware_at).total_seconds() / 3600)
    aware, due = aware_at.astimezone(tz), due_at.astimezone(tz)
    step = (
        f"aware {day_text(aware.date())} {aware:%H:%M %Z} + {hours} hours = "
        f"{day_text(due.date())} {due:%H:%M %Z} (house target; DPA 7 says without undue delay)"
    )
    return Computation("C5", due.date(), (step,))


def instruction_notice_due(identified_at: datetime, tz: ZoneInfo) -> date:
    """C8 (DPA 2.3): Harmonyze informs the customer "immediately" that an instruction infringes
    the Data Protection Laws: due the same legal day it is identified (T1).

    The legal day, not 24 hours: identified at 23:59 in New York, the notice is due that very
    day, one minute later; at 00:01 it has the whole day. A UTC date would be wrong for the
    evening hours, when New York is still on the day before. DPA 2.4 names no period for the
    notice that Harmonyze cannot meet its obligations; the portal holds it to the same day.
    """
    return legal_date(identified_at, tz)


def instruction_notice_late(
    identified_at: datetime, sent_at: datetime | None, tz: ZoneInfo
) -> bool:
    """C8: a notice sent on a later legal day than the one it was identified on is late."""
    if sent_at is None:
        return False
    return legal_date(sent_at, tz) > instruction_notice_due(identified_at, tz)


def hold_active_on(day: date, started: date, released: date | None) -> bool:
    """C9 (DPA 9): a legal hold keeps data from its start day; released on D, it no longer
    holds on D (the data is deletable that day)."""
    return started <= day and (released is None or day < released)


def deletion_held(
    deletion_due: date | None, holds: list[tuple[date, date | None]], today: date
) -> bool:
    """C9: whether the C3 deletion is held today: it is still to be done (``deletion_due`` set)
    and a hold (start, release) is active today. The due date itself never moves: a hold keeps
    only the data it names, and the rest is deleted on time (DPA 9)."""
    if deletion_due is None:
        return False
    return any(hold_active_on(today, started, released) for started, released in holds)
