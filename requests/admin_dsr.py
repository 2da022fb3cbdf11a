"""The staff side of data subject requests (R1–R3, T5): regimes, the request list with its
clocks, the redirect to the customer (R1), the DSR log and the yearly metrics report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.html import format_html
from import_export.formats import base_formats

from customers.admin import due_cell
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import ReportExportMixin
from harmonyze_portal.templatetags.portal_rules import rule_filter
from harmonyze_portal.wording import counted
from requests import services
from requests.admin_dsr_forms import DSRForm, MetricsForm, RedirectForm
from requests.models import Channel, DataSubjectRequest, DSRStatus, PeriodUnit, Regime
from requests.models.dsr import DSRQuerySet
from requests.reports import (
    METRICS_HEADERS,
    DSRLogResource,
    ccpa_metrics,
    metrics_csv,
    metrics_pdf,
    responded_on,
)

# --- The rule behind each clock (T5) -------------------------------------------------------------


def period_text(value: int, unit: str) -> str:
    label = PeriodUnit(unit).label
    return f"{value} {label[:-1] if value == 1 else label}"


def rule_ids(regime: Regime, *units: str) -> str:
    ids = ["R3"]
    if PeriodUnit.MONTHS in units:
        ids.append("T3")
    if regime.moves_off_weekends:
        ids.append("T4")
    return ", ".join(ids)


def response_rule(regime: Regime) -> str:
    """e.g. "GDPR (EU): 1 calendar month, moved off weekends and holidays (R3, T3, T4)"."""
    moved = ", moved off weekends and holidays" if regime.moves_off_weekends else ""
    return (
        f"{regime.name}: {period_text(regime.response_value, regime.response_unit)} from the "
        f"legal date of receipt{moved} ({rule_ids(regime, regime.response_unit)})"
    )


def extension_rule(regime: Regime) -> str:
    """e.g. "GDPR (EU): 1 calendar month + 2 further calendar months, counted from the legal
    date of receipt, if the requester is told by the original deadline, moved off weekends and
    holidays once, at the end (R3, T3, T4)" — what ``deadlines.extended_to`` computes."""
    if not regime.extension_value:
        return f"{regime.name}: no extension (R3)"
    moved = (
        ", moved off weekends and holidays once, at the end" if regime.moves_off_weekends else ""
    )
    return (
        f"{regime.name}: {period_text(regime.response_value, regime.response_unit)} + "
        f"{period_text(regime.extension_value, regime.extension_unit).replace(' ', ' further ', 1)}"
        f", counted from the legal date of receipt, if the requester is told by the original "
        f"deadline{moved} ({rule_ids(regime, regime.response_unit, regime.extension_unit)})"
    )


def customer_notice_rule() -> str:
    days = settings.DSR_CUSTOMER_NOTICE_DAYS
    return (
        f"{period_text(days, PeriodUnit.DAYS)} after receipt, house target for notifying a "
        "customer whose DPA includes the SCCs (R1, SCC Clause 10(a))"
    )


def acknowledge_rule(regime: Regime) -> str:
    return (
        f"{regime.name}: confirm receipt within {regime.acknowledge_business_days} business days "
        "(R3)"
    )


def clock_line(value: object, rule: str) -> str:
    if value is None:
        return format_html("– <small>({})</small>", rule_filter(rule))
    return format_html("{} <small>({})</small>", value, rule_filter(rule))


# --- Regimes -----------------------------------------------------------------------------------


@admin.register(Regime)
class RegimeAdmin(TrackedAdmin):
    """The laws' clocks are rows (R3): counsel adds a law or corrects a period here."""

    list_display = [
        "name",
        "code",
        "response_display",
        "extension_display",
        "acknowledge_business_days",
        "moves_off_weekends",
        "calendar_display",
        "source",
    ]
    search_fields = ["name", "code", "source"]

    @admin.display(description="Holiday calendar (T4)", ordering="holiday_country")
    def calendar_display(self, obj: Regime) -> str:
        if obj.holiday_subdivision:
            return f"{obj.holiday_country}-{obj.holiday_subdivision}"
        return obj.holiday_country

    @admin.display(description="Respond within (R3)")
    def response_display(self, obj: Regime) -> str:
        return period_text(obj.response_value, obj.response_unit)

    @admin.display(description="Extension (R3)")
    def extension_display(self, obj: Regime) -> str:
        if not obj.extension_value:
            return "none"
        return period_text(obj.extension_value, obj.extension_unit)

    def save_model(self, request: HttpRequest, obj: Regime, form: Any, change: bool) -> None:
        # Regime.save() moves the stored deadlines of the requests still open under it, each
        # saved with its own history row; the admin only says how many.
        super().save_model(request, obj, form, change)
        if obj.recomputed:
            self.message_user(
                request, f"Recomputed the deadlines of {counted(obj.recomputed, 'open request')}."
            )


# --- Data subject requests -----------------------------------------------------------------------


class DueFilter(admin.SimpleListFilter):
    title = "deadline (R3)"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("open", "Open"),
            ("week", "Due this week (next 7 days)"),
            ("overdue", "Overdue"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = legal_today()
        value = self.value()
        dsrs = cast(DSRQuerySet, queryset)
        if value == "open":
            return dsrs.open()
        if value == "week":
            return dsrs.due_between(today, today + timedelta(days=6))
        if value == "overdue":
            return dsrs.overdue(today)
        return queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReportExportMixin, TrackedAdmin):
    """Requests with their clocks (R3, T5). Processor-side ones go to the customer with one
    action (R1); controller-side ones are verified and answered here (R2). The changelist,
    filtered as wanted, exports as the DSR log."""

    form = DSRForm
    resource_classes = [DSRLogResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "dsr-log"
    change_list_template = "admin/requests/datasubjectrequest/change_list.html"
    list_display = [
        "requester",
        "right",
        "regime",
        "role",
        "customer",
        "status",
        "received_on",
        "due_display",
        "acknowledge_display",
    ]
    list_filter = [DueFilter, "status", "regime", "role", "right", "channel"]
    search_fields = [
        "requester_name",
        "requester_email",
        "customer__legal_name",
        "service_named",
        "details",
    ]
    list_select_related = ["regime", "customer"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "received_on"
    actions = ["redirect_to_customer"]
    readonly_fields = [
        "respond_by_display",
        "acknowledge_by_display",
        "extended_to_display",
        "suggested_customer_display",
        "verified_email_at",
        "verified_by",
        "redirected_on",
        "customer_notice_due_display",
        "redirect_message",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "channel",
                    "status",
                    "requester_name",
                    "requester_email",
                    "right",
                    "regime",
                    "service_named",
                    "details",
                ]
            },
        ),
        (
            "Clocks (R3)",
            {
                "fields": [
                    "received_on",
                    "verified_email_at",
                    "acknowledge_by_display",
                    "acknowledged_on",
                    "respond_by_display",
                    "extension_told_on",
                    "extended_to_display",
                ],
                "description": "The deadlines are computed from the legal date of receipt and "
                "the regime when the request is saved. Entering the date the requester was "
                "told of an extension extends the deadline; it must be on or before the "
                "original deadline.",
            },
        ),
        ("Role (C1, R1, R2)", {"fields": ["role", "customer", "suggested_customer_display"]}),
        (
            "Processor: redirected to the customer (R1)",
            {
                "fields": [
                    "customer_notice_due_display",
                    "customer_informed_on",
                    "redirected_on",
                    "redirect_message",
                ],
                "description": "Set by the action “Redirect to the customer (R1)” on the list. "
                "When the customer's DPA includes the SCCs the customer must be notified of "
                "the request (SCC Clause 10(a)): the redirect does it by email, or record here "
                "the date it was notified another way. The request cannot be closed before.",
            },
        ),
        (
            "Controller: identity (R2)",
            {
                "fields": [
                    "verification_method",
                    "verified_on",
                    "verified_by",
                    "government_id_requested",
                ],
                "description": "Verify against the account email first; a government ID may "
                "be asked for. Whoever saves the verification is recorded as having checked.",
            },
        ),
        ("Authorized agent (R2)", {"fields": ["agent_name", "agent_email", "agent_proof"]}),
        ("Outcome", {"fields": ["outcome", "denial_reason", "reply_sent_on", "reply"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if isinstance(obj, DataSubjectRequest) and obj.channel == Channel.PUBLIC_FORM:
            # The submission date is the legal date of receipt (R3): a fact, not input.
            fields += ["channel", "received_on"]
        return fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changed = set(form.changed_data)
        if obj.verification_method and changed & {"verification_method", "verified_on"}:
            obj.verified_by = request.user
        super().save_model(request, obj, form, change)

    # --- Each clock with its rule (T5).

    @admin.display(description="Requester", ordering="requester_name")
    def requester(self, obj: DataSubjectRequest) -> str:
        return format_html("{}<br><small>{}</small>", obj.requester_name, obj.requester_email)

    @admin.display(description="Due (R3)", ordering="respond_by")
    def due_display(self, obj: DataSubjectRequest) -> str:
        if obj.status != DSRStatus.OPEN and responded_on(obj) is None and obj.due:
            return format_html(
                "{} <small>({}) {}</small>", obj.due, rule_filter("R3"), obj.get_status_display()
            )
        return due_cell(obj.due, responded_on(obj), "R3")

    @admin.display(description="Acknowledge by (R3)", ordering="acknowledge_by")
    def acknowledge_display(self, obj: DataSubjectRequest) -> str:
        if obj.acknowledge_by is None:
            return "–"
        return due_cell(obj.acknowledge_by, obj.acknowledged_on or responded_on(obj), "R3")

    @admin.display(description="Respond by")
    def respond_by_display(self, obj: DataSubjectRequest) -> str:
        if not obj.pk:
            return "Computed when saved (R3)."
        return clock_line(obj.respond_by, response_rule(obj.regime))

    @admin.display(description="Acknowledge by")
    def acknowledge_by_display(self, obj: DataSubjectRequest) -> str:
        if not obj.pk:
            return "Computed when saved (R3)."
        if not obj.regime.acknowledge_business_days:
            return f"{obj.regime.name} sets no acknowledgement period (R3)."
        return clock_line(obj.acknowledge_by, acknowledge_rule(obj.regime))

    @admin.display(description="Extended to")
    def extended_to_display(self, obj: DataSubjectRequest) -> str:
        if not obj.pk:
            return "Computed when saved (R3)."
        return clock_line(obj.extended_to, extension_rule(obj.regime))

    @admin.display(description="Notify the customer by")
    def customer_notice_due_display(self, obj: DataSubjectRequest) -> str:
        if not obj.pk:
            return "Computed when saved (R1)."
        if obj.customer_notice_due is None:
            return "No notice owed: no customer with the SCCs in its DPA (R1)."
        return clock_line(obj.customer_notice_due, customer_notice_rule())

    @admin.display(description="Suggested customer (R1)")
    def suggested_customer_display(self, obj: DataSubjectRequest) -> str:
        if not obj.pk:
            return "–"
        suggested = obj.suggested_customer()
        return str(suggested) if suggested else "none matches the email domain or service named"

    # --- The redirect to the customer (R1).

    @admin.action(description="Redirect to the customer (R1)", permissions=["change"])
    def redirect_to_customer(
        self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request,
                "Redirect one request at a time: each reply is checked before it is sent.",
                messages.ERROR,
            )
            return None
        dsr = queryset.get()
        if dsr.status != DSRStatus.OPEN:
            self.message_user(
                request,
                f"Only an open request can be redirected; this one is "
                f"“{dsr.get_status_display()}”.",
                messages.ERROR,
            )
            return None
        form = self.redirect_form(request, dsr)
        if "confirm" in request.POST and form.is_valid():
            customer = form.cleaned_data["customer"]
            try:
                services.dsr_redirect(
                    dsr=dsr,
                    customer=customer,
                    message=form.cleaned_data["message"],
                    inform_customer=form.cleaned_data["inform_customer"],
                )
            except ValidationError as exc:
                names = {"redirect_message": "message", "customer": "customer"}
                if hasattr(exc, "error_dict"):
                    for name, problems in exc.message_dict.items():
                        form.add_error(names.get(name), problems)
                else:
                    form.add_error(None, exc.messages)
            else:
                dsr.refresh_from_db()
                informed = " and informed its privacy contact" if dsr.customer_informed_on else ""
                self.message_user(
                    request,
                    f"Told {dsr.requester_email} to submit the request to {customer}{informed}; "
                    "the request is closed as redirected (R1).",
                )
                return None
        return render(
            request,
            "admin/requests/datasubjectrequest/redirect.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Redirect to the customer: {dsr}",
                "dsr": dsr,
                "form": form,
                "opts": self.model._meta,
                "action_name": "redirect_to_customer",
                "selected": dsr.pk,
            },
        )

    def redirect_form(self, request: HttpRequest, dsr: DataSubjectRequest) -> RedirectForm:
        """A first look drafts the reply for the suggested customer; "Redraft" drafts it for
        the customer chosen, discarding edits; "Send" takes the form as it stands."""
        if "confirm" in request.POST:
            return RedirectForm(request.POST)
        customer = dsr.customer or dsr.suggested_customer()
        inform = False
        if "redraft" in request.POST:
            chosen = RedirectForm(request.POST)
            chosen.is_valid()
            customer = chosen.cleaned_data.get("customer") or customer
            inform = bool(chosen.cleaned_data.get("inform_customer"))
        initial: dict[str, Any] = {"inform_customer": inform}
        if customer is not None:
            initial |= {"customer": customer, "message": services.redirect_draft(dsr, customer)}
        return RedirectForm(initial=initial)

    # --- The yearly metrics report.

    def get_urls(self) -> list[URLPattern]:
        metrics = path(
            "metrics/",
            self.admin_site.admin_view(self.metrics_view),
            name="requests_datasubjectrequest_metrics",
        )
        return [metrics, *super().get_urls()]

    def metrics_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        this_year = legal_today().year
        form = MetricsForm(request.GET or {"year": this_year - 1}, this_year=this_year)
        metrics = ccpa_metrics(form.cleaned_data["year"]) if form.is_valid() else None
        download = request.GET.get("download")
        if metrics is not None and download == "csv":
            response = HttpResponse(metrics_csv(metrics), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="privacy-request-metrics-{metrics.year}.csv"'
            )
            return response
        if metrics is not None and download == "pdf":
            response = HttpResponse(metrics_pdf(metrics), content_type="application/pdf")
            response["Content-Disposition"] = (
                f'attachment; filename="privacy-request-metrics-{metrics.year}.pdf"'
            )
            return response
        return render(
            request,
            "admin/requests/datasubjectrequest/metrics.html",
            {
                **self.admin_site.each_context(request),
                "title": metrics.title if metrics else "Privacy request metrics",
                "form": form,
                "metrics": metrics,
                "headers": METRICS_HEADERS,
                "opts": self.model._meta,
            },
        )
