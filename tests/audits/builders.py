"""Small builders for the audits area's rows: each saves through ``save()`` (H1)."""

from __future__ import annotations

from datetime import date
from typing import Any

from audits.models import AuditReport, AuditRequest, AuditStatus, ReportKind
from customers.models import Customer


def make_report(
    *,
    kind: str = ReportKind.SOC2_TYPE2,
    period_start: date = date(2025, 1, 1),
    period_end: date = date(2025, 12, 31),
    issued_on: date | None = None,
    **fields: Any,
) -> AuditReport:
    report = AuditReport(
        kind=kind,
        auditor_firm=fields.pop("auditor_firm", "Schellman & Company"),
        period_start=period_start,
        period_end=period_end,
        issued_on=issued_on or period_end,
        systems_covered=fields.pop("systems_covered", "Harmonyze platform, production"),
        control_areas=fields.pop("control_areas", "Security, availability, confidentiality"),
        **fields,
    )
    report.save()
    return report


def make_audit_request(
    customer: Customer,
    *,
    received: date | None = date(2026, 3, 15),
    start: date = date(2026, 4, 15),
    status: str | None = None,
    **fields: Any,
) -> AuditRequest:
    """A confirmed request received on ``received``; ``received=None`` leaves it awaiting the
    email confirmation (status unconfirmed)."""
    request = AuditRequest(
        customer=customer,
        submitted_by_name=fields.pop("submitted_by_name", "Dana Privacy"),
        submitted_by_email=fields.pop("submitted_by_email", "privacy@acme.com"),
        status=status or (AuditStatus.RECEIVED if received else AuditStatus.UNCONFIRMED),
        scope=fields.pop("scope", "Access control and logging of the production platform"),
        proposed_start=start,
        duration_days=fields.pop("duration_days", 3),
        auditor_firm=fields.pop("auditor_firm", "Audit & Co"),
        auditor_lead=fields.pop("auditor_lead", "Ada Auditor"),
        received_on=received,
        **fields,
    )
    request.save()
    return request
