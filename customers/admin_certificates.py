"""The certificates of deletion admin (C3): issued as a PDF on the customer's written request,
naming what a legal hold retains, or refused because of the hold (C9)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html

from customers import services
from customers.models import DeletionCertificate
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today


class IssueCertificateForm(forms.Form):
    signatory_name = forms.CharField(label="Signatory's name", max_length=200)
    signatory_title = forms.CharField(label="Signatory's title", max_length=200, required=False)
    issued_on = forms.DateField(label="Issued on", widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(DeletionCertificate)
class DeletionCertificateAdmin(TrackedAdmin):
    list_display = [
        "customer",
        "requested_on",
        "requested_by",
        "issued_on",
        "refused_on",
        "pdf_link",
    ]
    list_filter = [
        ("issued_on", admin.EmptyFieldListFilter),
        ("refused_on", admin.EmptyFieldListFilter),
    ]
    search_fields = ["customer__legal_name", "requested_by"]
    autocomplete_fields = ["customer", "dpa"]
    readonly_fields = [
        "issued_on",
        "signatory_name",
        "signatory_title",
        "data_retained",
        "refused_on",
        "refusal_reason",
        "pdf_link",
    ]
    actions = ["issue_certificate", "refuse_certificate"]

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

    @admin.action(
        description="Refuse the certificate: a legal hold keeps the data (C9)",
        permissions=["change"],
    )
    def refuse_certificate(
        self, request: HttpRequest, queryset: QuerySet[DeletionCertificate]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one certificate request at a time.", messages.ERROR)
            return None
        certificate = queryset.select_related("customer").get()
        if "confirm" in request.POST:
            form = RefuseCertificateForm(request.POST)
            if form.is_valid():
                try:
                    services.certificate_refuse(certificate=certificate, **form.cleaned_data)
                except ValidationError as exc:
                    for message in exc.messages:
                        self.message_user(request, message, messages.ERROR)
                    return None
                self.message_user(request, f"Refused: {certificate}.")
                return None
        else:
            form = RefuseCertificateForm(initial={"refused_on": legal_today()})
        return render(
            request,
            "admin/customers/deletioncertificate/refuse.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Refuse certificate of deletion: {certificate.customer}",
                "certificate": certificate,
                "holds": certificate.customer.legal_holds.active(),
                "form": form,
                "opts": self.model._meta,
                "action_name": "refuse_certificate",
                "selected": certificate.pk,
            },
        )


class RefuseCertificateForm(forms.Form):
    refused_on = forms.DateField(label="Refused on", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label="Reason given to the customer",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Left empty, the reason names the legal holds.",
    )
