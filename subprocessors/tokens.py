"""Signed, single-purpose tokens for the links in Notice Form emails (S2, S4).

Each purpose has its own salt, so a token made for one link is refused by every other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

CONFIRM = "subprocessors.signup.confirm"
UNSUBSCRIBE = "subprocessors.signup.unsubscribe"
OBJECT = "subprocessors.change.object"


class TokenError(Exception):
    """The link is forged, damaged, expired or meant for something else."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class ObjectionToken:
    signup_id: int
    change_id: int


def confirm_token(signup_id: int, email: str) -> str:
    return signing.dumps({"s": signup_id, "e": email.lower()}, salt=CONFIRM)


def read_confirm_token(token: str) -> tuple[int, str]:
    try:
        data = signing.loads(token, salt=CONFIRM, max_age=settings.NOTICE_CONFIRM_HOURS * 3600)
    except signing.SignatureExpired:
        raise TokenError(
            f"This confirmation link has expired (links are valid for "
            f"{settings.NOTICE_CONFIRM_HOURS} hours). Sign up again to get a new one.",
            expired=True,
        ) from None
    except signing.BadSignature:
        raise TokenError(
            "This confirmation link is not valid. Copy the whole link from the email."
        ) from None
    return int(data["s"]), str(data["e"])


def unsubscribe_token(signup_id: int) -> str:
    return signing.dumps({"s": signup_id}, salt=UNSUBSCRIBE)


def read_unsubscribe_token(token: str) -> int:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE)["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise TokenError(
            "This unsubscribe link is not valid. Copy the whole link from the email."
        ) from None


def objection_token(signup_id: int, change_id: int) -> str:
    return signing.dumps({"s": signup_id, "c": change_id}, salt=OBJECT)


def read_objection_token(token: str, change_id: int) -> ObjectionToken:
    try:
        data = signing.loads(token, salt=OBJECT)
        parsed = ObjectionToken(signup_id=int(data["s"]), change_id=int(data["c"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise TokenError(
            "This objection link is not valid. Copy the whole link from the Notice."
        ) from None
    if parsed.change_id != change_id:
        raise TokenError("This objection link belongs to another change.")
    return parsed
