"""Which client sent a request, for lockouts and rate limits."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)
_warned_about_depth = False


def _warn_once_about_depth(found: int, hops: int) -> None:
    """TRUSTED_PROXY_COUNT set without that many proxies in front lets every client write its
    own address into X-Forwarded-For, and so dodge lockouts and rate limits: say so, once per
    process, the first time a request shows it."""
    global _warned_about_depth
    if _warned_about_depth:
        return
    _warned_about_depth = True
    logger.warning(
        "TRUSTED_PROXY_COUNT is %d but a request arrived with %d X-Forwarded-For entries: "
        "if no proxy sits in front of the portal, clients choose the address lockouts and "
        "rate limits count. Set TRUSTED_PROXY_COUNT to the number of proxies (0 for none).",
        hops,
        found,
    )


def client_ip(request: HttpRequest) -> str | None:
    """The client address, trusting exactly ``TRUSTED_PROXY_COUNT`` proxies.

    Each trusted proxy appends the address it received the request from to
    ``X-Forwarded-For``, so the client is the N-th entry from the *right*. Entries to the left of
    it were written by the client and are ignored: a forged header cannot change who we count.
    With no trusted proxy (the default) the socket address is the client. ``None`` when the
    request carries no address at all (internal requests such as the test client's
    ``force_login``).
    """
    remote: str | None = request.META.get("REMOTE_ADDR") or None
    hops: int = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        # Fewer entries than proxies: the request did not come through all of them.
        _warn_once_about_depth(len(forwarded), hops)
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
