"""Changes to the list: publishing sends the Notice (S3, S6); the proof of notice (S6)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.wording import counted
from subprocessors import exports, services
from subprocessors.admin_common import error_messages, ruled
from subprocessors.models import Change, ChangeStatus, DeliveryStatus, Signup


@admin.register(Change)
class ChangeAdmin(TrackedAdmin):
    list_display = [
        "__str__",
        "kind",
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "deliveries_summary",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["summary", "subprocessor__name", "replaces__name"]
    autocomplete_fields = ["subprocessor", "replaces"]
    actions = ["publish"]
    fields = [
        "kind",
        "subprocessor",
        "replaces",
        "summary",
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "notice_sha256",
        "proof_links",
    ]
    readonly_fields = [
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "notice_sha256",
        "proof_links",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if isinstance(obj, Change) and obj.status == ChangeStatus.PUBLISHED:
            # The Notice went out with these words: they are evidence now.
            fields = ["kind", "subprocessor", "replaces", "summary", *fields]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if isinstance(obj, Change) and obj.status == ChangeStatus.PUBLISHED:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Notice date (S3)", ordering="notice_date")
    def notice_date_display(self, obj: Change) -> str:
        return ruled(obj.notice_date, "S3")

    @admin.display(description="Earliest access (S3)", ordering="earliest_access_on")
    def earliest_access_display(self, obj: Change) -> str:
        return ruled(obj.earliest_access_on, "S3")

    @admin.display(description="Deliveries (S6)")
    def deliveries_summary(self, obj: Change) -> str:
        counts = dict.fromkeys(DeliveryStatus.values, 0)
        for status in obj.deliveries.values_list("status", flat=True):
            counts[status] += 1
        if not any(counts.values()):
            return "–"
        return ", ".join(f"{count} {status}" for status, count in counts.items() if count)

    @admin.display(description="Proof of notice")
    def proof_links(self, obj: Change) -> str:
        if obj.pk is None or obj.status != ChangeStatus.PUBLISHED:
            return "Available once the change is published."
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            reverse("admin:subprocessors_change_proof", args=[obj.pk, "pdf"]),
            reverse("admin:subprocessors_change_proof", args=[obj.pk, "csv"]),
        )

    def get_urls(self) -> list[URLPattern]:
        proof = path(
            "<int:object_id>/proof.<str:fmt>",
            self.admin_site.admin_view(self.proof_view),
            name="subprocessors_change_proof",
        )
        return [proof, *super().get_urls()]

    def proof_view(self, request: HttpRequest, object_id: int, fmt: str) -> HttpResponse:
        change = get_object_or_404(Change, pk=object_id)
        if not self.has_view_permission(request, change):
            raise PermissionDenied
        name = f"proof-of-notice-change-{change.pk}"
        if fmt == "csv":
            response = HttpResponse(exports.proof_csv(change), content_type="text/csv")
        elif fmt == "pdf":
            response = HttpResponse(exports.proof_pdf(change), content_type="application/pdf")
        else:
            return HttpResponse(status=404)
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response

    @admin.action(description="Publish and send the Notice", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Change]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one change at a time.", messages.ERROR)
            return None
        change = queryset.get()
        if "confirm" in request.POST:
            try:
                queued = services.change_publish(change=change)
            except ValidationError as exc:
                error_messages(self, request, exc)
                return None
            self.message_user(
                request,
                f"Published {change}; the Notice is queued for {counted(queued, 'active signup')}. "
                "The Notice date is set once every delivery is sent.",
            )
            return None
        return render(
            request,
            "admin/subprocessors/change/publish.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Publish and send the Notice: {change}",
                "change": change,
                "recipients": Signup.objects.active().count(),
                "opts": self.model._meta,
                "action_name": "publish",
                "selected": change.pk,
            },
        )
