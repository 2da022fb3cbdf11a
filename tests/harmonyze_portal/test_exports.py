"""Every register streams (issue 16, P7): CSV in pieces and XLSX from a write-only workbook,
in the same number of queries whatever the number of rows, with the cells import-export's
``Resource.export()`` gives, every cell still neutralised for spreadsheets, for whoever may
view the register and nobody else."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import tablib
from django.contrib import admin
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import mark_safe

from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import (
    csv_pieces,
    neutralise_formula,
    report_columns,
    spreadsheet_cell,
)
from tests.customers.builders import make_assistance, make_customer
from tests.downloads import body
from tests.harmonyze_portal.registers import FORMULA, REGISTERS

CASES = [(name, fmt) for name, register in REGISTERS.items() for fmt in register.formats]


def rows_of(response: Any, fmt: str) -> list[list[Any]]:
    data = body(response)
    if fmt == "0":
        return list(csv.reader(io.StringIO(data.decode())))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def exported(client: Client, url: str, fmt: str) -> tuple[list[list[Any]], int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {"format": fmt})
        assert response.status_code == 200
        assert response.streaming, "a register is sent as it is written, never held whole"
        rows = rows_of(response, fmt)
    return rows, len(queries)


def import_export_rows(name: str, fmt: str, user: Any) -> tablib.Dataset:
    """What import-export's ``Resource.export()`` gives for the admin's export queryset."""
    register = REGISTERS[name]
    model_admin = admin.site.get_model_admin(register.model)
    request = RequestFactory().get(register.url)
    request.user = user
    queryset = model_admin.get_export_queryset(request)  # type: ignore[attr-defined]
    return register.resource().export(queryset=queryset, force_native_type=fmt == "1")


def as_read_back(value: Any, fmt: str) -> Any:
    """A cell as it comes back from the file: CSV is text; an XLSX date cell is a datetime,
    an empty text cell nothing."""
    if fmt == "0":
        return "" if value is None else str(neutralise_formula(value))
    value = spreadsheet_cell(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return None if value == "" else value


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_a_register_export_takes_the_same_queries_for_one_row_and_for_many(
    counsel_client: Client, name: str, fmt: str
) -> None:
    register = REGISTERS[name]
    register.add(0, 1)
    one, queries_for_one = exported(counsel_client, register.url, fmt)
    register.add(1, 6)
    six, queries_for_six = exported(counsel_client, register.url, fmt)

    assert (len(one), len(six)) == (2, 7)  # a header, then a row per record
    assert queries_for_six == queries_for_one, "no query per row"


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_a_streamed_register_has_the_cells_import_export_gives(
    counsel: Any, counsel_client: Client, name: str, fmt: str
) -> None:
    register = REGISTERS[name]
    register.add(0, 3)

    rows, _ = exported(counsel_client, register.url, fmt)
    dataset = import_export_rows(name, fmt, counsel)

    assert rows[0] == dataset.headers
    expected = [[as_read_back(cell, fmt) for cell in row] for row in dataset]
    assert rows[1:] == expected, "the same cells, in the changelist's order"
    filled = [any(row[i] not in ("", None) for row in expected) for i in range(len(rows[0]))]
    assert all(filled), f"every column is compared: {rows[0]!r} {filled!r}"
    assert f"'{FORMULA}" in [cell for row in rows for cell in row], "formula neutralising stays"


@pytest.mark.parametrize("name", REGISTERS)
def test_a_register_reads_tuples_unless_a_column_needs_many_related_rows(
    db: None, name: str
) -> None:
    register = REGISTERS[name]
    resource = register.resource()
    queryset = resource.filter_export(register.model.objects.all())

    columns = report_columns(resource, queryset, native=False)

    assert (columns.fetch is not None) == register.tuples


@pytest.mark.parametrize("name", [name for name, fmt in CASES if fmt == "1"])
def test_an_xlsx_register_keeps_formulas_as_text(counsel_client: Client, name: str) -> None:
    register = REGISTERS[name]
    register.add(0, 1)

    response = counsel_client.post(register.url, {"format": "1"})
    workbook = openpyxl.load_workbook(io.BytesIO(body(response)))
    sheet = workbook.active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert f"'{FORMULA}" in [cell.value for cell in cells]
    assert not any(cell.data_type == "f" for cell in cells), "no formula cell"


@pytest.mark.parametrize("name", ["DPA register", "DSR log", "audit register", "legal holds"])
def test_an_xlsx_register_keeps_dates_as_dates(counsel_client: Client, name: str) -> None:
    register = REGISTERS[name]
    register.add(0, 1)

    response = counsel_client.post(register.url, {"format": "1"})
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert sheet is not None
    values = [cell for row in sheet.iter_rows(min_row=2, values_only=True) for cell in row]
    assert any(isinstance(value, datetime) for value in values), "a real date cell"


@pytest.mark.parametrize("name", REGISTERS)
def test_whoever_may_view_a_register_may_export_it_and_nobody_else(
    viewer: Any, outsider: Any, signed_in: Callable[[Any], Client], name: str
) -> None:
    register = REGISTERS[name]
    register.add(0, 1)

    assert signed_in(viewer).post(register.url, {"format": "0"}).status_code == 200
    refused = signed_in(outsider)
    assert refused.get(register.url).status_code == 403
    assert refused.post(register.url, {"format": "0"}).status_code == 403
    assert refused.post(register.url, {"format": "1"}).status_code == 403


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
    make_assistance(make_customer(FORMULA), received=received)
    with CaptureQueriesContext(connection) as one:
        response = client.get(f"/admin/deadlines.{fmt}")
        assert response.streaming
        body(response)
    for n in range(1, 5):
        make_assistance(make_customer(f"Customer {n} GmbH"), received=received)
    with CaptureQueriesContext(connection) as five:
        response = client.get(f"/admin/deadlines.{fmt}")
        data = body(response)

    assert len(five) == len(one)
    if fmt == "csv":
        assert data.decode().count("\r\n") == 6
