"""Helpers for every area's CSV, XLSX and PDF exports.

A register leaves the portal as a stream (issue 16, P7): one query read in chunks
(``.iterator(chunk_size=...)``), each row written as it is read, CSV sent in pieces and XLSX
written by openpyxl's write-only workbook to a temporary file, so memory stays flat whatever
the number of rows. The columns are still declared once, as an import-export ``Resource``;
:func:`report_columns` turns them into plain functions of a row instead of looking each cell's
field, method and widget up again as ``Resource.export()`` does. When every column is a
column of the model, of a record reached through foreign keys, or a :class:`Computed` of
such values, the rows are ``values_list()`` tuples of just those columns: building a model
instance per row (two with a ``select_related``) was most of what an export still cost.
"""

from __future__ import annotations

import csv
import operator
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import openpyxl
import tablib
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from import_export import widgets
from import_export.admin import ExportMixin
from import_export.fields import Field
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


def iso_date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else ""


def _same(value: Any) -> Any:
    return value


class ReportDateWidget(widgets.Widget):
    """ISO dates in text formats, real dates in XLSX."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("force_native_type"):
            return value
        return iso_date(value)


class Computed(Field):
    """A column worked out by ``compute`` from the values at ``reads`` (paths as ``values()``
    takes them: ``customer__status``, or an annotation the resource's ``filter_export`` adds).

    One declaration serves both ways a register is read: from model instances
    (import-export's ``Resource.export()``, the PDF) and from ``values_list()`` tuples (the
    streamed CSV and XLSX), so the two cannot drift apart. ``compute`` sees plain values,
    never the row, so it cannot read a column it did not declare.
    """

    def __init__(
        self,
        *,
        column_name: str,
        reads: Sequence[str],
        compute: Callable[..., Any],
        widget: widgets.Widget | None = None,
    ) -> None:
        super().__init__(column_name=column_name, widget=widget)
        self.reads = tuple(reads)
        self.compute = compute
        self._values = [_attribute(path) for path in self.reads]

    def get_value(self, instance: Any) -> Any:
        if len(self._values) == 1:
            return self.compute(self._values[0](instance))
        return self.compute(*[value(instance) for value in self._values])

    def export(self, instance: Any, **kwargs: Any) -> Any:
        """What ``compute`` gives, as a ``dehydrate_*`` method's value is; through the widget
        only when the column names one."""
        if type(self.widget) is widgets.Widget:
            return self.get_value(instance)
        return super().export(instance, **kwargs)


def _render(widget: widgets.Widget, native: bool) -> Cell:
    """The widget's ``render`` as a function of the value alone, for a whole file."""
    if type(widget) is widgets.Widget:
        return _text
    if type(widget) is ReportDateWidget:
        return _same if native else iso_date
    return lambda value: widget.render(value, force_native_type=native)


def _concrete(model: type[Model], name: str) -> Any:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if field.concrete else None


def _fetchable(model: type[Model], path: str, annotations: Iterable[str]) -> bool:
    """Whether ``values_list(path)`` gives what ``path`` gives on an instance: an annotation,
    or a plain column of the model or of a record one foreign key after another leads to
    (one row each: a to-many path would repeat the row, a foreign key itself gives its id)."""
    if path in annotations:
        return True
    *links, last = path.split("__")
    for name in links:
        field = _concrete(model, name)
        if field is None or not (field.many_to_one or field.one_to_one):
            return False
        model = field.related_model
    field = _concrete(model, last)
    return field is not None and not field.is_relation


def _reads(resource: Resource, field: Field) -> tuple[str, ...] | None:
    """The paths a column reads, or None when it needs the model instance (a ``dehydrate_``
    method, a property, a to-many relation)."""
    method = field.get_dehydrate_method(resource.get_field_name(field))
    if callable(method) or hasattr(resource, method):
        return None
    if isinstance(field, Computed):
        return field.reads
    return (field.attribute,) if field.attribute else ()


def _values_plan(
    resource: Resource, queryset: QuerySet[Any], fields: Sequence[Field]
) -> list[str] | None:
    """The ``values_list()`` columns every cell needs, the primary key first (a ``DISTINCT``
    that a search adds must still keep one row per record), or None when a cell needs the
    instance."""
    fetch = ["pk"]
    annotations = queryset.query.annotations
    for field in fields:
        reads = _reads(resource, field)
        if reads is None:
            return None
        for path in reads:
            if not _fetchable(queryset.model, path, annotations):
                return None
            if path not in fetch:
                fetch.append(path)
    return fetch


def _tuple_cell(field: Field, at: dict[str, int], native: bool) -> Cell:
    """``Field.export`` as a function of a ``values_list()`` tuple."""
    if isinstance(field, Computed):
        return _computed_cell(field, at, native)
    render = _render(field.widget, native)
    if field.attribute:
        index = at[field.attribute]
        return lambda row: render(row[index])
    return lambda row: render(None)


def _computed_cell(field: Computed, at: dict[str, int], native: bool) -> Cell:
    """``Computed.export`` of a tuple: the function of the values at their places."""
    compute = field.compute
    if len(field.reads) == 1:
        index = at[field.reads[0]]
        value: Cell = lambda row: compute(row[index])  # noqa: E731
    else:
        values = operator.itemgetter(*(at[path] for path in field.reads))
        value = lambda row: compute(*values(row))  # noqa: E731
    if type(field.widget) is widgets.Widget:
        return value
    render = _render(field.widget, native)
    return lambda row: render(value(row))


def _instance_cell(resource: Resource, field: Field, native: bool) -> Cell:
    """``Resource.export_field`` as a function of a model instance: its ``dehydrate_*``
    method, else the attribute through the field's widget."""
    method = field.get_dehydrate_method(resource.get_field_name(field))
    dehydrate = method if callable(method) else getattr(resource, method, None)
    if dehydrate is not None:
        return dehydrate
    if isinstance(field, Computed):
        return lambda obj: field.export(obj, force_native_type=native)
    render = _render(field.widget, native)
    value = _attribute(field.attribute) if field.attribute else (lambda obj: None)
    return lambda obj: render(value(obj))


@dataclass(frozen=True)
class ReportColumns:
    """A register's columns for one file: headers, one function of a row per cell, and the
    ``values_list()`` paths the rows are read as (None: the rows are model instances)."""

    headers: list[str]
    cells: list[Cell]
    fetch: list[str] | None


def report_columns(resource: Resource, queryset: QuerySet[Any], *, native: bool) -> ReportColumns:
    """The resource's export columns, looked up once for the file instead of for every cell;
    ``queryset`` is the export's, after the resource's ``filter_export``."""
    fields = resource.get_export_fields()
    headers = [str(field.column_name) for field in fields]
    fetch = _values_plan(resource, queryset, fields)
    if fetch is None:
        return ReportColumns(headers, [_instance_cell(resource, f, native) for f in fields], None)
    at = {path: index for index, path in enumerate(fetch)}
    return ReportColumns(headers, [_tuple_cell(field, at, native) for field in fields], fetch)


def report_rows(queryset: QuerySet[Any], columns: ReportColumns) -> Iterator[list[Any]]:
    """One query (the resource's ``filter_export`` adds its joins and prefetches), read in
    chunks."""
    cells = columns.cells
    if columns.fetch is None:
        rows: Iterable[Any] = queryset.iterator(chunk_size=CHUNK_ROWS)
    else:
        # Tuples take no prefetch: a list's prefetch is for its own page.
        rows = queryset.prefetch_related(None).values_list(*columns.fetch)
        rows = rows.iterator(chunk_size=CHUNK_ROWS)
    for row in rows:
        yield [cell(row) for cell in cells]


def report_download(
    resource: Resource, queryset: QuerySet[Any], file_format: Any, filename: str, title: str
) -> Any:
    """The register as a streamed CSV or a write-only XLSX: dates stay dates in Excel."""
    native = isinstance(file_format, base_formats.XLSX)
    queryset = resource.filter_export(queryset)
    columns = report_columns(resource, queryset, native=native)
    rows = report_rows(queryset, columns)
    if native:
        return xlsx_download(filename, title, columns.headers, rows)
    return csv_download(filename, columns.headers, rows)


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


def local_time(value: datetime | None) -> str:
    """ISO 8601 in the legal time zone (T1) with its offset: a spreadsheet or script reads it
    back to the same instant, and the offset says which zone it was written in."""
    return legal_iso(value) if value else ""
