"""The data subject request reports: the DSR log (CSV, XLSX), exported from the filtered
changelist, and the yearly metrics in the form the CCPA regulations ask a business to publish
(Cal. Code Regs. tit. 11, 7102: requests received, complied with in whole or in part, denied,
median or mean days to respond), as CSV and PDF."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone
from import_export import resources
from import_export.fields import Field

from harmonyze_portal.exports import (
    Computed,
    ReportDateWidget,
    choice_label,
    neutralise_formula,
)
from harmonyze_portal.pdf import render_pdf
from requests.models import DataSubjectRequest, DSRStatus, Outcome, Right

_LABELS = {
    name: choice_label(DataSubjectRequest, name)
    for name in ("right", "role", "channel", "status", "verification_method", "outcome")
}


def answered_on(reply_sent_on: date | None, redirected_on: date | None) -> date | None:
    """When the requester had their answer: the reply, or the redirect to the customer (R1)."""
    return reply_sent_on or redirected_on


def responded_on(dsr: DataSubjectRequest) -> date | None:
    return answered_on(dsr.reply_sent_on, dsr.redirected_on)


def days_between(received_on: date | None, answered: date | None) -> int | None:
    if answered is None or received_on is None:
        return None
    return (answered - received_on).days


def days_to_respond(dsr: DataSubjectRequest) -> int | None:
    return days_between(dsr.received_on, responded_on(dsr))


def days_text(
    received_on: date | None, reply_sent_on: date | None, redirected_on: date | None
) -> str:
    days = days_between(received_on, answered_on(reply_sent_on, redirected_on))
    return "" if days is None else str(days)


def verification_text(method: str, verified_on: date | None, verified_by: str | None) -> str:
    """R2: how the identity was verified, when and by whom."""
    if not method:
        return ""
    text = _LABELS["verification_method"](method)
    if verified_on:
        text += f" on {verified_on.isoformat()}"
    if verified_by:
        text += f" by {verified_by}"
    return text


def outcome_text(outcome: str, denial_reason: str) -> str:
    if outcome == Outcome.DENIED:
        return f"Denied: {denial_reason}"
    return _LABELS["outcome"](outcome)


class DSRLogResource(resources.ModelResource):
    """One row per request: who asked for what, under which law, its clocks (R3) and how it
    ended."""

    received_on = Field(attribute="received_on", column_name="Received", widget=ReportDateWidget())
    requester_name = Field(attribute="requester_name", column_name="Requester")
    requester_email = Field(attribute="requester_email", column_name="Email")
    right = Computed(column_name="Right", reads=("right",), compute=_LABELS["right"])
    regime = Field(attribute="regime__name", column_name="Regime")
    role = Computed(column_name="Role", reads=("role",), compute=_LABELS["role"])
    customer = Field(attribute="customer__legal_name", column_name="Customer")
    channel = Computed(column_name="Channel", reads=("channel",), compute=_LABELS["channel"])
    status = Computed(column_name="Status", reads=("status",), compute=_LABELS["status"])
    acknowledge_by = Field(
        attribute="acknowledge_by", column_name="Acknowledge by (R3)", widget=ReportDateWidget()
    )
    acknowledged_on = Field(
        attribute="acknowledged_on", column_name="Acknowledged on", widget=ReportDateWidget()
    )
    respond_by = Field(
        attribute="respond_by", column_name="Respond by (R3)", widget=ReportDateWidget()
    )
    extension_told_on = Field(
        attribute="extension_told_on",
        column_name="Extension told on",
        widget=ReportDateWidget(),
    )
    extended_to = Field(
        attribute="extended_to", column_name="Extended to (R3)", widget=ReportDateWidget()
    )
    redirected_on = Field(
        attribute="redirected_on", column_name="Redirected on (R1)", widget=ReportDateWidget()
    )
    verification = Computed(
        column_name="Identity verified (R2)",
        # The user model's USERNAME_FIELD: what ``get_username()`` gives.
        reads=("verification_method", "verified_on", "verified_by__username"),
        compute=verification_text,
    )
    outcome = Computed(
        column_name="Outcome", reads=("outcome", "denial_reason"), compute=outcome_text
    )
    reply_sent_on = Field(
        attribute="reply_sent_on", column_name="Reply sent on", widget=ReportDateWidget()
    )
    days = Computed(
        column_name="Days to respond",
        reads=("received_on", "reply_sent_on", "redirected_on"),
        compute=days_text,
    )

    class Meta:
        model = DataSubjectRequest
        fields = (
            "received_on",
            "requester_name",
            "requester_email",
            "right",
            "regime",
            "role",
            "customer",
            "channel",
            "status",
            "acknowledge_by",
            "acknowledged_on",
            "respond_by",
            "extension_told_on",
            "extended_to",
            "redirected_on",
            "verification",
            "outcome",
            "reply_sent_on",
            "days",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[DataSubjectRequest], **kwargs: object
    ) -> QuerySet[DataSubjectRequest]:
        return queryset.select_related("regime", "customer", "verified_by")


# --- The yearly metrics -------------------------------------------------------------------------

METRICS_HEADERS = [
    "Right",
    "Received",
    "Complied with in whole",
    "Complied with in part",
    "Denied",
    "Median days to respond",
    "Mean days to respond",
]


@dataclass
class MetricsRow:
    label: str
    received: int = 0
    complied_in_whole: int = 0
    complied_in_part: int = 0
    denied: int = 0
    days: list[int] = field(default_factory=list)

    def add(self, dsr: DataSubjectRequest) -> None:
        self.received += 1
        self.complied_in_whole += dsr.outcome == Outcome.FULFILLED
        self.complied_in_part += dsr.outcome == Outcome.PARTLY
        self.denied += dsr.outcome == Outcome.DENIED
        days = days_to_respond(dsr)
        if days is not None:
            self.days.append(days)

    @property
    def median_days(self) -> float | None:
        return float(statistics.median(self.days)) if self.days else None

    @property
    def mean_days(self) -> float | None:
        return round(statistics.fmean(self.days), 1) if self.days else None

    def cells(self) -> list[str | int]:
        return [
            self.label,
            self.received,
            self.complied_in_whole,
            self.complied_in_part,
            self.denied,
            number(self.median_days),
            number(self.mean_days),
        ]


def number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}"


@dataclass
class Metrics:
    year: int
    rows: list[MetricsRow]
    total: MetricsRow

    @property
    def title(self) -> str:
        return f"Privacy request metrics, {self.year}"


def metrics_requests(year: int) -> QuerySet[DataSubjectRequest]:
    """Every request received in ``year`` that exists in law: its email verified (a public
    request without a verified email was never received, R3), whatever the role or regime."""
    return (
        DataSubjectRequest.objects.exclude(status=DSRStatus.UNVERIFIED)
        .filter(received_on__year=year)
        .order_by("received_on", "pk")
    )


def ccpa_metrics(year: int) -> Metrics:
    """Per right exercised: received, complied with in whole, in part, denied, and the median
    and mean days from the legal date of receipt to the reply or the redirect (R1)."""
    rows = {value: MetricsRow(label) for value, label in Right.choices}
    total = MetricsRow("All requests")
    for dsr in metrics_requests(year):
        rows[dsr.right].add(dsr)
        total.add(dsr)
    return Metrics(year=year, rows=list(rows.values()), total=total)


def metrics_csv(metrics: Metrics) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(METRICS_HEADERS)
    for row in [*metrics.rows, metrics.total]:
        writer.writerow([neutralise_formula(cell) for cell in row.cells()])
    return out.getvalue()


def metrics_pdf(metrics: Metrics) -> bytes:
    return render_pdf(
        "requests/metrics_pdf.html",
        {
            "metrics": metrics,
            "headers": METRICS_HEADERS,
            "generated_at": timezone.localtime(),
        },
    )
