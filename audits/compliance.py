"""The audits area's rule events for the compliance matrix: A2 and A4."""

from __future__ import annotations

from django.db.models import Q

from audits.models import AuditRequest
from harmonyze_portal.compliance import RuleEvents, by_flag, done_by_due, register

register(
    "audits",
    RuleEvents(
        key="a2-lead-time",
        rule="A2",
        clause="DPA 10.2",
        what="Audit plans received at least one month before the proposed start",
        model=AuditRequest,
        date_field="received_on",
        base=Q(received_on__isnull=False, lead_time_met__isnull=False),
        outcomes=by_flag("lead_time_met"),
    ),
    RuleEvents(
        key="a4-final-plan",
        rule="A4",
        clause="DPA 10.2",
        what="Final audit plans agreed at least two weeks before the start",
        model=AuditRequest,
        date_field="final_plan_due",
        base=Q(final_plan_due__isnull=False),
        outcomes=done_by_due("final_plan_agreed_on", "final_plan_due"),
    ),
)
