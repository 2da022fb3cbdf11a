"""The subprocessors area's purge of Notice Form signups never confirmed (S2, PP 4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from harmonyze_portal import retention
from harmonyze_portal.history import acting_as
from subprocessors.models import Signup

PURGE_ACTOR = "task: purge unconfirmed signups"


def signup_purge_unconfirmed(*, now: datetime) -> int:
    """S2, PP 4: an address whose owner never confirmed it is not a signup; once its newest
    link has expired it is deleted, and its history keeps that it was purged, not the address
    or the IP (:func:`harmonyze_portal.retention.forget`). Returns how many."""
    cutoff = now - timedelta(hours=settings.NOTICE_CONFIRM_HOURS)
    purged = 0
    with acting_as(PURGE_ACTOR, reason="Email never confirmed: the link expired (S2, PP 4)"):
        for signup in Signup.objects.never_confirmed_before(cutoff).order_by("pk"):
            retention.forget(signup)
            purged += 1
    return purged


retention.register(
    "subprocessors",
    "unconfirmed Notice Form signup(s)",
    lambda now: signup_purge_unconfirmed(now=now),
)
