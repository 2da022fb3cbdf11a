"""The evidence packs in the admin (issue 17): ask for one, watch it build, download it.

Asking is the add form (the customer page links to it with the customer filled in); the build
runs in the task queue as the member who asked (H1). A built pack is evidence: nobody edits or
deletes it. A pack that holds law-enforcement demands (R6) is listed and served to counsel only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import slugify

from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.models import EvidencePack, PackStatus, may_include_law_enforcement
from harmonyze_portal.tasks import build_evidence_pack

FIELDS = ["customer", "period_start", "period_end", "include_law_enforcement"]


def visible_packs(user: Any, queryset: QuerySet[EvidencePack]) -> QuerySet[EvidencePack]:
    """R6: a pack holding law-enforcement demands is counsel's alone."""
    if may_include_law_enforcement(user):
        return queryset
    return queryset.filter(include_law_enforcement=False)


@admin.register(EvidencePack)
class EvidencePackAdmin(TrackedAdmin):
    list_display = [
        "customer",
        "period_start",
        "period_end",
        "include_law_enforcement",
        "requested_by",
        "status",
        "progress_display",
        "download",
    ]
    list_filter = ["status", "include_law_enforcement"]
    search_fields = ["customer__legal_name", "sha256"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvidencePack]:
        queryset = super().get_queryset(request).select_related("customer", "requested_by")
        return visible_packs(request.user, queryset)

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return [*FIELDS, "change_reason"]
        return [*FIELDS, "requested_by", "status", "progress", "error", "sha256", "download"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return []
        return [*FIELDS, "requested_by", "status", "progress", "error", "sha256", "download"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)

        class AskedBy(form):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                # The model's own check (R6, counsel only) needs to know who asks.
                self.instance.requested_by = request.user
                super()._post_clean()

        return AskedBy

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # a pack is evidence: asked for, built, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.requested_by = request.user
        obj.status = PackStatus.QUEUED
        super().save_model(request, obj, form, change)
        pack_id, staff_id = obj.pk, request.user.pk
        transaction.on_commit(
            lambda: build_evidence_pack.enqueue(pack_id=pack_id, staff_id=staff_id)
        )

    @admin.display(description="progress")
    def progress_display(self, obj: EvidencePack) -> str:
        return f"{obj.progress}%"

    @admin.display(description="download")
    def download(self, obj: EvidencePack) -> str:
        if obj.status != PackStatus.DONE or not obj.pk:
            return "–"
        url = reverse("admin:harmonyze_portal_evidencepack_download", args=[obj.pk])
        return format_html('<a href="{}">ZIP</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="harmonyze_portal_evidencepack_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        pack = get_object_or_404(self.get_queryset(request), pk=pk)
        if pack.status != PackStatus.DONE or not pack.file:
            raise Http404("The pack is not built yet.")
        name = (
            f"evidence-{slugify(str(pack.customer))}-{pack.period_start:%Y%m%d}-"
            f"{pack.period_end:%Y%m%d}.zip"
        )
        response = FileResponse(pack.file.open("rb"), as_attachment=True, filename=name)
        response["X-Content-Type-Options"] = "nosniff"
        return response
