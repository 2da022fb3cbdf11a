"""The half-yearly transparency report (R5): exact counts by country, process and outcome;
national-security process only as a band of 250."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from requests.models import DemandOutcome, Disclosure, LawEnforcementDemand, LegalProcess
from requests.transparency import band, half_year_bounds, report_csv, transparency_report
from tests.requests.builders import make_demand

URL = "/admin/requests/lawenforcementdemand/transparency/"


# --- Bands: rules that need no database.


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0–249"), (3, "0–249"), (249, "0–249"), (250, "250–499"), (500, "500–749")],
)
def test_rule_r5_national_security_counts_fall_in_bands_of_250(count: int, expected: str) -> None:
    assert band(count) == expected


def test_half_years_cover_the_whole_year() -> None:
    assert half_year_bounds(2028, 1) == (date(2028, 1, 1), date(2028, 6, 30))
    assert half_year_bounds(2028, 2) == (date(2028, 7, 1), date(2028, 12, 31))
    with pytest.raises(ValueError, match="half must be 1 or 2"):
        half_year_bounds(2028, 3)


# --- A fixture half-year.


@pytest.fixture
def half_year(db: None) -> None:
    us, de = "United States", "Germany"
    notified = {"customer_notified_on": date(2026, 3, 1), "customer_notified_to": "dpo@acme.com"}
    # H1 2026, exact: 3 US, 2 Germany.
    make_demand(country=us, received_on=date(2026, 1, 1), redirect_attempted_on=date(2026, 1, 2))
    make_demand(
        country=us,
        legal_process=LegalProcess.SEARCH_WARRANT,
        received_on=date(2026, 2, 10),
        compelled=True,
        disclosure=Disclosure.PART,
        disclosed_on=date(2026, 3, 5),
        **notified,
    )
    make_demand(
        country=us,
        legal_process=LegalProcess.COURT_ORDER,
        received_on=date(2026, 6, 30),
        disclosure=Disclosure.NOTHING,
    )
    make_demand(
        agency="Polizei Berlin",
        country=de,
        legal_process=LegalProcess.COURT_ORDER,
        received_on=date(2026, 4, 1),
        compelled=True,
        disclosure=Disclosure.ALL,
        disclosed_on=date(2026, 4, 20),
        **notified,
    )
    make_demand(
        agency="Polizei Berlin",
        country=de,
        legal_process=LegalProcess.EMERGENCY,
        received_on=date(2026, 5, 5),
    )
    # H1 2026, national security: banded, never in the exact tables.
    for day in (1, 2, 3):
        make_demand(
            agency="FBI National Security Branch",
            country="Secret Country",
            legal_process=LegalProcess.NATIONAL_SECURITY,
            received_on=date(2026, 3, day),
        )
    # Outside the half-year.
    make_demand(country="France", received_on=date(2025, 12, 31))
    make_demand(country="France", received_on=date(2026, 7, 1))


def test_rule_r5_counts_by_country_process_and_outcome(half_year: None) -> None:
    report = transparency_report(year=2026, half=1)

    assert report.total == 5
    assert report.by_country == [("Germany", 2), ("United States", 3)]
    assert dict(report.by_process) == {
        "Subpoena": 1,
        "Court order": 2,
        "Search warrant": 1,
        "Emergency request": 1,
        "Other": 0,
    }
    assert report.by_outcome == [
        ("redirected", 1),
        ("nothing disclosed", 1),
        ("some disclosed", 1),
        ("all disclosed", 1),
        ("pending", 1),
    ]
    assert report.national_security_band == "0–249"


def test_rule_r5_the_second_half_year_counts_only_its_own(half_year: None) -> None:
    report = transparency_report(year=2026, half=2)

    assert report.total == 1
    assert report.by_country == [("France", 1)]
    assert report.national_security_band == "0–249"


def test_rule_r5_csv(half_year: None) -> None:
    rows = list(csv.reader(io.StringIO(report_csv(transparency_report(year=2026, half=1)))))

    assert rows[0] == ["Section", "Item", "Demands"]
    assert ["By country", "United States", "3"] in rows
    assert ["By legal process", "Court order", "2"] in rows
    assert ["By outcome", "all disclosed", "1"] in rows
    assert ["National security (band)", "National security process", "0–249"] in rows
    assert not any(row[1] == "Secret Country" for row in rows)
    assert not any(row[0] == "By legal process" and "National" in row[1] for row in rows)


def test_the_csv_neutralises_formulas(db: None) -> None:
    make_demand(country='=HYPERLINK("http://evil")', received_on=date(2026, 2, 1))

    rows = list(csv.reader(io.StringIO(report_csv(transparency_report(year=2026, half=1)))))

    assert ["By country", '\'=HYPERLINK("http://evil")', "1"] in rows


# --- The staff page.


def test_counsel_downloads_the_csv(half_year: None, counsel_client: Client) -> None:
    response = counsel_client.get(URL, {"year": 2026, "half": 1, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="transparency-report-2026-H1.csv"' in response["Content-Disposition"]
    assert "National security (band),National security process,0–249" in response.content.decode()


def test_counsel_downloads_the_pdf(half_year: None, counsel_client: Client) -> None:
    response = counsel_client.get(URL, {"year": 2026, "half": 1, "format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "2026 H1 (2026-01-01 to 2026-06-30)" in text
    lines = [line.strip() for line in text.splitlines()]
    assert "Demands received (exact, national-security process excluded): 5" in lines
    assert lines[lines.index("United States") + 1] == "3"
    assert lines[lines.index("Germany") + 1] == "2"
    assert lines[lines.index("Court order") + 1] == "2"
    assert lines[lines.index("Some disclosed") + 1] == "1"
    assert "National security demands received: 0–249" in lines
    assert "Secret Country" not in text


def test_the_page_shows_the_report(half_year: None, counsel_client: Client) -> None:
    response = counsel_client.get(URL, {"year": 2026, "half": 1})

    page = response.content.decode()
    assert response.status_code == 200
    assert "0–249" in page
    assert "format=csv" in page
    assert "format=pdf" in page


def test_a_bad_half_is_a_form_error(counsel_client: Client) -> None:
    response = counsel_client.get(URL, {"year": 2026, "half": 3, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "half" in response.context["form"].errors


@pytest.mark.parametrize("person", ["analyst", "viewer", "outsider"])
@pytest.mark.parametrize("export", ["", "csv", "pdf"])
def test_only_counsel_sees_the_report(
    half_year: None,
    analyst: Any,
    viewer: Any,
    outsider: Any,
    signed_in: Callable[[Any], Client],
    person: str,
    export: str,
) -> None:
    user = {"analyst": analyst, "viewer": viewer, "outsider": outsider}[person]

    response = signed_in(user).get(URL, {"year": 2026, "half": 1, "format": export})

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("disclosure", "redirect_attempted", "outcome"),
    [
        (Disclosure.PENDING, None, DemandOutcome.PENDING),
        (Disclosure.PENDING, date(2026, 2, 2), DemandOutcome.REDIRECTED),
        # A decided disclosure counts as such even after a redirect was tried.
        (Disclosure.NOTHING, date(2026, 2, 2), DemandOutcome.NOTHING),
        (Disclosure.PART, None, DemandOutcome.PART),
        (Disclosure.ALL, None, DemandOutcome.ALL),
    ],
)
def test_rule_r5_each_demand_has_one_of_the_reports_outcomes(
    disclosure: Disclosure, redirect_attempted: date | None, outcome: DemandOutcome
) -> None:
    demand = LawEnforcementDemand(disclosure=disclosure, redirect_attempted_on=redirect_attempted)
    assert demand.outcome is outcome
