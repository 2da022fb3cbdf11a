"""Typed readers for environment variables.

Every reader fails at start-up with ``ImproperlyConfigured`` naming the variable, so a
malformed deployment never boots half-configured (healthchecks' ``envbool``/``envint``).
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_RATE = re.compile(r"^[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]$")


class Env:
    """Reads variables from a mapping (``os.environ`` by default) and validates them."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default).strip()

    def required(self, name: str, why: str) -> str:
        value = self.text(name)
        if not value:
            raise ImproperlyConfigured(f"{name} must be set: {why}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        if name not in self.environ:
            return default
        value = self.environ[name].strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={self.environ[name]!r} is not a boolean; "
            "use 1/0, true/false, yes/no or on/off."
        )

    def number(self, name: str, default: int, *, minimum: int = 0) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
        if value < minimum:
            raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
        return value

    def items(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self.text(name)
        if not raw:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = (self.text(name) or default).lower()
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
        return value

    def time_zone(self, name: str, default: str) -> str:
        value = self.text(name) or default
        try:
            zoneinfo.ZoneInfo(value)
        # With the tzdata package installed, a zone-group name such as "America" opens a
        # directory and raises IsADirectoryError (an OSError) instead of ZoneInfoNotFoundError.
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise ImproperlyConfigured(
                f"{name}={value!r} is not an IANA time zone (for example America/New_York)."
            ) from None
        return value

    def rate(self, name: str, default: str) -> str:
        """A django-ratelimit rate such as ``10/h`` or ``100/15m``."""
        value = self.text(name) or default
        if not _RATE.match(value):
            raise ImproperlyConfigured(
                f"{name}={value!r} is not a rate; write it as count/period, e.g. 10/h or 30/15m."
            )
        return value

    def origins(self, name: str) -> list[str]:
        values = self.items(name)
        for origin in values:
            if not origin.startswith(("https://", "http://")):
                raise ImproperlyConfigured(
                    f"{name} entry {origin!r} must start with https:// (or http://)."
                )
        return values
