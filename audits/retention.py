"""The audits area's purge of audit plans never confirmed (A2, PP 4)."""

from __future__ import annotations

from audits.services import plan_purge_unconfirmed
from harmonyze_portal import retention

retention.register(
    "audits",
    "unconfirmed audit plan(s)",
    lambda now: plan_purge_unconfirmed(now=now),
)
