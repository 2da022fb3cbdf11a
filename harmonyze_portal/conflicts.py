"""Termination conflicts (DOMAIN.md C9): what stands against ending a customer's Agreement.

Terminating a customer starts its C3 deletion clock. An active legal hold (customers) or an open
law-enforcement demand (requests, R4) means data must be kept, so every termination path (the
customer's change form, the import, an objection that ends in termination, a service call) asks
here first, shows what it finds and needs a confirmation. The core names no area: each area
registers its check with :func:`register` from its own ``desk.py``, the way it registers its
deadlines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model


@dataclass(frozen=True)
class Conflict:
    """One reason not to terminate silently, in words the person confirming can act on."""

    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.text} ({self.rule})"


# (customer) -> conflicts; a check that shows restricted records (R6) says only that they exist.
ConflictCheck = Callable[[Model], list[Conflict]]

_checks: dict[str, ConflictCheck] = {}

CONFIRM_FIELD = "confirm_conflicts"


def register(name: str, check: ConflictCheck) -> None:
    """Called by an area's ``desk.py``; ``name`` keeps a re-import from registering twice."""
    _checks[name] = check


def termination_conflicts(customer: Model) -> list[Conflict]:
    """Every registered area's conflicts for terminating ``customer``, in registration order."""
    if customer.pk is None:
        return []  # a customer being created has no holds or demands yet
    return [conflict for check in _checks.values() for conflict in check(customer)]


class TerminationConflictError(ValidationError):
    """Terminating would contradict a hold or a demand, and nobody confirmed it (C9)."""

    def __init__(self, conflicts: list[Conflict], field: str = CONFIRM_FIELD) -> None:
        self.conflicts = conflicts
        super().__init__({field: [conflict_message(conflicts)]})


def conflict_message(conflicts: list[Conflict]) -> str:
    listed = "; ".join(str(conflict) for conflict in conflicts)
    return (
        f"Terminating starts the deletion clock, but {listed}. Tick the confirmation to "
        "terminate anyway; the conflicts are kept in the history."
    )


def confirmed_reason(reason: str, conflicts: list[Any]) -> str:
    """The history reason of a termination confirmed despite conflicts (H1: never lost)."""
    if not conflicts:
        return reason
    return f"{reason} [confirmed despite: {'; '.join(str(c) for c in conflicts)}]"
