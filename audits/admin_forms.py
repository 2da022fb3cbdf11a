"""The admin's forms for the audits area: report dates naming their field, the request form's
workflow and answer checks (A1–A5), and the confirm page of the offer in lieu (A5)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet

from audits import services, workflow
from audits.models import AuditReport, AuditRequest, AuditStatus, OfferAnswer
from harmonyze_portal.admin import ChangeReasonForm
from harmonyze_portal.clock import legal_today


class AuditReportForm(ChangeReasonForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end, issued = (data.get(k) for k in ("period_start", "period_end", "issued_on"))
        # The constraints say the same without naming the field.
        if start and end and end < start:
            self.add_error("period_end", "The audit period ends before it starts.")
        elif end and issued and issued < end:
            self.add_error("issued_on", "A report is issued after its audit period ends.")
        return data


class AuditRequestForm(ChangeReasonForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        instance = self.instance
        assert isinstance(instance, AuditRequest)
        status = data.get("status", instance.status)
        received = data.get("received_on", instance.received_on)
        if received is None and status not in (AuditStatus.UNCONFIRMED, AuditStatus.WITHDRAWN):
            self.add_error(
                "received_on" if "received_on" in self.fields else None,
                "Enter the legal date the plan reached Harmonyze: the lead time (A2), the "
                "entitlement (A1) and the report in lieu (A5) count from it.",
            )
        elif received and "received_on" in self.fields and received > legal_today():
            self.add_error("received_on", "The plan cannot be received after today.")
        answer = data.get("offer_answer")
        if answer and instance.offered_at is None:
            self.add_error(
                "offer_answer",
                "No report was offered yet: offer it with the action first (A5).",
            )
        elif answer and not data.get("offer_answered_on"):
            self.add_error("offer_answered_on", "Record when the customer answered.")
        if answer == OfferAnswer.ACCEPTED_SOME and not data.get("controls_accepted", "").strip():
            self.add_error("controls_accepted", "Name the controls the report covers in lieu.")
        if "status" in data:
            problem = workflow.status_error(
                self.initial.get("status") if instance.pk else None,
                status,
                offered_at=instance.offered_at,
                offer_answer=answer or "",
                final_plan_agreed_on=data.get("final_plan_agreed_on"),
            )
            if problem:
                self.add_error("status", problem)
        return data


class OfferForm(forms.Form):
    report = forms.ModelChoiceField(
        queryset=AuditReport.objects.none(),
        empty_label=None,
        error_messages={
            "invalid_choice": "Choose one of the reports listed: only a Type 2, ISO or NIST "
            "report whose audit period ended within the twelve months before the request "
            "can be offered in lieu (A5)."
        },
    )
    no_material_changes = forms.BooleanField(
        label="No known material changes in the audited controls",
        help_text="Harmonyze confirms this to the customer in the offer (DPA 10.4).",
        error_messages={
            "required": "Confirm that there are no known material changes in the audited "
            "controls first."
        },
    )

    def __init__(self, *args: Any, audit_request: AuditRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert audit_request.received_on is not None
        field = self.fields["report"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = offerable_reports(audit_request.received_on)
        field.initial = audit_request.type2_report_id


def offerable_reports(received: date) -> QuerySet[AuditReport]:
    return AuditReport.objects.filter(kind__in=services.QUALIFYING_KINDS).qualifying(received)
