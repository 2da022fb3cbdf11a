"""Which client sent a request, for lockouts and rate limits."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
