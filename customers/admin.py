from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.formats import base_formats

from customers import services
from customers.exports import BreachLogPDF, BreachLogResource, DPARegisterResource
from customers.models import (
    DPA,
    AssistanceRequest,
    Breach,
    BreachNotice,
    Contact,
    Customer,
    CustomerDomain,
    DeletionCertificate,
    ProhibitedDataFinding,
)
from customers.models.accounts import CustomerQuerySet
from customers.resources import CustomerImportResource
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.dates import add_months
from harmonyze_portal.exports import ReportExportMixin
from harmonyze_portal.timefmt import staff_datetime
from harmonyze_portal.wording import counted


def due_cell(due: date | None, done: date | None, rule: str) -> str:
    """A computed deadline with its rule (T5), marked overdue or done."""
    if due is None:
        return "–"
    if done is not None:
        return format_html("{} <small>({}) done {}</small>", due, rule, done)
    days = (due - legal_today()).days
    if days < 0:
        return format_html(
            '<strong class="overdue">{} <small>({}) overdue by {} days</small></strong>',
            due,
            rule,
            -days,
        )
    return format_html("{} <small>({}) in {} days</small>", due, rule, days)


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
    ]
    list_filter = [
        "status",
        ("termination_date", admin.DateFieldListFilter),
        DeletionDueFilter,
        "terminated_by",
        "termination_route",
    ]
    search_fields = ["legal_name", "domains__domain", "contacts__email", "contacts__name"]
    inlines = [CustomerDomainInline, ContactInline, DPAInline]
    readonly_fields = ["status", "deletion_due_display", "purge_due_display"]
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
                ],
                "description": "Setting the termination date starts the deletion (C3, +90 days) "
                "and credential purge (C4, +30 days) clocks. Clearing it reopens the customer.",
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

    @admin.display(description="Deletion due (C3)", ordering="deletion_due")
    def deletion_due_display(self, obj: Customer) -> str:
        return due_cell(obj.deletion_due, obj.deletion_completed_on, "C3")

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


class BreachNoticeInline(admin.TabularInline):
    model = BreachNotice
    extra = 0
    fields = ["customer", "notice_due_display", "notified_at", "notified_to", "state"]
    readonly_fields = ["notice_due_display", "state"]
    autocomplete_fields = ["customer"]

    @admin.display(description="Target (C5)")
    def notice_due_display(self, obj: BreachNotice) -> str:
        if not obj.pk:
            return "–"
        return format_html("{} <small>(C5)</small>", staff_datetime(obj.notice_due_at))

    @admin.display(description="State")
    def state(self, obj: BreachNotice) -> str:
        return notice_state(obj)


def notice_state(notice: BreachNotice) -> str:
    if not notice.pk:
        return "–"
    if notice.notified_at is not None:
        if notice.is_late:
            late_by = (notice.notified_at - notice.notice_due_at).total_seconds() / 3600
            return format_html('<strong class="overdue">late by {} h</strong>', f"{late_by:.1f}")
        return "on time"
    left = notice.hours_left(timezone.now()) or 0.0
    if left < 0:
        return format_html('<strong class="overdue">overdue by {} h</strong>', f"{-left:.1f}")
    return f"pending, {left:.1f} h left"


class BreachNoticeForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "cols": 90}))


@admin.register(Breach)
class BreachAdmin(TrackedAdmin):
    list_display = ["title", "aware_at", "status", "notices_summary"]
    list_filter = ["status", ("aware_at", admin.DateFieldListFilter)]
    search_fields = ["title", "description", "notices__customer__legal_name"]
    inlines = [BreachNoticeInline]
    actions = ["send_notices"]

    @admin.display(description="Notices (C5)")
    def notices_summary(self, obj: Breach) -> str:
        notices = list(obj.notices.all())
        sent = sum(1 for notice in notices if notice.notified_at)
        late = sum(1 for notice in notices if notice.is_late)
        return f"{sent}/{len(notices)} sent" + (f", {late} late" if late else "")

    @admin.action(
        description="Send the breach notice to affected customers", permissions=["change"]
    )
    def send_notices(self, request: HttpRequest, queryset: QuerySet[Breach]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one breach at a time.", messages.ERROR)
            return None
        breach = queryset.get()
        if "confirm" in request.POST:
            form = BreachNoticeForm(request.POST)
            if form.is_valid():
                queued, missing = services.breach_notices_queue(
                    breach=breach,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                )
                self.message_user(request, f"Queued {counted(len(queued), 'notice')} for sending.")
                if missing:
                    self.message_user(
                        request,
                        "No notice contact, nothing sent: "
                        + ", ".join(str(c) for c in missing)
                        + ". Add one on the customer and send again.",
                        messages.WARNING,
                    )
                return None
        else:
            subject, body = services.breach_notice_draft(breach)
            form = BreachNoticeForm(initial={"subject": subject, "body": body})
        pending = breach.notices.pending().select_related("customer")
        return render(
            request,
            "admin/customers/breach/send_notices.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Send breach notice: {breach}",
                "breach": breach,
                "form": form,
                "pending": [(n, n.customer.notice_contact) for n in pending],
                "opts": self.model._meta,
                "action_name": "send_notices",
                "selected": breach.pk,
            },
        )


@admin.register(BreachNotice)
class BreachNoticeAdmin(ReportExportMixin, TrackedAdmin):
    """The changelist, filtered as wanted, exports as the breach notification log."""

    resource_classes = [BreachLogResource]
    export_formats = [base_formats.CSV, BreachLogPDF]
    report_name = "breach-notification-log"
    list_display = ["breach", "customer", "notice_due_at", "notified_at", "notified_to", "state"]
    list_filter = [("notified_at", admin.EmptyFieldListFilter), "breach"]
    search_fields = ["customer__legal_name", "breach__title", "notified_to"]
    readonly_fields = ["notice_due_at", "message_id"]
    autocomplete_fields = ["customer", "breach"]

    @admin.display(description="State")
    def state(self, obj: BreachNotice) -> str:
        return notice_state(obj)


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


@admin.register(ProhibitedDataFinding)
class ProhibitedDataFindingAdmin(TrackedAdmin):
    list_display = ["category", "customer", "learned_on", "deletion_confirmed_on"]
    list_filter = [("deletion_confirmed_on", admin.EmptyFieldListFilter), "category"]
    search_fields = ["customer__legal_name", "location", "notes"]
    autocomplete_fields = ["customer"]


class IssueCertificateForm(forms.Form):
    signatory_name = forms.CharField(max_length=200)
    signatory_title = forms.CharField(max_length=200, required=False)
    issued_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(DeletionCertificate)
class DeletionCertificateAdmin(TrackedAdmin):
    list_display = ["customer", "requested_on", "requested_by", "issued_on", "pdf_link"]
    list_filter = [("issued_on", admin.EmptyFieldListFilter)]
    search_fields = ["customer__legal_name", "requested_by"]
    autocomplete_fields = ["customer", "dpa"]
    readonly_fields = ["issued_on", "signatory_name", "signatory_title", "pdf_link"]
    actions = ["issue_certificate"]

    @admin.display(description="Certificate PDF")
    def pdf_link(self, obj: DeletionCertificate) -> str:
        if not obj.pdf:
            return "–"
        return format_html('<a href="{}">Download</a>', obj.pdf.url)

    @admin.action(description="Issue the certificate of deletion (PDF)", permissions=["change"])
    def issue_certificate(
        self, request: HttpRequest, queryset: QuerySet[DeletionCertificate]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one certificate request at a time.", messages.ERROR)
            return None
        certificate = queryset.get()
        if "confirm" in request.POST:
            form = IssueCertificateForm(request.POST)
            if form.is_valid():
                try:
                    services.certificate_issue(certificate=certificate, **form.cleaned_data)
                except ValidationError as exc:
                    for message in exc.messages:
                        self.message_user(request, message, messages.ERROR)
                    return None
                self.message_user(request, f"Issued: {certificate}.")
                return None
        else:
            form = IssueCertificateForm(
                initial={
                    "issued_on": legal_today(),
                    "signatory_name": getattr(request.user, "get_full_name", str)(),
                }
            )
        return render(
            request,
            "admin/customers/deletioncertificate/issue.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Issue certificate of deletion: {certificate.customer}",
                "certificate": certificate,
                "form": form,
                "opts": self.model._meta,
                "action_name": "issue_certificate",
                "selected": certificate.pk,
            },
        )
