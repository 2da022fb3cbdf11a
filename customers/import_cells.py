"""Reading the cells of the customer spreadsheet: text, and dates as YYYY-MM-DD."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from import_export import widgets

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def cell_text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


class IsoDateWidget(widgets.Widget):
    """Dates as YYYY-MM-DD, or a real date cell from XLSX; anything else is refused."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        try:
            if _ISO_DATE.match(text):
                return date.fromisoformat(text)
        except ValueError:
            pass
        raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD, like 2024-03-01.")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.isoformat() if isinstance(value, date) else ""


class TextWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value).strip()
