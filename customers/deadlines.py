"""Customer-side deadlines (DOMAIN.md C3–C9): dates in, dates out.

Contractual periods are calendar days and never move off weekends (T2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from harmonyze_portal.dates import add_days, legal_date

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
