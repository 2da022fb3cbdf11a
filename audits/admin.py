from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from import_export.formats import base_formats

from audits import deadlines, services
from audits.admin_forms import (
    AuditReportForm,
    AuditRequestForm,
    OfferForm,
    legal_today,
    offerable_reports,
)
from audits.coverage import COVERAGE_WARNING_DAYS, type2_coverage
from audits.exports import AuditRegisterResource
from audits.models import (
    AuditFinding,
    AuditReport,
    AuditRequest,
)
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.dates import legal_date
from harmonyze_portal.exports import ReportExportMixin
from harmonyze_portal.templatetags.portal_rules import rule_filter


@admin.register(AuditReport)
class AuditReportAdmin(TrackedAdmin):
    """Third-party reports Harmonyze holds (A5), and how long the latest Type 2 covers."""

    form = AuditReportForm
    change_list_template = "admin/audits/auditreport/change_list.html"
    list_display = ["kind", "auditor_firm", "period_start", "period_end", "issued_on"]
    list_filter = ["kind"]
    search_fields = ["auditor_firm", "systems_covered", "control_areas"]
    date_hierarchy = "period_end"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "coverage": type2_coverage(legal_today())}
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[URLPattern]:
        coverage = path(
            "coverage/",
            self.admin_site.admin_view(self.coverage_view),
            name="audits_auditreport_coverage",
        )
        return [coverage, *super().get_urls()]

    def coverage_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = legal_today()
        return render(
            request,
            "admin/audits/auditreport/coverage.html",
            {
                **self.admin_site.each_context(request),
                "title": "Type 2 report coverage (A5)",
                "coverage": type2_coverage(today),
                "warning_days": COVERAGE_WARNING_DAYS,
                "reports": AuditReport.objects.type2(),
                "opts": self.model._meta,
            },
        )


def ruled(value: object, rule: str) -> str:
    """A computed value with the rule that computed it (T5)."""
    if value is None:
        return "–"
    return format_html("{} <small>({})</small>", value, rule_filter(rule))


def report_link(report: AuditReport | None) -> str:
    if report is None:
        return "none"
    url = reverse("admin:audits_auditreport_change", args=[report.pk])
    return format_html('<a href="{}">{}</a>', url, report)


class AuditFindingInline(admin.TabularInline):
    """Non-compliance the customer disclosed (A6, DPA 10.6)."""

    model = AuditFinding
    extra = 0
    fields = ["description", "disclosed_on", "remediation", "remediated_on"]


@admin.register(AuditRequest)
class AuditRequestAdmin(ReportExportMixin, TrackedAdmin):
    """Audit requests with their stored checks (A1, A2, A5), the workflow and the offer of
    the report in lieu. The changelist, filtered as wanted, exports as the audit register."""

    form = AuditRequestForm
    resource_classes = [AuditRegisterResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "audit-register"
    list_display = [
        "customer",
        "received_on",
        "proposed_start",
        "lead_time_display",
        "entitlement_display",
        "type2_display",
        "status",
    ]
    list_filter = ["status", "lead_time_met", "entitled", "ground", "customer"]
    search_fields = ["customer__legal_name", "submitted_by_email", "auditor_firm", "scope"]
    autocomplete_fields = ["customer", "breach"]
    list_select_related = ["customer", "type2_report", "previous_audit"]
    inlines = [AuditFindingInline]
    actions = ["offer_report"]
    readonly_fields = [
        "confirmed_at",
        "lead_time_check",
        "entitlement_check",
        "type2_check",
        "other_reports_check",
        "offered_report",
        "offered_at",
        "no_material_changes_confirmed",
        "final_plan_latest_display",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "customer",
                    "customer_name_given",
                    "submitted_by_name",
                    "submitted_by_email",
                    "received_on",
                    "confirmed_at",
                    "status",
                ],
                "description": "Workflow: received → under review → report offered → accepted "
                "in lieu | plan negotiation → final plan agreed → scheduled → in progress → "
                "completed, or withdrawn. “Report offered” is set by the offer action.",
            },
        ),
        (
            "Plan (A2)",
            {
                "fields": [
                    "scope",
                    "proposed_start",
                    "duration_days",
                    "self_audit",
                    "auditor_firm",
                    "auditor_lead",
                    "plan_file",
                ]
            },
        ),
        ("Ground (A1)", {"fields": ["ground", "breach", "evidence", "supporting_document"]}),
        (
            "Checks",
            {
                "fields": [
                    "lead_time_check",
                    "entitlement_check",
                    "type2_check",
                    "other_reports_check",
                ]
            },
        ),
        (
            "Report in lieu (A5)",
            {
                "fields": [
                    "offered_report",
                    "offered_at",
                    "no_material_changes_confirmed",
                    "offer_answer",
                    "offer_answered_on",
                    "controls_accepted",
                ],
                "description": "Offer a report with the action “Offer the Type 2 report in "
                "lieu” on the list; record the customer's answer here.",
            },
        ),
        (
            "Auditor objection (A3)",
            {
                "fields": [
                    "auditor_objection",
                    "auditor_objected_on",
                    "auditor_objection_note",
                    "replacement_auditor",
                ]
            },
        ),
        ("Final plan (A4)", {"fields": ["final_plan_latest_display", "final_plan_agreed_on"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if isinstance(obj, AuditRequest) and obj.confirmed_at is not None:
            # The confirmation date is the legal date of receipt (A2): a fact, not an input.
            fields.append("received_on")
        return fields

    # --- The stored checks, each with its rule (T5).

    @admin.display(description="Lead time (A2)", ordering="lead_time_met")
    def lead_time_display(self, obj: AuditRequest) -> str:
        if obj.lead_time_met is None:
            return "–"
        if obj.lead_time_met:
            return format_html("{} <small>({})</small>", "met", rule_filter("A2"))
        return format_html(
            '<strong class="overdue">missed <small>({})</small></strong> earliest {}',
            rule_filter("A2"),
            obj.earliest_compliant_start,
        )

    @admin.display(description="Entitlement (A1)", ordering="entitled")
    def entitlement_display(self, obj: AuditRequest) -> str:
        if obj.entitled is None:
            return "–"
        if obj.entitled:
            return format_html("{} <small>({})</small>", "entitled", rule_filter("A1"))
        previous = obj.previous_audit.proposed_start if obj.previous_audit else None
        if obj.needs_exception_ground:
            return format_html(
                '<strong class="overdue">yearly audit started {} <small>({})</small>, '
                "no exception ground</strong> earliest {}",
                previous,
                rule_filter("A1"),
                obj.next_yearly_start,
            )
        return format_html(
            "yearly audit started {} <small>({})</small>, ground: {}",
            previous,
            rule_filter("A1"),
            obj.get_ground_display(),
        )

    @admin.display(description="Type 2 in lieu (A5)")
    def type2_display(self, obj: AuditRequest) -> str:
        if obj.received_on is None:
            return "–"
        if obj.type2_report is None:
            return format_html("{} <small>({})</small>", "none", rule_filter("A5"))
        return format_html(
            "{} ending {} <small>({})</small>",
            obj.type2_report.get_kind_display(),
            obj.type2_report.period_end,
            rule_filter("A5"),
        )

    @admin.display(description="Lead time (A2)")
    def lead_time_check(self, obj: AuditRequest) -> str:
        if obj.received_on is None or obj.earliest_compliant_start is None:
            return "Computed once the plan is received (A2)."
        verdict = "Met" if obj.lead_time_met else "Missed"
        return format_html(
            "<strong>{}</strong> <small>(A2, DPA 10.2)</small>: the plan must reach Harmonyze "
            "at least one month before the start. Received {}, so the earliest compliant "
            "start is {}; the proposed start is {}.",
            verdict,
            obj.received_on,
            obj.earliest_compliant_start,
            obj.proposed_start,
        )

    @admin.display(description="Entitlement (A1)")
    def entitlement_check(self, obj: AuditRequest) -> str:
        if obj.received_on is None:
            return "Computed once the plan is received (A1)."
        if obj.entitled:
            return format_html(
                "<strong>Entitled</strong> <small>(A1, DPA 10.1)</small>: no yearly audit of "
                "this customer started in the twelve months before {} (a yearly audit may "
                "start on the anniversary of the previous one's start; audits on a breach, "
                "documented concerns or a legal requirement do not count).",
                obj.proposed_start,
            )
        previous = obj.previous_audit
        ground = (
            "This request states only the yearly ground: it needs an additional ground (a "
            "breach affecting this customer, documented concerns, or the law or a regulator), "
            "or a start on or after the anniversary."
            if obj.needs_exception_ground
            else f"Additional ground given: {obj.get_ground_display()}."
        )
        return format_html(
            "<strong>Not within the yearly entitlement</strong> <small>(A1, DPA 10.1)</small>: "
            "the previous yearly audit of this customer starts {}, so the next yearly audit "
            "may start on or after {}. {}",
            previous.proposed_start if previous else "–",
            obj.next_yearly_start or "–",
            ground,
        )

    @admin.display(description="Type 2 report in lieu (A5)")
    def type2_check(self, obj: AuditRequest) -> str:
        if obj.received_on is None:
            return "Computed once the plan is received (A5)."
        window = deadlines.report_window_start(obj.received_on)
        if obj.type2_report is None:
            return format_html(
                "<strong>None</strong> <small>(A5, DPA 10.4)</small>: no Type 2 report's audit "
                "period ended between {} and {}.",
                window,
                obj.received_on,
            )
        return format_html(
            "{} <small>(A5, DPA 10.4)</small>: its audit period ended within the twelve months "
            "before the request (on or after {}). Offer it with the action on the list; the "
            "customer then accepts it in lieu of auditing the controls it covers.",
            report_link(obj.type2_report),
            window,
        )

    @admin.display(description="Other qualifying reports (A5)")
    def other_reports_check(self, obj: AuditRequest) -> str:
        reports = obj.other_qualifying_reports()
        if not reports:
            return "None (ISO or NIST reports ending within the twelve months before receipt)."
        return format_html_join(mark_safe("<br>"), "{}", ((report_link(r),) for r in reports))

    @admin.display(description="Agree the final plan by (A4)")
    def final_plan_latest_display(self, obj: AuditRequest) -> str:
        if obj.final_plan_due is None:
            return "–"
        return format_html(
            "{} <small>(A4, DPA 10.2: at least 14 days before the start)</small>",
            obj.final_plan_due,
        )

    # --- The offer of the report in lieu (A5).

    @admin.action(description="Offer the Type 2 report in lieu", permissions=["change"])
    def offer_report(
        self, request: HttpRequest, queryset: QuerySet[AuditRequest]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one audit request at a time.", messages.ERROR)
            return None
        audit_request = queryset.get()
        refusal = offer_refusal(audit_request)
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return None
        form = OfferForm(
            request.POST if "confirm" in request.POST else None, audit_request=audit_request
        )
        if form.is_valid():
            try:
                audit_request = services.report_offer(
                    request=audit_request,
                    report=form.cleaned_data["report"],
                    no_material_changes=form.cleaned_data["no_material_changes"],
                )
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                self.message_user(
                    request,
                    f"Offered the {audit_request.offered_report} in lieu to "
                    f"{audit_request.submitted_by_email} (A5).",
                )
                return None
        return render(
            request,
            "admin/audits/auditrequest/offer.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Offer the report in lieu: {audit_request}",
                "audit_request": audit_request,
                "form": form,
                "opts": self.model._meta,
                "action_name": "offer_report",
                "selected": audit_request.pk,
            },
        )


def offer_refusal(audit_request: AuditRequest) -> str | None:
    """Why nothing can be offered for this request, before counsel is asked to confirm."""
    if audit_request.received_on is None:
        return "The plan has not been confirmed yet: nothing can be offered."
    if audit_request.offered_at is not None:
        return (
            f"The {audit_request.offered_report} was already offered for this request on "
            f"{legal_date(audit_request.offered_at, settings.TIME_ZONE)}."
        )
    if not offerable_reports(audit_request.received_on).exists():
        return (
            "No Type 2, ISO or NIST report's audit period ended within the twelve months "
            f"before {audit_request.received_on}: there is no report to offer (A5)."
        )
    return None


@admin.register(AuditFinding)
class AuditFindingAdmin(TrackedAdmin):
    """Findings are entered on their audit request; this list is for reading across them."""

    list_display = ["request", "disclosed_on", "remediated_on"]
    list_filter = [("remediated_on", admin.EmptyFieldListFilter)]
    search_fields = ["request__customer__legal_name", "description", "remediation"]
    autocomplete_fields = ["request"]
