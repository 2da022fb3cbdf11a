"""The compliance matrix pages: the matrix, its CSV, and the records behind each cell."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from harmonyze_portal import compliance, desk
from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import neutralise_formula

LIMIT = 500  # records listed for one cell; the area's own list shows more
CSV_HEADER = [
    "rule",
    "clause",
    "events",
    "customer",
    "records",
    "on time",
    "late",
    "open",
    "period start",
    "period end",
]


class PeriodForm(forms.Form):
    """The period the matrix covers, in legal days (T1), both days included."""

    start = forms.DateField(
        label="From (legal day)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Events dated on or after this day. Default: 1 January this year.",
    )
    end = forms.DateField(
        label="To (legal day)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Events dated on or before this day. Default: 31 December this year.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        year = legal_today().year
        data["start"] = data.get("start") or date(year, 1, 1)
        data["end"] = data.get("end") or date(year, 12, 31)
        no_errors = "start" not in self.errors and "end" not in self.errors
        if no_errors and data["end"] >= date.max:
            self.add_error("end", f"The period must end before {date.max.isoformat()}.")
        elif no_errors and data["start"] > data["end"]:
            self.add_error("end", "The period must end on or after its first day.")
        return data


def _period(request: HttpRequest) -> tuple[PeriodForm, tuple[date, date] | None]:
    """The period asked for, or None (the form says what is wrong)."""
    if not compliance.visible_sources(request.user):
        raise PermissionDenied
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, (form.cleaned_data["start"], form.cleaned_data["end"])


def matrix_view(request: HttpRequest) -> HttpResponse:
    """Rows: the rule events the user may see; columns: customers; each cell its counts."""
    form, period_asked = _period(request)
    context = {**admin.site.each_context(request), "title": "Compliance matrix", "form": form}
    if period_asked is None:
        return render(request, "admin/compliance/matrix.html", context, status=400)
    start, end = period_asked
    matrix = compliance.build(request.user, start, end, legal_today())
    columns = matrix.columns()
    period = {"start": start.isoformat(), "end": end.isoformat()}
    table = []
    for row in matrix.rows:
        cells = []
        for pk, _name in columns:
            cell = row.cells.get(pk)
            links = {
                outcome: _records_url(row.source.key, pk, outcome, period)
                for outcome in ("all", *compliance.OUTCOMES)
            }
            cells.append((cell, links))
        table.append((row, cells))
    context.update(
        matrix=matrix,
        columns=columns,
        table=table,
        csv_url=f"/admin/compliance.csv?{urlencode(period)}",
    )
    return render(request, "admin/compliance/matrix.html", context)


def _records_url(key: str, pk: int | None, outcome: str, period: dict[str, str]) -> str:
    query = {**period, "events": key, "customer": "" if pk is None else pk, "outcome": outcome}
    return f"/admin/compliance/records/?{urlencode(query)}"


def matrix_csv(request: HttpRequest) -> HttpResponse:
    """The matrix as CSV, one line per rule event and customer, and one per rule event with no
    record in the period (written as such, not as compliant)."""
    form, period_asked = _period(request)
    if period_asked is None:
        return HttpResponse(
            "; ".join(
                f"{name}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()
            ),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    start, end = period_asked
    matrix = compliance.build(request.user, start, end, legal_today())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="compliance-{start:%Y-%m-%d}-{end:%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in matrix.rows:
        item = row.source
        head = [item.rule, item.clause, item.what]
        if not row.cells:
            writer.writerow([*head, "no records in this period", 0, 0, 0, 0, start, end])
        for pk, name in matrix.columns():
            cell = row.cells.get(pk)
            if cell is not None:
                writer.writerow(
                    [
                        *head,
                        neutralise_formula(name),
                        cell.events,
                        cell.on_time,
                        cell.late,
                        cell.open,
                        start,
                        end,
                    ]
                )
    return response


def records_view(request: HttpRequest) -> HttpResponse:
    """The records behind one cell, each linking to its page."""
    form, period_asked = _period(request)
    item = compliance.source(request.GET.get("events", ""))
    if item is None:
        raise Http404("No such rule events.")
    if not request.user.has_perm(item.permission):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Compliance matrix records"}
    outcome = request.GET.get("outcome", "all")
    customer = request.GET.get("customer", "")
    if period_asked is None or outcome not in ("all", *compliance.OUTCOMES):
        context.update(form=form, bad="Say which period and outcome (all, on_time, late, open).")
        return render(request, "admin/compliance/records.html", context, status=400)
    if customer and not (customer.isdigit() and len(customer) <= 18):
        context.update(form=form, bad="customer must be a customer id or empty.")
        return render(request, "admin/compliance/records.html", context, status=400)
    start, end = period_asked
    found = list(
        compliance.records(
            item,
            start=start,
            end=end,
            today=legal_today(),
            customer=int(customer) if customer else None,
            outcome=outcome,
        )[: LIMIT + 1]
    )
    more = len(found) > LIMIT
    found = found[:LIMIT]
    if item.restricted and found:
        desk.restricted_items_shown.send(
            sender=item.model,
            user=request.user,
            pks=[record.pk for record in found],
            path=request.get_full_path(),
        )
    context.update(
        item=item,
        start=start,
        end=end,
        outcome=compliance.OUTCOME_LABELS.get(outcome, "all"),
        found=[(record, item.record_url(record.pk)) for record in found],
        more=more,
        limit=LIMIT,
    )
    return render(request, "admin/compliance/records.html", context)
