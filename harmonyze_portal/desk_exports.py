"""The dashboard's list as a file (CSV, XLSX): the rows as shown, one per item. A file leaves
the portal, so the caller seals it first (``desk.for_export``, R6)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import openpyxl

from harmonyze_portal import rules
from harmonyze_portal.desk import Desk
from harmonyze_portal.exports import neutralise_formula, spreadsheet_cell

# A file carries each rule's meaning beside its ID (T5): the reader has no tooltip.
EXPORT_HEADERS = (
    "Due",
    "Days left",
    "Rule",
    "Rule meaning",
    "Area",
    "What",
    "How the date was computed",
    "Customer",
    "Link",
)


def export_rows(desk: Desk, base_url: str = "") -> list[list[Any]]:
    """The rows of the list as shown, one per item, for CSV and XLSX."""
    return [
        [
            item.due,
            item.days_left,
            item.rule,
            rules.explain(item.rule) if item.rule else "",
            item.area_label,
            item.what,
            item.how,
            item.customer,
            base_url + item.url,
        ]
        for item in desk.items
    ]


def export_csv(desk: Desk, base_url: str = "") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADERS)
    for row in export_rows(desk, base_url):
        writer.writerow(
            [neutralise_formula(v.isoformat() if isinstance(v, date) else v) for v in row]
        )
    return buffer.getvalue()


def export_xlsx(desk: Desk, base_url: str = "") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "deadlines"
    sheet.append(EXPORT_HEADERS)
    for row in export_rows(desk, base_url):
        sheet.append([spreadsheet_cell(value) for value in row])
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
