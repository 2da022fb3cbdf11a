"""Customer-side deadlines (DOMAIN.md C3–C6): dates in, dates out.

Contractual periods are calendar days and never move off weekends (T2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from harmonyze_portal.dates import add_days

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
