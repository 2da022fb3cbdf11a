"""Helpers for every area's CSV, XLSX and PDF exports.

A register leaves the portal as a stream (issue 16, P7): one query read in chunks
(``.iterator(chunk_size=...)``), each row written as it is read, CSV sent in pieces and XLSX
written by openpyxl's write-only workbook to a temporary file, so memory stays flat whatever
the number of rows. The columns are still declared once, as an import-export ``Resource``;
:func:`report_cells` turns them into plain functions of a row instead of looking each cell's
field, method and widget up again as ``Resource.export()`` does.
"""

from __future__ import annotations

import csv
import operator
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import openpyxl
import tablib
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from import_export import widgets
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm
from import_export.resources import Resource
from import_export.signals import post_export
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from harmonyze_portal.timefmt import legal_iso

# Rows fetched per round trip (a server-side cursor on PostgreSQL), and CSV rows per piece sent.
CHUNK_ROWS = 2000
ROWS_PER_PIECE = 500

Cell = Callable[[Any], Any]

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_SET = frozenset(FORMULA_TRIGGERS)


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


class _Line:
    """What ``csv.writer`` writes to: it hands the line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def csv_pieces(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8"
) -> Iterator[bytes]:
    """CSV in pieces of a few hundred rows, every cell neutralised (CSV injection)."""
    writer = csv.writer(_Line())
    piece = [writer.writerow([neutralise_formula(header) for header in headers])]
    for row in rows:
        # neutralise_formula, inlined: it runs for every cell of every row.
        piece.append(
            writer.writerow(
                [
                    "'" + value if isinstance(value, str) and value[:1] in _TRIGGER_SET else value
                    for value in row
                ]
            )
        )
        if len(piece) >= ROWS_PER_PIECE:
            yield "".join(piece).encode(encoding)
            piece = []
    if piece:
        yield "".join(piece).encode(encoding)


def csv_download(filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Any:
    """A streamed CSV attachment: sent as it is written, never held whole."""
    response = StreamingHttpResponse(
        csv_pieces(headers, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_download(
    filename: str,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> Any:
    """An XLSX attachment from openpyxl's write-only workbook, which writes each row to disk
    as it is appended; the file is sent from a temporary file deleted once it is closed.
    A date cell gets openpyxl's ``yyyy-mm-dd`` format."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([spreadsheet_cell(header) for header in headers])
    for row in rows:
        sheet.append([spreadsheet_cell(value) for value in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _attribute(path: str) -> Cell:
    """``Field.get_value`` for ``customer__legal_name``, split once: None stops the walk."""
    names = path.split("__")
    if len(names) == 1:
        return operator.attrgetter(path)

    def value(obj: Any) -> Any:
        for name in names:
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj

    return value


def choice_label(model: type[Model], field_name: str) -> Callable[[Any], Any]:
    """``get_<field>_display()`` for a whole file: Django rebuilds the choices dict on every
    call, which was a fifth of a register's export time."""
    field = model._meta.get_field(field_name)
    labels = {value: str(label) for value, label in field.flatchoices}  # type: ignore[union-attr]
    return lambda value: labels.get(value, value)


def _text(value: Any) -> str:
    """``widgets.Widget.render``: text, and None as an empty cell."""
    return "" if value is None else str(value)


def report_cells(resource: Resource, *, native: bool) -> tuple[list[str], list[Cell]]:
    """The resource's export columns: headers, and for each column one function of a row
    giving what ``Resource.export_field`` gives (its ``dehydrate_*`` method, else the attribute
    through the field's widget), looked up once for the file instead of for every cell."""
    headers, cells = [], []
    for field in resource.get_export_fields():
        headers.append(str(field.column_name))
        method = field.get_dehydrate_method(resource.get_field_name(field))
        dehydrate = method if callable(method) else getattr(resource, method, None)
        if dehydrate is not None:
            cells.append(dehydrate)
            continue
        value = _attribute(field.attribute) if field.attribute else (lambda obj: None)
        if type(field.widget) is widgets.Widget:
            cells.append(lambda obj, value=value: _text(value(obj)))
            continue
        render = field.widget.render

        def cell(obj: Any, value: Cell = value, render: Any = render) -> Any:
            return render(value(obj), force_native_type=native)

        cells.append(cell)
    return headers, cells


def report_rows(
    resource: Resource, queryset: QuerySet[Any], cells: Sequence[Cell]
) -> Iterator[list[Any]]:
    """One query (the resource's ``filter_export`` adds its joins), read in chunks."""
    for obj in resource.filter_export(queryset).iterator(chunk_size=CHUNK_ROWS):
        yield [cell(obj) for cell in cells]


def report_download(
    resource: Resource, queryset: QuerySet[Any], file_format: Any, filename: str, title: str
) -> Any:
    """The register as a streamed CSV or a write-only XLSX: dates stay dates in Excel."""
    native = isinstance(file_format, base_formats.XLSX)
    headers, cells = report_cells(resource, native=native)
    rows = report_rows(resource, queryset, cells)
    if native:
        return xlsx_download(filename, title, headers, rows)
    return csv_download(filename, headers, rows)


class ReportExportMixin(ExportMixin):
    """Export from a changelist, with its filters and search, for anyone who may view it.

    CSV and XLSX stream (:func:`report_download`), neutralised for spreadsheets; the PDF is
    built by import-export and shows the cells as they are.
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

    def _do_file_export(
        self,
        file_format: Any,
        request: HttpRequest,
        queryset: QuerySet[Any],
        export_form: Any = None,
    ) -> HttpResponseBase:
        if not isinstance(file_format, base_formats.CSV | base_formats.XLSX):
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request))
        response = report_download(
            resource,
            queryset,
            file_format,
            self.get_export_filename(request, queryset, file_format),
            self.report_name,
        )
        post_export.send(sender=None, model=self.model)
        return response

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
