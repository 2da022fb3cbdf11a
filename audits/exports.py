"""The audit register (A1–A5), exported from the filtered audit request changelist as CSV
and XLSX."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from import_export import resources
from import_export.fields import Field

from audits.models import AuditRequest, report_name
from harmonyze_portal.exports import Computed, ReportDateWidget, choice_label, local_time

_LABELS = {
    name: choice_label(AuditRequest, name)
    for name in ("ground", "offer_answer", "auditor_objection", "status")
}


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def offered_report_text(kind: str | None, auditor_firm: str | None, period_end: date | None) -> str:
    return report_name(kind, auditor_firm or "", period_end) if kind and period_end else ""


def offer_answer_text(answer: str, answered_on: date | None, controls_accepted: str) -> str:
    if not answer:
        return ""
    text = _LABELS["offer_answer"](answer)
    if answered_on:
        text += f" ({answered_on.isoformat()})"
    if controls_accepted:
        text += f": {controls_accepted}"
    return text


def objection_text(objection: str, replacement_auditor: str) -> str:
    if not objection:
        return ""
    text = _LABELS["auditor_objection"](objection)
    if replacement_auditor:
        text += f"; replaced by {replacement_auditor}"
    return text


class AuditRegisterResource(resources.ModelResource):
    """One row per audit request: its checks, the report offered in lieu and where it stands."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    ground = Computed(column_name="Ground (A1)", reads=("ground",), compute=_LABELS["ground"])
    received_on = Field(attribute="received_on", column_name="Received", widget=ReportDateWidget())
    proposed_start = Field(
        attribute="proposed_start", column_name="Proposed start", widget=ReportDateWidget()
    )
    lead_time_met = Computed(
        column_name="Lead time met (A2)", reads=("lead_time_met",), compute=yes_no
    )
    earliest_compliant_start = Field(
        attribute="earliest_compliant_start",
        column_name="Earliest compliant start (A2)",
        widget=ReportDateWidget(),
    )
    entitled = Computed(column_name="Entitled (A1)", reads=("entitled",), compute=yes_no)
    offered_at = Computed(
        column_name="Report offered at (A5)", reads=("offered_at",), compute=local_time
    )
    offered_report = Computed(
        column_name="Report offered (A5)",
        reads=(
            "offered_report__kind",
            "offered_report__auditor_firm",
            "offered_report__period_end",
        ),
        compute=offered_report_text,
    )
    offer_answer = Computed(
        column_name="Customer's answer",
        reads=("offer_answer", "offer_answered_on", "controls_accepted"),
        compute=offer_answer_text,
    )
    auditor_objection = Computed(
        column_name="Auditor objection (A3)",
        reads=("auditor_objection", "replacement_auditor"),
        compute=objection_text,
    )
    status = Computed(column_name="Status", reads=("status",), compute=_LABELS["status"])
    final_plan_agreed_on = Field(
        attribute="final_plan_agreed_on",
        column_name="Final plan agreed on (A4)",
        widget=ReportDateWidget(),
    )

    class Meta:
        model = AuditRequest
        fields = (
            "customer",
            "ground",
            "received_on",
            "proposed_start",
            "lead_time_met",
            "earliest_compliant_start",
            "entitled",
            "offered_at",
            "offered_report",
            "offer_answer",
            "auditor_objection",
            "status",
            "final_plan_agreed_on",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[AuditRequest], **kwargs: Any
    ) -> QuerySet[AuditRequest]:
        return queryset.select_related("customer", "offered_report")
