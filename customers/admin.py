from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportMixin
from import_export.formats import base_formats

from customers import (  # noqa: F401  (registers the breach, certificate and instruction pages)
    admin_breaches,
    admin_certificates,
    admin_instructions,
    services,
)
from customers.admin_holds import LegalHoldInline
from customers.exports import DPARegisterResource
from customers.models import (
    DPA,
    AssistanceRequest,
    Contact,
    Customer,
    CustomerDomain,
    ProhibitedDataFinding,
)
from customers.models.accounts import CustomerQuerySet
from customers.models.assistance import FindingQuerySet
from customers.resources import CustomerImportResource
from harmonyze_portal import customer_page
from harmonyze_portal.admin import ChangeReasonForm, TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.conflicts import CONFIRM_FIELD, termination_conflicts
from harmonyze_portal.dates import add_months
from harmonyze_portal.exports import ReportExportMixin
from harmonyze_portal.templatetags.portal_rules import rule_filter


def due_cell(due: date | None, done: date | None, rule: str) -> str:
    """A computed deadline with its rule (T5), marked overdue or done."""
    if due is None:
        return "–"
    if done is not None:
        return format_html("{} <small>({}) done {}</small>", due, rule_filter(rule), done)
    days = (due - legal_today()).days
    if days < 0:
        return format_html(
            '<strong class="overdue">{} <small>({}) overdue by {} days</small></strong>',
            due,
            rule_filter(rule),
            -days,
        )
    return format_html("{} <small>({}) in {} days</small>", due, rule_filter(rule), days)


class DeletionDueFilter(admin.SimpleListFilter):
    title = "deletion (C3)"
    parameter_name = "deletion"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", "Overdue"),
            ("this_month", "Due this month"),
            ("next_30", "Due in the next 30 days"),
            ("done", "Done"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = legal_today()
        value = self.value()
        # The same QuerySet methods as the dashboard (C3): the open filter is written once.
        customers = cast(CustomerQuerySet, queryset)
        if value == "overdue":
            return customers.deletion_overdue(today)
        if value == "this_month":
            first = today.replace(day=1)
            last = add_months(first, 1) - timedelta(days=1)
            return customers.deletion_due_between(first, last)
        if value == "next_30":
            return customers.deletion_due_between(today, today + timedelta(days=30))
        if value == "done":
            return queryset.filter(deletion_completed_on__isnull=False)
        return queryset


class CustomerDomainInline(admin.TabularInline):
    model = CustomerDomain
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class DPAInline(admin.TabularInline):
    model = DPA
    extra = 0
    fields = ["version", "status", "signed_on", "effective_on", "signed_file"]
    show_change_link = True


class CustomerForm(ChangeReasonForm):
    confirm_conflicts = forms.BooleanField(
        label="Terminate despite the conflicts",
        required=False,
        help_text="Needed when a legal hold is active or a law-enforcement demand is open "
        "(C9); what is confirmed is kept in the history.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Read by Customer.clean(), which refuses an unconfirmed conflicting termination.
        self.instance.confirm_termination_conflicts = bool(data.get(CONFIRM_FIELD))
        return data


@admin.register(Customer)
class CustomerAdmin(ImportMixin, TrackedAdmin):
    resource_classes = [CustomerImportResource]
    import_formats = [base_formats.CSV, base_formats.XLSX]
    import_template_name = "admin/customers/customer/import.html"
    list_display = [
        "legal_name",
        "status",
        "agreement_effective_on",
        "termination_date",
        "deletion_due_display",
        "purge_due_display",
        "full_picture",
    ]
    list_filter = [
        "status",
        ("termination_date", admin.DateFieldListFilter),
        DeletionDueFilter,
        "terminated_by",
        "termination_route",
    ]
    search_fields = ["legal_name", "domains__domain", "contacts__email", "contacts__name"]
    form = CustomerForm
    inlines = [
        CustomerDomainInline,
        ContactInline,
        DPAInline,
        LegalHoldInline,
        admin_instructions.InstructionInline,
    ]
    readonly_fields = [
        "status",
        "deletion_due_display",
        "purge_due_display",
        "conflicts_display",
    ]
    fieldsets = [
        (None, {"fields": ["legal_name", "status", "agreement_effective_on"]}),
        (
            "Termination",
            {
                "fields": [
                    "termination_date",
                    "terminated_by",
                    "termination_route",
                    "termination_reason",
                    "earlier_deletion_requested_on",
                    "conflicts_display",
                    CONFIRM_FIELD,
                ],
                "description": "Setting the termination date starts the deletion (C3, +90 days) "
                "and credential purge (C4, +30 days) clocks. Clearing it reopens the customer. "
                "An active legal hold or an open law-enforcement demand must be confirmed (C9).",
            },
        ),
        (
            "Deletion",
            {
                "fields": [
                    "deletion_due_display",
                    "deletion_completed_on",
                    "purge_due_display",
                    "credential_purge_completed_on",
                ]
            },
        ),
    ]

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import both adds customers and updates existing ones.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # The confirmed run writes the whole file or nothing, even if the data changed since
        # the preview (a domain taken in between, say).
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: the file no longer passes the checks it passed in the "
                "preview. Upload it again to see why.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_import"))
        return super().process_result(result, request)

    @admin.display(description="Full picture")
    def full_picture(self, obj: Customer) -> str:
        return format_html(
            '<a href="{}">Where we stand with {}</a>', customer_page.url(obj), obj.legal_name
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return cast(CustomerQuerySet, super().get_queryset(request)).with_hold()

    @admin.display(description="Deletion due (C3)", ordering="deletion_due")
    def deletion_due_display(self, obj: Customer) -> str:
        cell = due_cell(obj.deletion_due, obj.deletion_completed_on, "C3")
        basis = getattr(obj, "hold_basis", None)
        if basis and obj.deletion_due and not obj.deletion_completed_on:
            # C9: held, with the reason, never silently dropped.
            return format_html('{} <strong class="held">held: {} (C9)</strong>', cell, basis)
        return cell

    @admin.display(description="Termination conflicts (C9)")
    def conflicts_display(self, obj: Customer) -> str:
        found = termination_conflicts(obj)
        if not found:
            return "None: no active legal hold and no open law-enforcement demand."
        items = format_html_join("", "<li>{}</li>", ((str(conflict),) for conflict in found))
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="Credential purge due (C4)", ordering="credential_purge_due")
    def purge_due_display(self, obj: Customer) -> str:
        return due_cell(obj.credential_purge_due, obj.credential_purge_completed_on, "C4")


@admin.register(DPA)
class DPAAdmin(ReportExportMixin, TrackedAdmin):
    """The changelist, filtered as wanted, exports as the DPA register."""

    resource_classes = [DPARegisterResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "dpa-register"
    list_display = [
        "customer",
        "version",
        "status",
        "signed_on",
        "effective_on",
        "transfer_terms_display",
        "supervisory_authority",
        "supervisory_authority_country",
    ]
    list_filter = [
        "status",
        "eu_sccs_module_two",
        "uk_addendum",
        "swiss_fadp",
        "supervisory_authority_country",
        "governing_law",
    ]
    search_fields = ["customer__legal_name", "version", "supervisory_authority"]
    autocomplete_fields = ["customer"]

    @admin.display(description="Transfer terms")
    def transfer_terms_display(self, obj: DPA) -> str:
        return ", ".join(obj.transfer_terms) or "–"


@admin.register(AssistanceRequest)
class AssistanceRequestAdmin(TrackedAdmin):
    list_display = ["customer", "kind", "received_on", "due_display", "status", "completed_on"]
    list_filter = ["kind", "status", ("due_on", admin.DateFieldListFilter)]
    search_fields = ["customer__legal_name", "summary", "outcome"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["due_display"]

    @admin.display(description="Due (C6)", ordering="due_on")
    def due_display(self, obj: AssistanceRequest) -> str:
        return due_cell(obj.due_on if obj.pk else None, obj.completed_on, "C6")


class FindingStateFilter(admin.SimpleListFilter):
    title = "state (C7)"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("open", "Open"),
            ("deleted", "Deletion confirmed"),
            ("authorised", "Authorised by the Order Form"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        findings = cast(FindingQuerySet, queryset)
        if self.value() == "open":
            return findings.open()
        if self.value() == "deleted":
            return queryset.filter(deletion_confirmed_on__isnull=False)
        if self.value() == "authorised":
            return findings.authorised()
        return queryset


@admin.register(ProhibitedDataFinding)
class ProhibitedDataFindingAdmin(TrackedAdmin):
    list_display = [
        "category",
        "customer",
        "learned_on",
        "deletion_confirmed_on",
        "authorised_on",
        "order_form_reference",
    ]
    list_filter = [FindingStateFilter, "category"]
    search_fields = ["customer__legal_name", "location", "notes", "order_form_reference"]
    autocomplete_fields = ["customer"]
    fieldsets = [
        (None, {"fields": ["customer", "category", "location", "learned_on", "notes"]}),
        (
            "Closing the finding (C7, PP 7)",
            {
                "fields": ["deletion_confirmed_on", "authorised_on", "order_form_reference"],
                "description": "Either confirm the deletion, or close the finding as "
                "authorised by the customer's Order Form and cite it.",
            },
        ),
    ]
