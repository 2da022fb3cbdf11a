"""Signed, single-purpose links in the portal's emails (confirm, verify, unsubscribe, object).

Each purpose signs with its own salt, so a token made for one link is refused by every other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core import signing


class LinkError(Exception):
    """The link is forged, damaged, expired or meant for something else."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def make_link_token(payload: dict[str, Any], *, salt: str) -> str:
    return signing.dumps(payload, salt=salt)


def read_link_token[T](
    token: str,
    *,
    salt: str,
    parse: Callable[[Any], T],
    invalid: str,
    expired: str = "",
    max_age: int | None = None,
) -> T:
    """The parsed payload of ``token``, or :class:`LinkError` with ``invalid`` or ``expired``
    as the message the person will read."""
    try:
        return parse(signing.loads(token, salt=salt, max_age=max_age))
    except signing.SignatureExpired:
        raise LinkError(expired or invalid, expired=True) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkError(invalid) from None
