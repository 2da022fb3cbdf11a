"""The public audit plan form (A1, A2): what a customer's representative sends us."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from audits.models import MAX_AUDIT_DAYS, AuditGround
from harmonyze_portal.public_flow import LinkEmailField
from harmonyze_portal.uploads import validate_pdf

PDF_INPUT = forms.FileInput(attrs={"accept": "application/pdf,.pdf"})


class AuditPlanForm(forms.Form):
    """Checks the plan on its own; the customer is matched by the email afterwards, so an
    unknown customer gets the same answer as a known one."""

    customer_name = forms.CharField(
        label="Your company (the Harmonyze customer)",
        max_length=200,
        error_messages={"required": "Enter the name of your company."},
    )
    name = forms.CharField(
        label="Your name",
        max_length=200,
        error_messages={"required": "Enter your name, so we know whom to answer."},
    )
    email = LinkEmailField(
        label="Your work email address",
        help_text="An address at your company's domain, or one we have on file as a contact.",
        required_message="Enter your work email address: we send the confirmation link to it.",
        example="dpo@example.com",
    )
    scope = forms.CharField(
        label="Scope of the audit",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The systems, services and controls you want to audit.",
        error_messages={"required": "Describe the scope: which systems and controls."},
    )
    proposed_start = forms.DateField(
        label="Proposed start date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the date you propose to start the audit.",
            "invalid": "Enter the start date as a date, like 2026-05-04.",
        },
    )
    duration_days = forms.IntegerField(
        label="Duration (business days)",
        min_value=1,
        max_value=MAX_AUDIT_DAYS,
        error_messages={
            "required": "Enter how many business days the audit lasts.",
            "invalid": "Enter the duration as a whole number of business days.",
            "min_value": f"An audit lasts 1 to {MAX_AUDIT_DAYS} business days.",
            "max_value": f"An audit lasts 1 to {MAX_AUDIT_DAYS} business days.",
        },
    )
    self_audit = forms.BooleanField(
        label="We audit ourselves (no third-party auditor)", required=False
    )
    auditor_firm = forms.CharField(label="Auditor firm", max_length=200, required=False)
    auditor_lead = forms.CharField(label="Lead auditor", max_length=200, required=False)
    ground = forms.ChoiceField(
        label="Ground for the audit",
        choices=AuditGround.choices,
        initial=AuditGround.ANNUAL,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the ground for the audit.",
            "invalid_choice": "Choose one of the grounds listed.",
        },
    )
    evidence = forms.CharField(
        label="Evidence for the ground",
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For an audit in addition to the yearly one: the breach, the documented "
        "concerns, or the law or the regulator that requires it.",
    )
    supporting_document = forms.FileField(
        label="Supporting document (PDF, optional)",
        required=False,
        validators=[validate_pdf],
        widget=PDF_INPUT,
    )
    plan_file = forms.FileField(
        label="Audit plan (PDF, optional)",
        required=False,
        validators=[validate_pdf],
        widget=PDF_INPUT,
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_proposed_start(self) -> date:
        start: date = self.cleaned_data["proposed_start"]
        if start < self.today:
            raise forms.ValidationError(
                f"The proposed start is in the past: choose {self.today:%Y-%m-%d} or later.",
                code="past",
            )
        return start

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        firm = data.get("auditor_firm", "").strip()
        lead = data.get("auditor_lead", "").strip()
        if data.get("self_audit"):
            if firm or lead:
                self.add_error(
                    "self_audit",
                    "You ticked that you audit yourselves and also named an auditor: "
                    "keep one of the two.",
                )
        else:
            if not firm:
                self.add_error(
                    "auditor_firm",
                    "Name the third-party auditor's firm, or tick that you audit yourselves.",
                )
            if not lead:
                self.add_error(
                    "auditor_lead",
                    "Name the lead auditor, or tick that you audit yourselves.",
                )
        ground = data.get("ground")
        if (
            ground
            and ground != AuditGround.ANNUAL
            and not (data.get("evidence", "").strip() or data.get("supporting_document"))
        ):
            # A1: an additional audit's ground points at its evidence.
            self.add_error(
                "evidence",
                "An audit beyond the yearly one needs its evidence: describe it here or "
                "attach a supporting document.",
            )
        return data
