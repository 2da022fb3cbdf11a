"""The DPA register and the breach notification log, exported from filtered changelists."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from django.test import Client
from pypdf import PdfReader

from customers.exports import duration
from customers.models import Customer
from customers.models.dpas import DPAStatus
from customers.services import customer_terminate
from harmonyze_portal.exports import neutralise_formula
from tests.customers.builders import make_breach, make_customer, make_dpa, make_notice
from tests.downloads import body

DPA_EXPORT = "/admin/customers/dpa/export/"
BREACH_LOG_EXPORT = "/admin/customers/breachnotice/export/"
REGISTER_COLUMNS = [
    "Customer",
    "DPA version",
    "Signed on",
    "Effective on",
    "Transfer terms",
    "Supervisory authority",
    "Authority country",
    "DPA status",
    "Customer status",
    "Terminated on",
    "Deletion due (C3)",
    "Deletion done",
    "Deletion held (C9)",
]
CSV, XLSX, PDF = "0", "1", "2"  # the breach log offers CSV, XLSX and PDF
AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)


def export(client: Client, url: str, file_format: str, query: str = "") -> Any:
    return client.post(f"{url}?{query}" if query else url, {"format": file_format})


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, body(response)[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(body(response).decode())))


def xlsx_rows(response: Any) -> tuple[list[str], list[list[Any]], Any]:
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert sheet is not None
    header, *rows = sheet.iter_rows()
    return [cell.value for cell in header], [[cell.value for cell in row] for row in rows], rows


@pytest.fixture
def register(acme: Customer, globex: Customer) -> None:
    """acme: a superseded DPA and one in force with the UK Addendum; globex: terminated, with
    a DPA in force under the EU SCCs only."""
    make_dpa(acme, version="2023-01", status=DPAStatus.SUPERSEDED)
    make_dpa(
        acme,
        version="2024-03",
        effective=date(2024, 3, 1),
        uk_addendum=True,
        supervisory_authority="BfDI",
        supervisory_authority_country="Germany",
    )
    make_dpa(globex, version="2024-03", supervisory_authority="ICO")
    customer_terminate(customer=globex, on=date(2026, 1, 31), by="customer", reason="Moved on")


# --- The DPA register


def test_the_register_as_csv_honours_the_status_filter(
    counsel_client: Client, register: None
) -> None:
    response = export(counsel_client, DPA_EXPORT, CSV, "status__exact=in_force")

    assert "dpa-register-" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == REGISTER_COLUMNS
    assert [(row["Customer"], row["DPA version"]) for row in rows] == [
        ("Acme Analytics GmbH", "2024-03"),
        ("Globex Corporation Ltd", "2024-03"),
    ]
    acme, globex = rows
    assert acme == {
        "Customer": "Acme Analytics GmbH",
        "DPA version": "2024-03",
        "Signed on": "2024-03-01",
        "Effective on": "2024-03-01",
        "Transfer terms": "EU SCCs Module Two; UK Addendum",
        "Supervisory authority": "BfDI",
        "Authority country": "Germany",
        "DPA status": "In force",
        "Customer status": "Active",
        "Terminated on": "",
        "Deletion due (C3)": "",
        "Deletion done": "",
        "Deletion held (C9)": "",
    }
    assert globex["Customer status"] == "Terminated"
    assert globex["Terminated on"] == "2026-01-31"
    assert globex["Deletion due (C3)"] == "2026-05-01", "C3: termination + 90 days"


def test_the_register_as_xlsx_honours_a_transfer_term_filter(
    counsel_client: Client, register: None
) -> None:
    response = export(counsel_client, DPA_EXPORT, XLSX, "uk_addendum__exact=1")

    assert response["Content-Disposition"].endswith('.xlsx"')
    header, rows, cells = xlsx_rows(response)
    assert cells[0][0].parent.parent.sheetnames == ["dpa-register"]
    assert header == REGISTER_COLUMNS
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Customer"] == "Acme Analytics GmbH"
    assert row["Transfer terms"] == "EU SCCs Module Two; UK Addendum"
    assert row["Effective on"] == datetime(2024, 3, 1), "a real date cell, not text"


def test_the_register_honours_the_search_too(counsel_client: Client, register: None) -> None:
    rows = csv_rows(export(counsel_client, DPA_EXPORT, CSV, "q=Globex"))

    assert [row["Customer"] for row in rows] == ["Globex Corporation Ltd"]


@pytest.fixture
def tricky_names(db: None) -> list[str]:
    names = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tTabbed", "\rReturned"]
    for name in names:
        make_dpa(make_customer(name), version="2024-03")
    return names


def test_formulae_are_neutralised_in_csv(counsel_client: Client, tricky_names: list[str]) -> None:
    rows = csv_rows(export(counsel_client, DPA_EXPORT, CSV))

    assert sorted(row["Customer"] for row in rows) == sorted("'" + name for name in tricky_names)


def test_formulae_are_neutralised_in_xlsx(counsel_client: Client, tricky_names: list[str]) -> None:
    header, values, cells = xlsx_rows(export(counsel_client, DPA_EXPORT, XLSX))

    column = header.index("Customer")
    assert sorted(row[column] for row in values) == sorted("'" + name for name in tricky_names)
    assert {row[column].data_type for row in cells} == {"s"}, "text cells, never formulas"


def test_durations_round_up_to_the_minute() -> None:
    assert duration(timedelta(seconds=20)) == "1 min"
    assert duration(timedelta(hours=2, minutes=5)) == "2 h 05 min"
    assert duration(timedelta(hours=-3)) == "3 h 00 min"


def test_only_text_that_starts_like_a_formula_is_touched() -> None:
    assert neutralise_formula("Acme = Best") == "Acme = Best"
    assert neutralise_formula("") == ""
    assert neutralise_formula(date(2024, 1, 1)) == date(2024, 1, 1)
    assert neutralise_formula(None) is None
    assert neutralise_formula("=1+1") == "'=1+1"


# --- The breach notification log


@pytest.fixture
def breach_log(acme: Customer, globex: Customer) -> None:
    """acme notified on the last minute of the 72 hours, globex a minute after them."""
    breach = make_breach(aware_at=AWARE)
    due = AWARE + timedelta(hours=72)
    make_notice(breach, acme, notified_at=due, notified_to="privacy@acme.com")
    make_notice(
        breach,
        globex,
        notified_at=due + timedelta(minutes=1),
        notified_to="dpo@globex.co.uk\nlegal@globex.co.uk",
    )
    other = make_breach(aware_at=AWARE + timedelta(days=30), title="Leaked support transcript")
    make_notice(other, acme)


def test_the_breach_log_as_csv(counsel_client: Client, breach_log: None) -> None:
    rows = csv_rows(export(counsel_client, BREACH_LOG_EXPORT, CSV, "notified_at__isempty=0"))

    assert list(rows[0]) == [
        "Breach",
        "Aware at",
        "Customer",
        "Target",
        "Notified at",
        "Notified to",
        "On time / late",
        "Notices sent",
        "Remediation steps",
    ]
    assert rows == [
        {
            "Breach": "Misconfigured export bucket",
            "Aware at": "2026-01-31T10:00:00-05:00",
            "Customer": "Acme Analytics GmbH",
            "Target": "2026-02-03T10:00:00-05:00",
            "Notified at": "2026-02-03T10:00:00-05:00",
            "Notified to": "privacy@acme.com",
            "On time / late": "on time",
            "Notices sent": "",
            "Remediation steps": "",
        },
        {
            "Breach": "Misconfigured export bucket",
            "Aware at": "2026-01-31T10:00:00-05:00",
            "Customer": "Globex Corporation Ltd",
            "Target": "2026-02-03T10:00:00-05:00",
            "Notified at": "2026-02-03T10:01:00-05:00",
            "Notified to": "dpo@globex.co.uk; legal@globex.co.uk",
            "On time / late": "late by 1 min",
            "Notices sent": "",
            "Remediation steps": "",
        },
    ]


def test_the_breach_log_as_pdf(counsel_client: Client, breach_log: None) -> None:
    response = export(counsel_client, BREACH_LOG_EXPORT, PDF, "notified_at__isempty=0")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    text = " ".join(
        " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
        ).split()
    )
    assert "Breach notification log" in text
    assert "Acme Analytics GmbH" in text
    assert "Globex Corporation Ltd" in text
    assert "on time" in text
    assert "late by" in text
    assert "Leaked support transcript" not in text, "the filter holds in the PDF too"


def test_a_pending_notice_past_its_target_shows_overdue(
    counsel_client: Client, breach_log: None
) -> None:
    rows = csv_rows(export(counsel_client, BREACH_LOG_EXPORT, CSV, "notified_at__isempty=1"))

    assert [row["Breach"] for row in rows] == ["Leaked support transcript"]
    assert rows[0]["On time / late"].startswith("not notified, overdue by")


# --- Who may export


def test_the_viewer_may_export(
    viewer: Any, signed_in: Callable[[Any], Client], register: None, breach_log: None
) -> None:
    client = signed_in(viewer)

    assert len(csv_rows(export(client, DPA_EXPORT, CSV))) == 3
    assert export(client, BREACH_LOG_EXPORT, PDF).status_code == 200
    changelist = client.get("/admin/customers/dpa/?status__exact=in_force").content.decode()
    assert f"{DPA_EXPORT}?status__exact=in_force" in changelist, "the button keeps the filter"


def test_an_outsider_may_not_export(
    outsider: Any, signed_in: Callable[[Any], Client], register: None, breach_log: None
) -> None:
    client = signed_in(outsider)

    assert client.get(DPA_EXPORT).status_code == 403
    assert export(client, DPA_EXPORT, CSV).status_code == 403
    assert export(client, BREACH_LOG_EXPORT, PDF).status_code == 403
