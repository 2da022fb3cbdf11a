"""Today's legal date (DOMAIN.md T1): the one place where views and admin pages read the
clock for date rules. The rules themselves (``deadlines.py``, ``dates.py``) take dates."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone

from harmonyze_portal.dates import legal_date


def legal_today() -> date:
    return legal_date(timezone.now(), settings.TIME_ZONE)
