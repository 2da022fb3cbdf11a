"""The audits area on the desk (T5): its deadlines A2, A4 and the A5 coverage warning."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from audits import deadlines
from audits.coverage import type2_coverage
from audits.models import AuditRequest
from harmonyze_portal import desk


def type2_coverage_ending(user: Any, today: date, limit: int) -> list[desk.CoverageWarning]:
    """A5: the latest Type 2 report is about to stop qualifying (or none does)."""
    if not user.has_perm("audits.view_auditreport"):
        return []
    coverage = type2_coverage(today)
    if not coverage.warning:
        return []
    url = (
        reverse("admin:audits_auditreport_change", args=[coverage.report.pk])
        if coverage.report
        else reverse("admin:audits_auditreport_changelist")
    )
    return [desk.CoverageWarning("A5", coverage.summary(), url)]


desk.register(
    "audits",
    label="Audits",
    sources=[
        desk.Source(
            "A2",
            AuditRequest,
            "earliest_compliant_start",
            "lead_time_missed",
            ("proposed_start", "received_on"),
            lambda row: (
                f"The plan missed the one-month lead time: proposed start "
                f"{row['proposed_start']}, earliest compliant start this date"
            ),
            explain=lambda row: deadlines.earliest_start_explained(row["received_on"]),
        ),
        desk.Source(
            "A4",
            AuditRequest,
            "final_plan_due",
            "final_plan_open",
            ("proposed_start",),
            lambda row: f"Agree the final audit plan (start {row['proposed_start']})",
            explain=lambda row: deadlines.final_plan_latest_explained(row["proposed_start"]),
        ),
    ],
    warnings=[type2_coverage_ending],
)
