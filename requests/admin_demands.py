"""Law-enforcement and government demands in the admin (R4, R5, R6; PP 5; DPA 3.2.4).

Only privacy counsel holds these permissions (the models are declared restricted on
``RequestsConfig``), and only counsel exports (``requests.export_demands``). Every page that
shows a demand's data logs a ``DemandView`` per demand shown: the change (also posted back with
errors), delete and History pages, the list and its action confirmations, the transparency
report, and the view log itself. The Customers a demand concerns and the SCC Clause 15 steps are
inlines, each a tracked record (H1). There is deliberately no action that notifies data
subjects: under the SCCs only the customer is notified (DPA 3.2.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from customers.models import Customer
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.history import acting_as, current_actor, person_name
from harmonyze_portal.history_diff import recorded_names
from requests.models import DemandCustomer, DemandStep, DemandView, LawEnforcementDemand
from requests.models.demands import EXPORT_PERMISSION, DemandQuerySet
from requests.transparency import report_csv, report_pdf, transparency_report


class CustomerNoticeDueFilter(admin.SimpleListFilter):
    """R4: what is due today, by the same QuerySet methods the dashboard, the calendar feed and
    the digest use (a notice postponed by an order comes back the day after it ends)."""

    title = "R4 deadlines"
    parameter_name = "notice"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("due", "Customer notice now due"),
            ("review", "Non-disclosure order review due"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        demands = cast(DemandQuerySet, queryset)
        today = legal_today()
        if self.value() == "due":
            return demands.customer_notice_open().filter(customer_notice_due_on__lte=today)
        if self.value() == "review":
            return demands.order_review_open().filter(order_review_due_on__lte=today)
        return queryset


def log_views(request: HttpRequest, demand_ids: Sequence[Any]) -> None:
    # The admin only lets signed-in staff this far.
    user = cast(User, request.user)
    DemandView.log(
        user=user, demand_ids=[int(pk) for pk in demand_ids], path=request.get_full_path()
    )


def log_view(request: HttpRequest, demand_pk: Any) -> None:
    log_views(request, [demand_pk])


def shown_context(response: HttpResponse) -> dict[str, Any]:
    """The context of a page the admin rendered (status 200), or nothing: a redirect, a
    refusal or a download shows nothing to log here."""
    if isinstance(response, TemplateResponse) and response.status_code == 200:
        return response.context_data or {}
    return {}


class LogsDemandViews(TrackedAdmin):
    """R6: every page of this admin that shows a demand's data logs a view of it. Subclasses
    say which demand a listed row, or the page's own record, shows."""

    def demand_of_row(self, row: Any) -> int:
        raise NotImplementedError

    def demand_of_page(self, request: HttpRequest, object_id: str) -> int | None:
        raise NotImplementedError

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = shown_context(response)
        if "cl" in context:
            log_views(request, [self.demand_of_row(row) for row in context["cl"].result_list])
        elif "queryset" in context:
            # An action's confirmation page (delete selected) lists the rows it acts on.
            log_views(request, [self.demand_of_row(row) for row in context["queryset"]])
        return response

    def _logged(self, response: HttpResponse, request: HttpRequest, object_id: str) -> Any:
        # Any rendered page, a form posted back with errors included; a redirect shows nothing.
        if response.status_code == 200:
            demand = self.demand_of_page(request, object_id)
            if demand is not None:
                log_view(request, demand)
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._logged(response, request, object_id)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().delete_view(request, object_id, extra_context)
        return self._logged(response, request, object_id)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        return self._logged(response, request, object_id)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().history_form_view(request, object_id, version_id, extra_context)
        return self._logged(response, request, object_id)


@dataclass(frozen=True)
class LinkedChange:
    """One change to a record linked to the demand, as its History page lists it (H1)."""

    when: datetime
    who: str
    action: str
    what: str
    reason: str


ACTIONS = {"+": "Added", "~": "Changed", "-": "Removed"}


def linked_history(demand_pk: int) -> list[LinkedChange]:
    """The demand's customer links and SCC steps, every version, newest first: three queries."""
    links = list(DemandCustomer.history.filter(demand_id=demand_pk).select_related("history_user"))
    names = recorded_names(Customer, {link.customer_id for link in links})
    changes = [
        LinkedChange(
            when=row.history_date,
            who=person_name(row.history_user) if row.history_user else row.history_actor,
            action=ACTIONS.get(row.history_type, row.history_type),
            what=f"Customer concerned: {names.get(row.customer_id, row.history_record)}",
            reason=row.history_change_reason or "",
        )
        for row in links
    ]
    changes += [
        LinkedChange(
            when=row.history_date,
            who=person_name(row.history_user) if row.history_user else row.history_actor,
            action=ACTIONS.get(row.history_type, row.history_type),
            what=f"{row.get_kind_display()} on {row.taken_on}: {row.note}",
            reason=row.history_change_reason or "",
        )
        for row in DemandStep.history.filter(demand_id=demand_pk).select_related("history_user")
    ]
    return sorted(changes, key=lambda change: change.when, reverse=True)


class DemandCustomerInline(admin.TabularInline):
    model = DemandCustomer
    autocomplete_fields = ["customer"]
    extra = 1
    verbose_name = "customer concerned"
    verbose_name_plural = "Customers concerned"


class DemandStepInline(admin.TabularInline):
    """SCC Clause 15.2 (and 15.1(b)): each step documented with its date and a note."""

    model = DemandStep
    fields = ["kind", "taken_on", "note"]
    extra = 0
    verbose_name_plural = (
        "SCC Clause 15 steps: legality review, challenge, minimal disclosure, efforts to lift "
        "the order"
    )


class TransparencyForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)
    half = forms.TypedChoiceField(
        choices=[(1, "H1 (January–June)"), (2, "H2 (July–December)")], coerce=int
    )


@admin.register(LawEnforcementDemand)
class LawEnforcementDemandAdmin(LogsDemandViews):
    list_display = [
        "received_on",
        "agency",
        "country",
        "legal_process",
        "compelled",
        "customer_notice_due_on",
        "order_review_due_on",
        "customer_notified_on",
        "outcome_display",
    ]
    list_filter = [CustomerNoticeDueFilter, "legal_process", "country", "disclosure", "compelled"]
    search_fields = ["agency", "country", "customers__legal_name", "data_sought"]
    date_hierarchy = "received_on"
    readonly_fields = ["customer_notice_due_on", "order_review_due_on"]
    inlines = [DemandCustomerInline, DemandStepInline]
    object_history_template = "admin/requests/lawenforcementdemand/object_history.html"
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
                    "order_review_due_on",
                ],
                "description": "With a last binding day, the customer notice falls due the "
                "day after it. Without one, the order comes up for review every "
                "few months: record each effort to lift it as a step below (SCC 15.1(b)).",
            },
        ),
        (
            "4. Customer notified",
            {
                "fields": [
                    "customer_notice_due_on",
                    "customer_notified_on",
                    "customer_notified_to",
                ],
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

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # A customer added or removed, a step recorded: the reason typed goes with them (H1).
        reason = form.cleaned_data.get("change_reason") or None
        with acting_as(current_actor(request.user), reason=reason):
            super().save_formset(request, form, formset, change)

    # --- Every view is logged (R6): the pages are LogsDemandViews'.

    def demand_of_row(self, row: LawEnforcementDemand) -> int:
        return row.pk

    def demand_of_page(self, request: HttpRequest, object_id: str) -> int | None:
        return int(object_id) if object_id.isdigit() else None

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {"linked_history": linked_history(int(object_id)) if object_id.isdigit() else []}
        return super().history_view(request, object_id, {**context, **(extra_context or {})})

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
            export = request.GET.get("format")
            if export and not request.user.has_perm(EXPORT_PERMISSION):
                raise PermissionDenied  # R6: exports are counsel's
            report = transparency_report(year=year, half=half)
            log_views(request, report.demand_ids)
            name = f"transparency-report-{year}-H{half}"
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
class DemandViewAdmin(LogsDemandViews):
    """The access log is evidence: read-only for everyone."""

    list_display = ["viewed_at", "user", "demand", "path"]
    list_filter = [("viewed_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "demand__agency", "path"]
    date_hierarchy = "viewed_at"

    # --- The log names the demands it records views of: reading it is a view too (R6).

    def demand_of_row(self, row: DemandView) -> int:
        return row.demand_id

    def demand_of_page(self, request: HttpRequest, object_id: str) -> int | None:
        view = self.get_object(request, object_id)
        return view.demand_id if isinstance(view, DemandView) else None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
