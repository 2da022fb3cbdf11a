"""The history an auditor takes away (DOMAIN.md H1, H2): one CSV row per changed field.

``/admin/history/export/?model=customers.customer&start=2026-01-01&end=2026-12-31`` streams
timestamp (ISO 8601 in the legal time zone, with its offset), actor, model, record, change,
field, old, new and reason; the dates are legal days (T1). The response is written while the
rows are read, so memory stays flat for millions of rows. On PostgreSQL the
database writes the CSV (:mod:`harmonyze_portal.history_copy`); elsewhere Python does, in batches.
The record column is the name the record had in that version (``history_record``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from itertools import batched
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import capfirst

from harmonyze_portal.areas import portal_apps
from harmonyze_portal.exports import neutralise_formula
from harmonyze_portal.history import unnamed
from harmonyze_portal.history_copy import copy_history, copy_supported
from harmonyze_portal.history_diff import CHANGED, CREATED, DELETED, ValueRenderer, tracked_fields
from harmonyze_portal.restricted import history_permission, is_restricted
from harmonyze_portal.seal_export import SEAL_HEADER, SealColumns
from harmonyze_portal.timefmt import legal_iso, legal_midnight

HEADER = [
    "timestamp",
    "actor",
    "model",
    "record id",
    "record",
    "change",
    "field",
    "old",
    "new",
    "reason",
]
CHANGE_NAMES = {CREATED: "created", CHANGED: "changed", DELETED: "deleted"}
BATCH = 2000

# Sent before a restricted model's history is written, so that its area logs who read which
# records (R6): sender is the model; user, path, since, until (aware datetimes, until excluded),
# record.
restricted_history_exported = Signal()


class BadExportRequest(ValueError):
    pass


class _Echo:
    """A file whose write() hands the line back, so csv.writer formats without buffering."""

    def write(self, value: str) -> str:
        return value


def has_portal_history(model: type[models.Model]) -> bool:
    """A model of the four areas (or the portal's own) whose changes are history-tracked."""
    opts = model._meta
    return opts.app_label in portal_apps() and hasattr(opts, "simple_history_manager_attribute")


def tracked_model(label: str) -> type[models.Model]:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise BadExportRequest(
            f"Unknown model {label!r}; name it as app.model, for example customers.customer."
        ) from None
    opts = model._meta
    if not has_portal_history(model):
        raise BadExportRequest(
            f"{opts.label_lower} has no portal history to export; choose a model of "
            f"{', '.join(sorted(portal_apps()))}."
        )
    return model


def may_export(user: Any, model: type[models.Model]) -> bool:
    opts = model._meta
    if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        return False
    # Restricted records (R6, declared by their area) need the area's history permission too.
    return not is_restricted(model) or user.has_perm(history_permission(model))


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadExportRequest(
            f"{name} must be a date written YYYY-MM-DD, not {value!r}."
        ) from None


def history_rows(
    model: type[models.Model],
    *,
    start: date | None = None,
    end: date | None = None,
    record: str | None = None,
    seals: bool = False,
) -> Iterator[list[list[Any]]]:
    """Batches of CSV rows for ``model``'s history from ``start`` to ``end`` inclusive (days in the
    legal time zone, like the timestamp column, so a row's own timestamp says whether it
    belongs).

    With ``seals``, each line also carries :data:`SEAL_HEADER`'s cells, and a version that
    changed no field still gets a line (its seal needs every row it covers).

    Rows are read ordered by record then time, keeping only the previous row of the current
    record, so every version is compared with the one before it without a query per row.
    Versions before ``start`` are read for that comparison but not written.
    """
    history_model: Any = model.history.model  # type: ignore[attr-defined]
    fields = tracked_fields(model)
    pk_name = model._meta.pk.attname
    attnames = [field.attname for field in fields]
    meta_columns = [
        pk_name,
        "history_date",
        "history_type",
        "history_actor",
        "history_change_reason",
        "history_record",
        "history_id",
    ]
    queryset = history_model._default_manager.all()
    if end is not None:
        queryset = queryset.filter(history_date__lt=legal_midnight(end + timedelta(days=1)))
    if record is not None:
        queryset = queryset.filter(**{pk_name: record})
    since = legal_midnight(start) if start is not None else None
    rows = (
        queryset.order_by(pk_name, "history_date", "history_id")
        .values_list(*meta_columns, *attnames)
        .iterator(chunk_size=BATCH)
    )
    model_label = model._meta.label_lower
    renderer = ValueRenderer(fields, legal_iso)
    sealed = SealColumns(history_model) if seals else None

    previous_key: Any = object()
    previous: Sequence[Any] | None = None
    for batch in batched(rows, BATCH):
        renderer.prime(row[7:] for row in batch)
        if sealed is not None:
            sealed.prime(row[6] for row in batch)
        out: list[list[Any]] = []
        for row in batch:
            key, when, kind, actor, reason, name, history_id = row[:7]
            values = row[7:]
            if key != previous_key:
                previous_key, previous = key, None
            if since is None or when >= since:
                label = name or unnamed(model, key)
                stamp = legal_iso(when)
                change = CHANGE_NAMES.get(kind, kind)
                lines = [
                    [diff.label, diff.old, diff.new]
                    for diff in renderer.changes(previous, values, kind)
                ]
                if sealed is not None:
                    lines = lines or [["", "", ""]]
                extra = sealed[history_id] if sealed is not None else []
                for cells in lines:
                    out.append(
                        [
                            stamp,
                            actor,
                            model_label,
                            key,
                            label,
                            change,
                            *cells,
                            reason or "",
                            *extra,
                        ]
                    )
            previous = values
        yield out


def stream_csv(
    models_to_export: Sequence[type[models.Model]],
    *,
    start: date | None = None,
    end: date | None = None,
    record: Any = None,
    in_database: bool | None = None,
    seals: bool = False,
) -> Iterator[bytes]:
    """The export's bytes: written by PostgreSQL itself where it runs and every field of the
    models has an SQL rendering (:mod:`harmonyze_portal.history_copy`), by :func:`history_rows`
    otherwise. ``in_database=False`` forces the Python writer, and so do ``seals`` (H3:
    the seal columns, :mod:`harmonyze_portal.seal_export`).

    Bounds are checked here, before the first byte, so a bad one is a 400 and not a download
    cut short. On PostgreSQL the COPY holds the connection until the iterator is exhausted or
    closed: read it to the end (or close it) before using the database again in this thread.
    """
    if end is not None and end >= date.max:
        raise BadExportRequest(f"end must be a day before {date.max.isoformat()}.")
    since = legal_midnight(start) if start is not None else None
    until = legal_midnight(end + timedelta(days=1)) if end is not None else None
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    in_database = (
        in_database and not seals and all(copy_supported(model) for model in models_to_export)
    )
    return _stream(
        models_to_export, start, end, since, until, record, in_database=in_database, seals=seals
    )


def _stream(
    models_to_export: Sequence[type[models.Model]],
    start: date | None,
    end: date | None,
    since: datetime | None,
    until: datetime | None,
    record: Any,
    *,
    in_database: bool,
    seals: bool,
) -> Iterator[bytes]:
    # PostgreSQL ends its lines in LF; the header follows suit so the file has one line ending.
    writer = csv.writer(_Echo(), lineterminator="\n" if in_database else "\r\n")
    yield writer.writerow(HEADER + SEAL_HEADER if seals else HEADER).encode()
    for model in models_to_export:
        if in_database:
            yield from copy_history(model, since=since, until=until, record=record)
            continue
        for batch in history_rows(model, start=start, end=end, record=record, seals=seals):
            yield "".join(
                writer.writerow([neutralise_formula(cell) for cell in row]) for row in batch
            ).encode()


class HistoryExportForm(forms.Form):
    """What to export: one model's history, optionally a date range (legal days) or one record."""

    model = forms.CharField(label="Records", required=False, widget=forms.Select)
    start = forms.CharField(
        label="From (day in the legal time zone, inclusive)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.CharField(
        label="To (day in the legal time zone, inclusive)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    record = forms.CharField(
        label="Record id",
        required=False,
        help_text="Leave empty for every record; a record's History page links its own export.",
    )
    seals = forms.BooleanField(
        label="With seals (H3)",
        required=False,
        help_text="Adds each version's hashed text, its hash and its seal, so that "
        "docs/verify_history_export.py can check the file without the portal.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose the records")] + [
            (
                model._meta.label_lower,
                f"{apps.get_app_config(model._meta.app_label).verbose_name} › "
                f"{capfirst(str(model._meta.verbose_name_plural))}",
            )
            for model in exportable_models(user)
        ]
        self.fields["model"].widget.choices = choices

    def clean_model(self) -> type[models.Model]:
        label = self.cleaned_data["model"]
        if not label:
            raise ValidationError("Say which model's history to export: ?model=app.model.")
        try:
            return tracked_model(label)
        except BadExportRequest as exc:
            raise ValidationError(str(exc)) from None

    def clean_start(self) -> date | None:
        return self._day("start")

    def clean_end(self) -> date | None:
        end = self._day("end")
        if end is not None and end >= date.max:
            raise ValidationError(f"end must be a day before {date.max.isoformat()}.")
        return end

    def _day(self, name: str) -> date | None:
        try:
            return _day(self.cleaned_data[name], name)
        except BadExportRequest as exc:
            raise ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "start must be on or before end.")
        model, record = data.get("model"), data.get("record")
        if model is not None and record:
            try:
                data["record"] = model._meta.pk.to_python(record)
            except ValidationError:
                self.add_error(
                    "record", f"record must be a {model._meta.verbose_name} id, not {record!r}."
                )
        else:
            data["record"] = None
        return data


def exportable_models(user: Any) -> list[type[models.Model]]:
    """The portal's tracked models whose history ``user`` may export, app by app."""
    found = [
        model
        for model in apps.get_models()
        if has_portal_history(model) and may_export(user, model)
    ]
    return sorted(found, key=lambda model: (model._meta.app_label, model._meta.verbose_name))


def _form_page(request: HttpRequest, form: HistoryExportForm, status: int) -> HttpResponse:
    return render(
        request,
        "admin/history_export.html",
        {**admin.site.each_context(request), "title": "Export history", "form": form},
        status=status,
    )


def export_view(request: HttpRequest) -> HttpResponseBase:
    """The history export, for staff with the view permission on each model exported.

    Without a query it is a form; with one, the CSV, or the form again with what is wrong (400).
    """
    if not request.GET:
        return _form_page(request, HistoryExportForm(user=request.user), 200)
    try:
        asked_for = tracked_model(request.GET.get("model", ""))
    except BadExportRequest:
        pass  # the form says what is wrong with it
    else:
        # Refused before anything else is checked: nothing about these records is answered.
        if not may_export(request.user, asked_for):
            raise PermissionDenied
    form = HistoryExportForm(request.GET, user=request.user)
    if not form.is_valid():
        return _form_page(request, form, 400)
    model = form.cleaned_data["model"]
    if is_restricted(model):
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        restricted_history_exported.send(
            sender=model,
            user=request.user,
            path=request.get_full_path(),
            since=legal_midnight(start) if start is not None else None,
            until=legal_midnight(end + timedelta(days=1)) if end is not None else None,
            record=form.cleaned_data["record"],
        )
    response = StreamingHttpResponse(
        stream_csv(
            [model],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            record=form.cleaned_data["record"],
            seals=form.cleaned_data["seals"],
        ),
        content_type="text/csv; charset=utf-8",
    )
    name = f"history-{model._meta.label_lower}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
