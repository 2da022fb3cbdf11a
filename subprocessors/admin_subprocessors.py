"""The sub-processors on the public list (S1, S3)."""

from __future__ import annotations

from django.contrib import admin

from harmonyze_portal.admin import TrackedAdmin
from subprocessors.admin_common import ruled
from subprocessors.models import SubProcessor


@admin.register(SubProcessor)
class SubProcessorAdmin(TrackedAdmin):
    """Activation and the access date are judged by ``SubProcessor.clean()``/``save()`` (S3):
    the form shows the refusal; no path around it."""

    list_display = ["name", "status", "locations", "earliest_access_display", "access_began_on"]
    list_filter = ["status"]
    search_fields = ["name", "purpose", "locations"]
    readonly_fields = ["earliest_access_display"]

    @admin.display(description="Earliest access (S3)", ordering="earliest_access_on")
    def earliest_access_display(self, obj: SubProcessor) -> str:
        return ruled(obj.earliest_access_on, "S3")
