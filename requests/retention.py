"""The requests area's purge of privacy requests never confirmed (R3, PP 4)."""

from __future__ import annotations

from harmonyze_portal import retention
from requests.services import dsr_purge_unconfirmed

retention.register(
    "requests",
    "unconfirmed privacy request(s)",
    lambda now: dsr_purge_unconfirmed(now=now),
)
