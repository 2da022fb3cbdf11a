"""Helpers for every area's CSV, XLSX and PDF exports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import tablib
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from import_export import widgets
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from harmonyze_portal.timefmt import legal_iso

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """Text a spreadsheet would evaluate, prefixed with a quote so it stays text (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_cell(value: Any) -> Any:
    """A value an XLSX cell can hold and will not run: control characters XML forbids (ESC,
    NUL… typed into a public form) are dropped, else openpyxl refuses the whole file; then the
    formula guard, since dropping them can bring an ``=`` to the front."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise_formula(value)


class ReportExportMixin(ExportMixin):
    """Export from a changelist, with its filters and search, for anyone who may view it.

    Cells are neutralised for spreadsheets; the PDF shows them as they are.
    """

    # A report has fixed columns (and the field picker's inline script breaks under our CSP).
    export_form_class = ExportForm
    report_name = "export"

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_export_data(
        self, file_format: Any, request: HttpRequest, queryset: QuerySet[Any], **kwargs: Any
    ) -> Any:
        if not self.has_export_permission(request):
            raise PermissionDenied
        # Dates stay dates in Excel; CSV and PDF get them written out.
        native = isinstance(file_format, base_formats.XLSX)
        data = self.get_data_for_export(request, queryset, force_native_type=native, **kwargs)
        if isinstance(file_format, base_formats.CSV | base_formats.XLSX):
            cell = spreadsheet_cell if native else neutralise_formula
            data = tablib.Dataset(
                *[[cell(value) for value in row] for row in data],
                headers=data.headers,
                title=self.report_name,  # the XLSX sheet's name
            )
        export = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        if not file_format.is_binary() and encoding:
            export = export.encode(encoding)
        return export

    def get_export_filename(self, request: HttpRequest, queryset: Any, file_format: Any) -> str:
        return f"{self.report_name}-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"


class ReportDateWidget(widgets.Widget):
    """ISO dates in text formats, real dates in XLSX."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("force_native_type"):
            return value
        return value.isoformat() if isinstance(value, date) else ""


def local_time(value: datetime | None) -> str:
    """ISO 8601 in the legal time zone (T1) with its offset: a spreadsheet or script reads it
    back to the same instant, and the offset says which zone it was written in."""
    return legal_iso(value) if value else ""
