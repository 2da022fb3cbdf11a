"""Signed, single-purpose tokens for the links in Notice Form emails (S2, S4).

Each purpose has its own salt, so a token made for one link is refused by every other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from harmonyze_portal.links import LinkError, make_link_token, read_link_token

CONFIRM = "subprocessors.signup.confirm"
UNSUBSCRIBE = "subprocessors.signup.unsubscribe"
OBJECT = "subprocessors.change.object"


@dataclass(frozen=True)
class ObjectionToken:
    signup_id: int
    change_id: int


@dataclass(frozen=True)
class ConfirmToken:
    signup_id: int
    email: str
    version: int  # the signup's ``link_version`` when the link was sent


def confirm_token(signup_id: int, email: str, version: int) -> str:
    return make_link_token({"s": signup_id, "e": email.lower(), "v": version}, salt=CONFIRM)


def read_confirm_token(token: str) -> ConfirmToken:
    return read_link_token(
        token,
        salt=CONFIRM,
        parse=lambda data: ConfirmToken(
            signup_id=int(data["s"]), email=str(data["e"]), version=int(data["v"])
        ),
        max_age=settings.NOTICE_CONFIRM_HOURS * 3600,
        expired=(
            f"This confirmation link has expired (links are valid for "
            f"{settings.NOTICE_CONFIRM_HOURS} hours). Sign up again to get a new one."
        ),
        invalid="This confirmation link is not valid. Copy the whole link from the email.",
    )


def unsubscribe_token(signup_id: int) -> str:
    return make_link_token({"s": signup_id}, salt=UNSUBSCRIBE)


def read_unsubscribe_token(token: str) -> int:
    return read_link_token(
        token,
        salt=UNSUBSCRIBE,
        parse=lambda data: int(data["s"]),
        invalid="This unsubscribe link is not valid. Copy the whole link from the email.",
    )


def objection_token(signup_id: int, change_id: int) -> str:
    return make_link_token({"s": signup_id, "c": change_id}, salt=OBJECT)


def read_objection_token(token: str, change_id: int) -> ObjectionToken:
    parsed = read_link_token(
        token,
        salt=OBJECT,
        parse=lambda data: ObjectionToken(signup_id=int(data["s"]), change_id=int(data["c"])),
        invalid="This objection link is not valid. Copy the whole link from the Notice.",
    )
    if parsed.change_id != change_id:
        raise LinkError("This objection link belongs to another change.")
    return parsed
