"""The audits area on the customer page: each audit request with its ground and entitlement
(A1), its lead time (A2), the final plan's deadline (A4) and the report offered in lieu (A5).
One query."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from audits import deadlines
from audits.models import PLANNING, AuditGround, AuditRequest, AuditStatus
from harmonyze_portal import customer_page as hub


def entitlement(audit: AuditRequest) -> tuple[str, Any]:
    """A1: within the yearly entitlement or not, and from when the next yearly audit may
    start; additional audits neither need nor use it."""
    if audit.ground != AuditGround.ANNUAL:
        return f"Additional audit: {audit.get_ground_display()}", None
    previous = audit.previous_audit
    if previous is None:
        return "Yearly audit: no earlier yearly audit", None
    how = deadlines.next_yearly_start_explained(previous.proposed_start)
    answer = "within" if audit.entitled else "not within"
    return f"Yearly audit: {answer} the yearly entitlement", how


def audits(customer: Any, today: date) -> list[hub.Entry]:
    rows = (
        AuditRequest.objects.filter(customer=customer)
        .exclude(status=AuditStatus.UNCONFIRMED)
        .select_related("previous_audit", "type2_report", "offered_report")
        .order_by("-received_on", "-pk")
    )
    entries = []
    for audit in rows:
        url = reverse("admin:audits_auditrequest_change", args=[audit.pk])
        ground, yearly = entitlement(audit)
        report = audit.offered_report or audit.type2_report
        offered = (
            f"; report {'offered' if audit.offered_report else 'available'} in lieu: {report}"
            if report
            else "; no Type 2 report within twelve months"
        )
        if audit.lead_time_met is False and audit.received_on:
            lead = deadlines.earliest_start_explained(audit.received_on)
            offered += f"; the plan missed the one-month lead time (A2): {lead}"
        entries.append(
            hub.Entry(
                what=f"Audit starting {audit.proposed_start}: {ground}",
                url=url,
                rule="A1, A5",
                on=audit.received_on,
                due=yearly.result if yearly else None,
                due_label="Yearly audit may start from",
                how=yearly,
                status=f"{audit.get_status_display()}{offered}",
                done=True,
                record=audit.pk,
            )
        )
        if audit.final_plan_due:
            entries.append(
                hub.Entry(
                    what=f"Agree the final plan (start {audit.proposed_start})",
                    url=url,
                    rule="A4",
                    due=audit.final_plan_due,
                    due_label="Agree by",
                    how=deadlines.final_plan_latest_explained(audit.proposed_start),
                    status=f"Agreed {audit.final_plan_agreed_on}"
                    if audit.final_plan_agreed_on
                    else "Not agreed",
                    done=audit.final_plan_agreed_on is not None or audit.status not in PLANNING,
                    record=audit.pk,
                )
            )
    return entries


hub.register(
    "audits",
    [
        hub.Section(
            "audits", "Audit requests", AuditRequest, audits, rules="A1, A2, A4, A5", order=90,
            documents_of=("offered_report", "type2_report"),
            list_url=lambda customer: reverse("admin:audits_auditrequest_changelist")
            + f"?customer__id__exact={customer.pk}",
        ),
    ],
)  # fmt: skip
