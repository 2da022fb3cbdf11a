"""The dashboard's list as a file (CSV, XLSX): the rows as shown, one per item. A file leaves
the portal, so the caller seals it first (``desk.for_export``, R6). Both stream through the
shared export helpers: CSV in pieces, XLSX from a write-only workbook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from harmonyze_portal import rules
from harmonyze_portal.desk import Desk
from harmonyze_portal.exports import csv_download, csv_pieces, xlsx_download

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
    return list(_rows(desk, base_url))


def _rows(desk: Desk, base_url: str) -> Iterator[list[Any]]:
    for item in desk.items:
        yield [
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


def _text_rows(desk: Desk, base_url: str) -> Iterator[list[Any]]:
    for row in _rows(desk, base_url):
        yield [value.isoformat() if isinstance(value, date) else value for value in row]


def export_csv(desk: Desk, base_url: str = "") -> str:
    return b"".join(csv_pieces(EXPORT_HEADERS, _text_rows(desk, base_url))).decode()


def download(desk: Desk, fmt: str, filename: str, base_url: str = "") -> Any:
    """The list as a streamed CSV or a write-only XLSX (dates as date cells) attachment."""
    if fmt == "csv":
        return csv_download(filename, EXPORT_HEADERS, _text_rows(desk, base_url))
    return xlsx_download(filename, "deadlines", EXPORT_HEADERS, _rows(desk, base_url))
