"""Proof of notice for one change (S3, S4, S6): what counsel hands a customer or a regulator
who asks "did you notify us?", as CSV and as PDF."""

from __future__ import annotations

import csv
from datetime import date, datetime
from io import StringIO
from typing import Any

from django.utils import timezone

from harmonyze_portal.exports import neutralise_formula
from harmonyze_portal.pdf import render_pdf
from harmonyze_portal.timefmt import legal_iso
from subprocessors.models import Change

RECIPIENT_HEADERS = [
    "Recipient",
    "Customer",
    "Outcome",
    "Delivered at",
    "Attempts",
    "Message ID",
    "Objection deadline (S4)",
    "Last error",
]
OBJECTION_HEADERS = [
    "Recorded at",
    "Customer",
    "From",
    "In time",
    "Deadline (S4)",
    "Status",
    "Channel",
    "Received on",
]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return legal_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def summary_rows(change: Change) -> list[list[str]]:
    return [
        ["Change", str(change)],
        ["Summary", change.summary],
        ["Published at", _text(change.published_at)],
        ["Notice date (S3)", _text(change.notice_date)],
        ["Earliest access date (S3)", _text(change.earliest_access_on)],
        ["Notice subject", change.notice_subject],
        ["SHA-256 of the notice body as sent", change.notice_sha256],
    ]


def recipient_rows(change: Change) -> list[list[str]]:
    deliveries = change.deliveries.select_related("signup__customer").order_by("signup__email")
    return [
        [
            delivery.signup.email,
            _text(delivery.signup.customer),
            delivery.get_status_display(),
            _text(delivery.sent_at),
            str(delivery.attempts),
            delivery.message_id,
            _text(delivery.objection_deadline),
            delivery.last_error,
        ]
        for delivery in deliveries
    ]


def objection_rows(change: Change) -> list[list[str]]:
    objections = change.objections.select_related("signup", "customer").order_by("received_at")
    return [
        [
            _text(objection.received_at),
            _text(objection.customer),
            objection.signup.email if objection.signup else "",
            "in time" if objection.in_time else "out of time",
            _text(objection.deadline),
            objection.get_status_display(),
            objection.get_channel_display(),
            _text(objection.received_on),
        ]
        for objection in objections
    ]


def proof_csv(change: Change) -> str:
    out = StringIO()
    writer = csv.writer(out)

    def write(row: list[str]) -> None:
        writer.writerow([neutralise_formula(value) for value in row])

    for row in summary_rows(change):
        write(row)
    write([])
    write(["Recipients"])
    write(RECIPIENT_HEADERS)
    for row in recipient_rows(change):
        write(row)
    write([])
    write(["Objections"])
    write(OBJECTION_HEADERS)
    for row in objection_rows(change):
        write(row)
    return out.getvalue()


def proof_pdf(change: Change) -> bytes:
    return render_pdf(
        "subprocessors/proof_of_notice.html",
        {
            "change": change,
            "summary": summary_rows(change),
            "recipient_headers": RECIPIENT_HEADERS,
            "recipients": recipient_rows(change),
            "objection_headers": OBJECTION_HEADERS,
            "objections": objection_rows(change),
            "generated_at": timezone.localtime(),
        },
    )
