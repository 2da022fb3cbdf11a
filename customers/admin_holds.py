"""The legal holds admin (C9): inline on the customer, and a changelist with filters whose
export honours them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from import_export.formats import base_formats

from customers.exports import LegalHoldResource
from customers.models import LegalHold
from customers.models.holds import LegalHoldQuerySet
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import ReportExportMixin

HOLD_FIELDS: tuple[str, ...] = (
    "legal_basis",
    "requested_by",
    "requester",
    "data_kept",
    "started_on",
    "review_on",
    "released_on",
    "release_reason",
)


def review_cell(hold: LegalHold) -> str:
    """The review date with its rule (T5), marked overdue while the hold is active."""
    if hold.pk is None:
        return "–"
    if hold.released_on is not None:
        return format_html("released {} <small>(C9)</small>", hold.released_on)
    days = (hold.review_on - legal_today()).days
    if days < 0:
        return format_html(
            '<strong class="overdue">{} <small>(C9) review overdue by {} days</small></strong>',
            hold.review_on,
            -days,
        )
    return format_html("{} <small>(C9) in {} days</small>", hold.review_on, days)


class LegalHoldInline(admin.StackedInline):
    model = LegalHold
    extra = 0
    fields = HOLD_FIELDS
    show_change_link = True


class HoldStateFilter(admin.SimpleListFilter):
    title = "state (C9)"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("active", "Active"),
            ("review_overdue", "Review overdue"),
            ("released", "Released"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        holds: LegalHoldQuerySet = queryset  # type: ignore[assignment]
        value = self.value()
        # The same QuerySet methods as the dashboard (C9): the open filter is written once.
        if value == "active":
            return holds.active()
        if value == "review_overdue":
            return holds.review_overdue(legal_today())
        if value == "released":
            return holds.filter(released_on__isnull=False)
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(ReportExportMixin, TrackedAdmin):
    """The changelist, filtered as wanted, exports as the register of legal holds."""

    resource_classes = [LegalHoldResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "legal-holds"
    list_display = [
        "customer",
        "legal_basis",
        "requested_by",
        "started_on",
        "review_display",
        "released_on",
    ]
    list_filter = [
        HoldStateFilter,
        "requested_by",
        ("review_on", admin.DateFieldListFilter),
        ("started_on", admin.DateFieldListFilter),
    ]
    search_fields = ["customer__legal_name", "legal_basis", "requester", "data_kept"]
    autocomplete_fields = ["customer"]
    fields = ["customer", *HOLD_FIELDS]

    @admin.display(description="Review (C9)", ordering="review_on")
    def review_display(self, obj: LegalHold) -> str:
        return review_cell(obj)
