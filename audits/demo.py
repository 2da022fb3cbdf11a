"""Demo data for the audits area (used by `manage.py seed_demo`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from audits import deadlines
from audits.models import AuditReport, AuditRequest, AuditStatus, ReportKind
from customers.models import Customer
from harmonyze_portal.dates import add_months

SOC2_FIRM = "Schellman & Company, LLC"
ISO_FIRM = "BSI Group"


def seed(*, now: datetime, today: date, staff: Mapping[str, Any]) -> str:
    """A SOC 2 Type 2 report whose period ended about four months ago, an ISO 27001
    certificate, and two audit requests: an annual plan with enough lead time that can be
    offered the Type 2 report (A2, A5), and a late plan flagged by A2. Looked up by natural
    keys, so a second run adds nothing; dates relative to today are fixed by the first run."""
    added = 0
    soc2_end = today - timedelta(days=120)
    _, created = AuditReport.objects.get_or_create(
        kind=ReportKind.SOC2_TYPE2,
        auditor_firm=SOC2_FIRM,
        defaults={
            "period_start": add_months(soc2_end, -12) + timedelta(days=1),
            "period_end": soc2_end,
            "issued_on": soc2_end + timedelta(days=45),
            "systems_covered": "Harmonyze production platform on AWS (us-east-1, eu-west-1)",
            "control_areas": "Security, Availability, Confidentiality (Trust Services Criteria)",
        },
    )
    added += created
    iso_end = today - timedelta(days=200)
    _, created = AuditReport.objects.get_or_create(
        kind=ReportKind.ISO27001,
        auditor_firm=ISO_FIRM,
        defaults={
            "period_start": iso_end - timedelta(days=10),
            "period_end": iso_end,
            "issued_on": iso_end + timedelta(days=30),
            "systems_covered": "Information security management system for the Services",
            "control_areas": "ISO/IEC 27001:2022 Annex A controls",
        },
    )
    added += created

    customers = {c.legal_name: c for c in Customer.objects.all()}
    acme = customers.get("Acme Analytics GmbH")
    if acme is not None:
        received = today - timedelta(days=10)
        added += _request(
            acme,
            name="Dana Weber",
            email="privacy@acme-analytics.com",
            received=received,
            start=deadlines.earliest_start(received) + timedelta(days=21),
            scope="Access management and logging controls for the EU production environment.",
            auditor_firm="Prüfwerk Audit GmbH",
            auditor_lead="Martin Vogel",
        )
    globex = customers.get("Globex Corporation Ltd")
    if globex is not None:
        received = today - timedelta(days=3)
        added += _request(
            globex,
            name="Priya Shah",
            email="dpo@globex.co.uk",
            received=received,
            start=received + timedelta(days=20),  # less than a month: flagged (A2)
            scope="Backup encryption and restore testing.",
            auditor_firm="",
            auditor_lead="",
        )
    return f"{added} audit records added"


def _request(
    customer: Customer,
    *,
    name: str,
    email: str,
    received: date,
    start: date,
    scope: str,
    auditor_firm: str,
    auditor_lead: str,
) -> int:
    if AuditRequest.objects.filter(customer=customer, submitted_by_email=email).exists():
        return 0
    request = AuditRequest(
        customer=customer,
        submitted_by_name=name,
        submitted_by_email=email,
        status=AuditStatus.RECEIVED,
        received_on=received,
        proposed_start=start,
        duration_days=3,
        scope=scope,
        self_audit=not auditor_firm,
        auditor_firm=auditor_firm,
        auditor_lead=auditor_lead,
    )
    request.full_clean()
    request.save()
    return 1
