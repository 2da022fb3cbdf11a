"""The audit register (A1–A5), exported from the filtered audit request changelist as CSV
and XLSX."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from import_export import resources
from import_export.fields import Field

from audits.models import AuditRequest
from harmonyze_portal.exports import ReportDateWidget, choice_label, local_time

_LABELS = {
    name: choice_label(AuditRequest, name)
    for name in ("ground", "offer_answer", "auditor_objection", "status")
}


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


class AuditRegisterResource(resources.ModelResource):
    """One row per audit request: its checks, the report offered in lieu and where it stands."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    ground = Field(column_name="Ground (A1)")
    received_on = Field(attribute="received_on", column_name="Received", widget=ReportDateWidget())
    proposed_start = Field(
        attribute="proposed_start", column_name="Proposed start", widget=ReportDateWidget()
    )
    lead_time_met = Field(column_name="Lead time met (A2)")
    earliest_compliant_start = Field(
        attribute="earliest_compliant_start",
        column_name="Earliest compliant start (A2)",
        widget=ReportDateWidget(),
    )
    entitled = Field(column_name="Entitled (A1)")
    offered_at = Field(column_name="Report offered at (A5)")
    offered_report = Field(column_name="Report offered (A5)")
    offer_answer = Field(column_name="Customer's answer")
    auditor_objection = Field(column_name="Auditor objection (A3)")
    status = Field(column_name="Status")
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

    def dehydrate_ground(self, request: AuditRequest) -> str:
        return _LABELS["ground"](request.ground)

    def dehydrate_lead_time_met(self, request: AuditRequest) -> str:
        return yes_no(request.lead_time_met)

    def dehydrate_entitled(self, request: AuditRequest) -> str:
        return yes_no(request.entitled)

    def dehydrate_offered_at(self, request: AuditRequest) -> str:
        return local_time(request.offered_at)

    def dehydrate_offered_report(self, request: AuditRequest) -> str:
        return str(request.offered_report) if request.offered_report else ""

    def dehydrate_offer_answer(self, request: AuditRequest) -> str:
        if not request.offer_answer:
            return ""
        answer = _LABELS["offer_answer"](request.offer_answer)
        if request.offer_answered_on:
            answer += f" ({request.offer_answered_on.isoformat()})"
        if request.controls_accepted:
            answer += f": {request.controls_accepted}"
        return answer

    def dehydrate_auditor_objection(self, request: AuditRequest) -> str:
        if not request.auditor_objection:
            return ""
        objection = _LABELS["auditor_objection"](request.auditor_objection)
        if request.replacement_auditor:
            objection += f"; replaced by {request.replacement_auditor}"
        return objection

    def dehydrate_status(self, request: AuditRequest) -> str:
        return _LABELS["status"](request.status)
