"""Law-enforcement and government demands in the admin (R4, R5; PP 5; DPA 3.2.4).

Only privacy counsel holds these permissions (``roles.COUNSEL_ONLY``); every opening of a
demand is logged as a ``DemandView``. There is deliberately no action that notifies data
subjects: under the SCCs only the customer is notified (DPA 3.2.4).
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today
from requests.models import DemandView, LawEnforcementDemand
from requests.models.demands import DemandQuerySet
from requests.transparency import report_csv, report_pdf, transparency_report


class CustomerNoticeDueFilter(admin.SimpleListFilter):
    """R4: a notice postponed by a non-disclosure order comes back once the order has ended."""

    title = "customer notice (R4)"
    parameter_name = "notice"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("due", "Customer notice now due")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "due":
            return cast(DemandQuerySet, queryset).customer_notice_due(legal_today())
        return queryset


def log_view(request: HttpRequest, demand_pk: Any) -> None:
    demand = LawEnforcementDemand.objects.get(pk=demand_pk)
    # The admin only lets signed-in staff this far.
    user = cast(User, request.user)
    view = DemandView(demand=demand, user=user, path=request.get_full_path()[:300])
    view.save()


class TransparencyForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)
    half = forms.TypedChoiceField(
        choices=[(1, "H1 (January–June)"), (2, "H2 (July–December)")], coerce=int
    )


@admin.register(LawEnforcementDemand)
class LawEnforcementDemandAdmin(TrackedAdmin):
    list_display = [
        "received_on",
        "agency",
        "country",
        "legal_process",
        "compelled",
        "nondisclosure_order_ends",
        "customer_notified_on",
        "outcome_display",
    ]
    list_filter = [CustomerNoticeDueFilter, "legal_process", "country", "disclosure", "compelled"]
    search_fields = ["agency", "country", "customers__legal_name", "data_sought"]
    date_hierarchy = "received_on"
    autocomplete_fields = ["customers"]
    # The order of the Privacy Policy's promise (PP 5): redirect first, disclose last.
    fieldsets = [
        (
            "The demand",
            {
                "fields": [
                    "agency",
                    "country",
                    "legal_process",
                    "received_on",
                    "customers",
                    "data_sought",
                ]
            },
        ),
        (
            "1. Redirect to the customer attempted",
            {
                "fields": ["redirect_attempted_on", "redirect_contact", "contact_details_given"],
                "description": "Harmonyze first asks the agency to go to the customer, and may "
                "give it the customer's basic contact details (R4, PP 5).",
            },
        ),
        (
            "2. Compelled",
            {
                "fields": ["compelled"],
                "description": "Harmonyze discloses nothing voluntarily.",
            },
        ),
        (
            "3. Non-disclosure order",
            {
                "fields": [
                    "nondisclosure_order",
                    "nondisclosure_order_starts",
                    "nondisclosure_order_ends",
                ],
                "description": "When the order ends, the demand reappears under "
                "“Customer notice now due”.",
            },
        ),
        (
            "4. Customer notified",
            {
                "fields": ["customer_notified_on", "customer_notified_to"],
                "description": "Before any disclosure, unless an order forbids it. Only the "
                "customer is notified, never the data subjects (DPA 3.2.4).",
            },
        ),
        ("5. Challenge or objection", {"fields": ["challenged", "challenge_note"]}),
        ("6. Disclosure", {"fields": ["disclosure", "disclosed_on"]}),
        ("Notes", {"fields": ["notes"]}),
    ]

    @admin.display(description="Outcome (R5)")
    def outcome_display(self, obj: LawEnforcementDemand) -> str:
        return obj.outcome

    # --- Every view is logged.

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            log_view(request, object_id)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            log_view(request, object_id)
        return response

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if request.method == "GET" and response.status_code == 200:
            log_view(request, object_id)
        return response

    # --- The transparency report (R5).

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "transparency/",
            self.admin_site.admin_view(self.transparency_view),
            name="requests_lawenforcementdemand_transparency",
        )
        return [report, *super().get_urls()]

    def transparency_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = legal_today()
        form = TransparencyForm(request.GET or default_half_year(today))
        report = None
        if form.is_valid():
            year, half = form.cleaned_data["year"], form.cleaned_data["half"]
            report = transparency_report(year=year, half=half)
            name = f"transparency-report-{year}-H{half}"
            export = request.GET.get("format")
            if export == "csv":
                response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
                response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
                return response
            if export == "pdf":
                response = HttpResponse(report_pdf(report), content_type="application/pdf")
                response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
                return response
        return render(
            request,
            "admin/requests/lawenforcementdemand/transparency.html",
            {
                **self.admin_site.each_context(request),
                "title": "Transparency report (R5)",
                "opts": self.model._meta,
                "form": form,
                "report": report,
            },
        )


def default_half_year(today: date) -> dict[str, int]:
    """The last half-year that has ended: the one a report is published for."""
    if today.month <= 6:
        return {"year": today.year - 1, "half": 2}
    return {"year": today.year, "half": 1}


@admin.register(DemandView)
class DemandViewAdmin(TrackedAdmin):
    """The access log is evidence: read-only for everyone."""

    list_display = ["viewed_at", "user", "demand", "path"]
    list_filter = [("viewed_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "demand__agency", "path"]
    date_hierarchy = "viewed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
