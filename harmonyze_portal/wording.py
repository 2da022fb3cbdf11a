"""Counts written as a person writes them: "1 notice", "3 notices", never "notice(s)"."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str = "") -> str:
    """``counted(1, "delivery", "deliveries")`` is "1 delivery"; the plural defaults to +s."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
