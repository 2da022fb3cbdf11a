"""The sub-processors on the public list (S1, S3), with their agreements, processing
countries and transfer mechanisms (S7), and the copies a customer may ask for (DPA 5.3)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from import_export.formats import base_formats

from customers.models import AssistanceRequest
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.exports import ReportExportMixin
from subprocessors import agreements
from subprocessors.admin_common import error_messages, ruled
from subprocessors.locations import ProcessingLocation
from subprocessors.models import SubProcessor


class ProcessingLocationInline(admin.TabularInline[ProcessingLocation, SubProcessor]):
    """S7: one row per country; outside the United States, the transfer mechanism."""

    model = ProcessingLocation
    extra = 0
    fields = ["country", "transfer_mechanism", "details"]


@admin.register(SubProcessor)
class SubProcessorAdmin(ReportExportMixin, TrackedAdmin):
    """Activation and the access date are judged by ``SubProcessor.clean()``/``save()`` (S3):
    the form shows the refusal; no path around it. Who checked the flow-down terms is the
    staff member who saves the tick (S7)."""

    change_list_template = "admin/subprocessors/subprocessor/change_list.html"
    resource_classes = [agreements.AgreementRegisterResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "subprocessor-agreements"
    inlines = [ProcessingLocationInline]
    list_display = [
        "name",
        "status",
        "countries_display",
        "earliest_access_display",
        "access_began_on",
        "agreement_signed_on",
        "flowdown_checked",
    ]
    list_filter = [
        "status",
        "flowdown_checked",
        ("agreement_copy", admin.EmptyFieldListFilter),
        "processing_locations__country",
        "processing_locations__transfer_mechanism",
    ]
    search_fields = ["name", "purpose", "locations"]
    readonly_fields = ["earliest_access_display", "flowdown_checked_by", "flowdown_checked_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "purpose",
                    "locations",
                    "data_categories",
                    "website",
                    "status",
                    "earliest_access_display",
                    "access_began_on",
                    "retired_on",
                ]
            },
        ),
        (
            "Agreement (S7, DPA 5.2, 5.3)",
            {
                "fields": [
                    "agreement_signed_on",
                    "agreement_document",
                    "agreement_copy",
                    "flowdown_checked",
                    "flowdown_checked_by",
                    "flowdown_checked_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> Any:
        return agreements.with_locations(super().get_queryset(request)).distinct()

    @admin.display(description="Earliest access (S3)", ordering="earliest_access_on")
    def earliest_access_display(self, obj: SubProcessor) -> str:
        return ruled(obj.earliest_access_on, "S3")

    @admin.display(description="Countries (S7)")
    def countries_display(self, obj: SubProcessor) -> str:
        return agreements.country_codes(obj) or "–"

    def may_answer_copy_requests(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(
            "customers.view_assistancerequest"
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "may_answer_copy_requests": self.may_answer_copy_requests(request),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "agreement-copies/",
                self.admin_site.admin_view(self.copy_requests_view),
                name="subprocessors_subprocessor_copy_requests",
            ),
            path(
                "agreement-copies/<int:request_id>.zip",
                self.admin_site.admin_view(self.copies_zip_view),
                name="subprocessors_subprocessor_copies_zip",
            ),
            *super().get_urls(),
        ]

    def copy_requests_view(self, request: HttpRequest) -> HttpResponse:
        """C6 (DPA 5.3): the open written requests for copies, and whether the records can
        answer them now."""
        if not self.may_answer_copy_requests(request):
            raise PermissionDenied
        current = list(SubProcessor.objects.current().order_by("name"))
        return render(
            request,
            "admin/subprocessors/subprocessor/copy_requests.html",
            {
                **self.admin_site.each_context(request),
                "title": "Copies of sub-processor agreements for customers (DPA 5.3)",
                "requests": agreements.open_copy_requests(),
                "missing": agreements.copies_missing(current),
                "current": current,
                "opts": self.model._meta,
            },
        )

    def copies_zip_view(self, request: HttpRequest, request_id: int) -> HttpResponse:
        if not self.may_answer_copy_requests(request):
            raise PermissionDenied
        assistance = get_object_or_404(AssistanceRequest, pk=request_id)
        try:
            data = agreements.agreement_copies_zip(assistance)
        except ValidationError as exc:
            error_messages(self, request, exc)
            return HttpResponseRedirect(
                reverse("admin:subprocessors_subprocessor_copy_requests"), status=303
            )
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="subprocessor-agreements-request-{assistance.pk}.zip"'
        )
        return response


@admin.register(ProcessingLocation)
class ProcessingLocationAdmin(ReportExportMixin, TrackedAdmin):
    """S7: every country where a sub-processor processes data, and the transfer mechanism of
    each outside the United States: the transfers register, filtered and exported."""

    resource_classes = [agreements.TransferRegisterResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "subprocessor-transfers"
    list_display = ["subprocessor", "country", "transfer_mechanism", "details"]
    list_filter = ["country", "transfer_mechanism", "subprocessor__status"]
    search_fields = ["subprocessor__name", "details"]
    autocomplete_fields = ["subprocessor"]
