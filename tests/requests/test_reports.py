"""The DSR log (CSV, XLSX) from the filtered changelist, and the yearly metrics report in the
form the CCPA regulations ask for, on a fixture year with known day counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
import time_machine
from django.test import Client
from pypdf import PdfReader

from requests.models import DSRStatus, Outcome, Right, Role
from requests.reports import ccpa_metrics
from tests.downloads import body
from tests.requests.builders import make_dsr

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 4, 6, 16, 0, tzinfo=UTC)
DSRS = "/admin/requests/datasubjectrequest/"


def answered(right: str, received: date, replied: date, outcome: str, **fields: Any) -> None:
    make_dsr(
        email=f"{right}-{received:%m%d}@example.org",
        right=right,
        received=received,
        status=DSRStatus.CLOSED,
        outcome=outcome,
        reply_sent_on=replied,
        **fields,
    )


@pytest.fixture
def year_2025() -> None:
    # Access: 10, 30 and 4 days.
    answered(Right.ACCESS, date(2025, 1, 10), date(2025, 1, 20), Outcome.FULFILLED)
    answered(Right.ACCESS, date(2025, 3, 1), date(2025, 3, 31), Outcome.PARTLY)
    answered(
        Right.ACCESS,
        date(2025, 6, 2),
        date(2025, 6, 6),
        Outcome.DENIED,
        denial_reason="Identity could not be verified.",
    )
    # Deletion: 15 days, and a redirect to the customer after 2 days (R1).
    answered(Right.DELETION, date(2025, 7, 1), date(2025, 7, 16), Outcome.FULFILLED)
    make_dsr(
        email="redirected@example.org",
        right=Right.DELETION,
        received=date(2025, 8, 1),
        status=DSRStatus.REDIRECTED,
        role=Role.PROCESSOR,
        redirected_on=date(2025, 8, 3),
    )
    # Correction: received on the year's last day, not answered yet.
    make_dsr(email="open@example.org", right=Right.CORRECTION, received=date(2025, 12, 31))
    # Not in 2025: a day either side, and a public request never verified.
    answered(Right.ACCESS, date(2024, 12, 31), date(2025, 1, 2), Outcome.FULFILLED)
    answered(Right.ACCESS, date(2026, 1, 1), date(2026, 1, 2), Outcome.FULFILLED)
    make_dsr(email="unverified@example.org", received=None)


EXPECTED_CSV = [
    ["Right", "Received", "Complied with in whole", "Complied with in part", "Denied",
     "Median days to respond", "Mean days to respond"],
    ["Access (in a portable form)", "3", "1", "1", "1", "10", "14.7"],
    ["Correction", "1", "0", "0", "0", "–", "–"],
    ["Deletion", "2", "1", "0", "0", "8.5", "8.5"],
    ["Limit use or disclosure", "0", "0", "0", "0", "–", "–"],
    ["Object to direct marketing", "0", "0", "0", "0", "–", "–"],
    ["Other", "0", "0", "0", "0", "–", "–"],
    # Days 2, 4, 10, 15, 30: median 10, mean 12.2.
    ["All requests", "6", "2", "1", "1", "10", "12.2"],
]  # fmt: skip


def test_the_metrics_numbers(year_2025: None) -> None:
    metrics = ccpa_metrics(2025)

    access, correction, deletion, *_ = metrics.rows
    assert (access.received, access.complied_in_whole, access.complied_in_part) == (3, 1, 1)
    assert (access.denied, access.median_days, access.mean_days) == (1, 10.0, 14.7)
    assert (deletion.received, deletion.median_days, deletion.mean_days) == (2, 8.5, 8.5)
    assert (correction.received, correction.median_days) == (1, None)
    total = metrics.total
    assert (total.received, total.complied_in_whole, total.complied_in_part, total.denied) == (
        6,
        2,
        1,
        1,
    )
    assert sorted(total.days) == [2, 4, 10, 15, 30]
    assert (total.median_days, total.mean_days) == (10.0, 12.2)


@time_machine.travel(TODAY, tick=False)
def test_the_metrics_page_defaults_to_last_year_and_says_what_it_counts(
    year_2025: None, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    page = signed_in(viewer).get(f"{DSRS}metrics/").content.decode()

    assert "Privacy request metrics, 2025" in page
    assert "<td>14.7</td>" in page
    assert "whatever the law cited or the role" in page
    assert 'href="?year=2025&amp;download=pdf"' in page


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("year", ["2027", "1999", "last"])
def test_the_metrics_page_refuses_a_bad_year(counsel_client: Client, year: str) -> None:
    response = counsel_client.get(f"{DSRS}metrics/?year={year}&download=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert list(response.context["form"].errors) == ["year"]


@time_machine.travel(TODAY, tick=False)
def test_the_metrics_as_csv(year_2025: None, counsel_client: Client) -> None:
    response = counsel_client.get(f"{DSRS}metrics/?year=2025&download=csv")

    assert response.status_code == 200
    assert "privacy-request-metrics-2025.csv" in response["Content-Disposition"]
    assert list(csv.reader(io.StringIO(body(response).decode()))) == EXPECTED_CSV


@time_machine.travel(TODAY, tick=False)
def test_the_metrics_as_pdf(year_2025: None, counsel_client: Client) -> None:
    response = counsel_client.get(f"{DSRS}metrics/?year=2025&download=pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)  # cells wrap
    assert "Privacy request metrics, 2025" in text
    assert "Access (in a portable form)" in text
    assert "Access (in a portable form) 3 1 1 1 10 14.7" in text
    assert "All requests 6 2 1 1 10 12.2" in text


# --- The DSR log ---------------------------------------------------------------------------------

LOG_COLUMNS = [
    "Received",
    "Requester",
    "Email",
    "Right",
    "Regime",
    "Role",
    "Customer",
    "Channel",
    "Status",
    "Acknowledge by (R3)",
    "Acknowledged on",
    "Respond by (R3)",
    "Extension told on",
    "Extended to (R3)",
    "Redirected on (R1)",
    "Identity verified (R2)",
    "Outcome",
    "Reply sent on",
    "Days to respond",
]


def export(client: Client, file_format: str, query: str = "") -> Any:
    return client.post(f"{DSRS}export/?{query}", {"format": file_format})


@time_machine.travel(TODAY, tick=False)
def test_the_log_as_csv_guards_against_formulas(year_2025: None, counsel_client: Client) -> None:
    make_dsr(
        email="evil@example.org",
        requester_name='=HYPERLINK("http://evil.example")',
        regime_code="ccpa",
        received=date(2026, 4, 1),
    )

    response = export(counsel_client, "0", "q=evil")

    assert response.status_code == 200
    assert "dsr-log-2026-04-06.csv" in response["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert list(row) == LOG_COLUMNS
    assert row["Requester"] == '\'=HYPERLINK("http://evil.example")'
    assert row["Regime"] == "CCPA / CPRA (California)"
    assert (row["Received"], row["Acknowledge by (R3)"], row["Respond by (R3)"]) == (
        "2026-04-01",
        "2026-04-15",
        "2026-05-16",  # a Saturday, kept: US deadlines do not move (T4)
    )


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ("right__exact=deletion", {"deletion-0701@example.org", "redirected@example.org"}),
        ("status__exact=redirected", {"redirected@example.org"}),
        ("due=open", {"open@example.org"}),
    ],
)
def test_the_log_as_xlsx_honours_the_changelist_filters(
    year_2025: None, counsel_client: Client, query: str, emails: set[str]
) -> None:
    listed = counsel_client.get(f"{DSRS}?{query}").context["cl"].result_list

    response = export(counsel_client, "1", query)

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header == LOG_COLUMNS
    assert {row[2] for row in rows} == emails == {dsr.requester_email for dsr in listed}
    assert all(isinstance(row[0], datetime) for row in rows)  # dates stay dates in Excel
