"""How the portal writes a moment for staff and for files (issue 15, rule T1).

Pages: ``2026-11-05`` for a date and ``2026-11-05 14:39 EST`` for a time, in the legal time
zone with its abbreviation (the same forms as ``harmonyze_portal/formats/en/formats.py`` gives
Django's lists and change pages). Files (CSV, XLSX, the history export): ISO 8601 with the
legal zone's offset to the second, ``2026-11-05T14:39:04-05:00``, which any tool reads back
to the same instant.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

DATE = "%Y-%m-%d"
DATETIME = "%Y-%m-%d %H:%M %Z"


def legal_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def staff_date(value: date | None) -> str:
    """``2026-11-05``; a datetime is first taken to its legal date (T1)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value, legal_zone()).date()
    return f"{value:{DATE}}"


def staff_datetime(value: datetime | None) -> str:
    """``2026-11-05 14:39 EST``: the legal time zone, named."""
    return f"{timezone.localtime(value, legal_zone()):{DATETIME}}" if value else ""


def legal_iso(value: datetime) -> str:
    """ISO 8601 in the legal time zone with its offset, to the second."""
    return timezone.localtime(value, legal_zone()).isoformat(timespec="seconds")


def legal_midnight(day: date) -> datetime:
    """The instant ``day`` begins in the legal time zone (midnight exists there every day:
    the US and EU clocks change at 01:00 or later)."""
    return datetime.combine(day, time.min, tzinfo=legal_zone())
