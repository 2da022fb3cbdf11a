"""The sub-processors area's rule events for the compliance matrix: S4."""

from __future__ import annotations

from django.db.models import Q

from harmonyze_portal.compliance import RuleEvents, by_flag, register
from subprocessors.models import Objection

register(
    "subprocessors",
    RuleEvents(
        key="s4-objections",
        rule="S4",
        clause="DPA 5.1",
        what="Objections to a new sub-processor, received within 7 days of the Notice",
        model=Objection,
        date_field="received_on",
        base=Q(received_on__isnull=False),
        outcomes=by_flag("in_time"),
    ),
)
