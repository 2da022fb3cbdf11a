"""Every register streams (issue 16, P7): CSV in pieces and XLSX from a write-only workbook,
in the same number of queries whatever the number of rows, with the rows import-export's
``Resource.export()`` gives, and every cell still neutralised for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import tablib
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import mark_safe

from audits.exports import AuditRegisterResource
from audits.models import AuditRequest
from customers.exports import BreachLogResource, DPARegisterResource
from customers.models import DPA, BreachNotice
from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import csv_pieces, neutralise_formula
from requests.models import DataSubjectRequest
from requests.reports import DSRLogResource
from tests.audits.builders import make_audit_request
from tests.customers.builders import (
    make_assistance,
    make_breach,
    make_customer,
    make_dpa,
    make_notice,
)
from tests.downloads import body
from tests.requests.builders import make_dsr

# A legal name a spreadsheet would run as a formula: every register shows the customer.
FORMULA = '=HYPERLINK("http://evil.example")'


def _customer(n: int) -> Any:
    return make_customer(FORMULA if n == 0 else f"Customer {n} GmbH")


def add_dpas(first: int, last: int) -> None:
    for n in range(first, last):
        make_dpa(_customer(n), supervisory_authority="BfDI")


def add_breach_notices(first: int, last: int) -> None:
    breach = make_breach(title=f"Breach {first}")
    for n in range(first, last):
        make_notice(
            breach,
            _customer(n),
            notified_at=datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
            notified_to="dpo@example.com",
        )


def add_dsrs(first: int, last: int) -> None:
    for n in range(first, last):
        make_dsr(email=f"person{n}@example.org", customer=_customer(n))


def add_audit_requests(first: int, last: int) -> None:
    for n in range(first, last):
        make_audit_request(_customer(n))


REGISTERS: dict[str, tuple[str, type[Any], type[Any], Callable[[int, int], None], list[str]]] = {
    # name: (export URL, model, resource, builder, formats: 0 = CSV, 1 = XLSX)
    "DPA register": (
        "/admin/customers/dpa/export/",
        DPA,
        DPARegisterResource,
        add_dpas,
        ["0", "1"],
    ),
    "breach log": (
        "/admin/customers/breachnotice/export/",
        BreachNotice,
        BreachLogResource,
        add_breach_notices,
        ["0"],  # its other format is the PDF
    ),
    "DSR log": (
        "/admin/requests/datasubjectrequest/export/",
        DataSubjectRequest,
        DSRLogResource,
        add_dsrs,
        ["0", "1"],
    ),
    "audit register": (
        "/admin/audits/auditrequest/export/",
        AuditRequest,
        AuditRegisterResource,
        add_audit_requests,
        ["0", "1"],
    ),
}
CASES = [(name, fmt) for name, spec in REGISTERS.items() for fmt in spec[4]]


def rows_of(response: Any, fmt: str) -> list[list[str]]:
    data = body(response)
    if fmt == "0":
        return list(csv.reader(io.StringIO(data.decode())))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def exported(client: Client, url: str, fmt: str) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {"format": fmt})
        assert response.status_code == 200
        assert response.streaming, "a register is sent as it is written, never held whole"
        rows = rows_of(response, fmt)
    return rows, len(queries)


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_a_register_export_takes_the_same_queries_for_one_row_and_for_many(
    counsel_client: Client, name: str, fmt: str
) -> None:
    url, _, _, add, _ = REGISTERS[name]
    add(0, 1)
    one, queries_for_one = exported(counsel_client, url, fmt)
    add(1, 6)
    six, queries_for_six = exported(counsel_client, url, fmt)

    assert (len(one), len(six)) == (2, 7)  # a header, then a row per record
    assert queries_for_six == queries_for_one, "no query per row"


@pytest.mark.parametrize("name", REGISTERS)
def test_a_streamed_register_has_the_rows_import_export_gives(
    counsel_client: Client, name: str
) -> None:
    url, model, resource, add, _ = REGISTERS[name]
    add(0, 3)

    rows, _ = exported(counsel_client, url, "0")
    dataset: tablib.Dataset = resource().export(queryset=model.objects.all())

    assert rows[0] == dataset.headers
    expected = [[str(neutralise_formula(cell)) for cell in row] for row in dataset]
    assert sorted(rows[1:]) == sorted(expected)
    assert any(f"'{FORMULA}" in row for row in rows), "formula neutralising stays"


@pytest.mark.parametrize("name", [name for name, fmt in CASES if fmt == "1"])
def test_an_xlsx_register_keeps_dates_as_dates_and_formulas_as_text(
    counsel_client: Client, name: str
) -> None:
    url, _, _, add, _ = REGISTERS[name]
    add(0, 1)

    response = counsel_client.post(url, {"format": "1"})
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert sheet is not None
    values = [cell for row in sheet.iter_rows(min_row=2, values_only=True) for cell in row]
    assert f"'{FORMULA}" in values
    assert any(isinstance(value, datetime) for value in values), "a real date cell"


def test_csv_pieces_neutralise_every_cell_and_keep_the_rest() -> None:
    rows = [["=1+1", "+33 1", "-2", "@me", "\tx", "plain", 3, None, date(2026, 1, 31)]]
    text = b"".join(csv_pieces(["=Header", "B"], rows)).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["'=Header", "B"],
        ["'=1+1", "'+33 1", "'-2", "'@me", "'\tx", "plain", "3", "", "2026-01-31"],
    ]


def test_csv_pieces_neutralise_text_of_every_string_type() -> None:
    # A str subclass (a template's SafeString, a lazy label) is text a spreadsheet runs too.
    text = b"".join(csv_pieces(["A"], [[mark_safe("=1+1")]])).decode()
    assert text.splitlines()[1] == "'=1+1"


def test_csv_pieces_send_a_long_register_in_several_pieces() -> None:
    pieces = list(csv_pieces(["A"], ([n] for n in range(1200))))
    assert len(pieces) == 3
    assert b"".join(pieces).count(b"\r\n") == 1201


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_dashboard_export_streams_in_the_same_queries_for_one_item_and_for_many(
    signed_in: Any, counsel: Any, fmt: str
) -> None:
    client = signed_in(counsel)
    received = legal_today() - timedelta(days=25)  # C6: due in five days, on the dashboard
    make_assistance(_customer(0), received=received)
    with CaptureQueriesContext(connection) as one:
        response = client.get(f"/admin/deadlines.{fmt}")
        assert response.streaming
        body(response)
    for n in range(1, 5):
        make_assistance(_customer(n), received=received)
    with CaptureQueriesContext(connection) as five:
        response = client.get(f"/admin/deadlines.{fmt}")
        data = body(response)

    assert len(five) == len(one)
    if fmt == "csv":
        assert data.decode().count("\r\n") == 6
