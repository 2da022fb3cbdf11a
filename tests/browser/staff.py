"""Authenticator codes for signing demo staff in through the real pages."""

from __future__ import annotations

import base64

from django_otp.oath import totp


def code_for(secret: str) -> str:
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{totp(key):06d}"
