"""Terminations in the customer spreadsheet (C3, C4, C9).

A row may terminate its customer: ``termination_date`` (with ``terminated_by`` and an optional
``termination_reason``) starts the deletion and purge clocks as the change form does. A blank
date keeps what is stored: an import never reopens a customer, and a customer already
terminated on another date is reopened in the admin first. An active legal hold or an open
law-enforcement demand refuses the row in the preview (``Customer.clean``) unless the row says
``yes`` in ``confirm_conflicts``; the confirmed conflicts are kept in the history.
"""

from __future__ import annotations

from typing import Any

from customers.import_cells import IsoDateWidget, cell_text
from customers.models import Customer
from customers.models.accounts import TerminatedBy

TERMINATION_COLUMNS = (
    "termination_date",
    "terminated_by",
    "termination_reason",
    "confirm_conflicts",
)
_YES = {"yes", "y", "true", "1", "x"}
# The spreadsheet may use the value or the label: "customer", "Mutual agreement".
_TERMINATED_BY = {
    **{choice.value: choice.value for choice in TerminatedBy},
    **{str(choice.label).lower(): choice.value for choice in TerminatedBy},
    "mutual": TerminatedBy.MUTUAL.value,
}
KNOWN_TERMINATED_BY = "customer, harmonyze or mutual"


def plan_termination(customer: Customer, row: dict[str, Any], errors: dict[str, list[str]]) -> bool:
    """Apply the row's termination cells to ``customer`` (not saved); whether they change it.
    Problems are added to ``errors`` by column."""
    text = cell_text(row, "termination_date")
    if not text:
        for column in TERMINATION_COLUMNS[1:]:
            if cell_text(row, column):
                errors.setdefault(column, []).append("Only with a termination_date.")
        return False
    try:
        on = IsoDateWidget().clean(text)
    except ValueError as exc:
        errors.setdefault("termination_date", []).append(str(exc))
        return False
    if customer.termination_date is not None:
        if customer.termination_date == on:
            return False  # the same termination, imported again
        errors.setdefault("termination_date", []).append(
            f"{customer} was terminated on {customer.termination_date:%Y-%m-%d}; reopen it in "
            "the admin before recording another date."
        )
        return False
    by = _TERMINATED_BY.get(cell_text(row, "terminated_by").lower(), "")
    if not by:
        errors.setdefault("terminated_by", []).append(
            f"Say who terminated the Agreement: {KNOWN_TERMINATED_BY}."
        )
    customer.termination_date = on
    customer.terminated_by = by
    customer.termination_reason = cell_text(row, "termination_reason")
    customer.confirm_termination_conflicts = cell_text(row, "confirm_conflicts").lower() in _YES
    return True
