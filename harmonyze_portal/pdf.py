"""PDF documents rendered from HTML templates (xhtml2pdf: pure Python, no system libraries)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.template.loader import render_to_string
from xhtml2pdf import pisa


class PDFRenderError(RuntimeError):
    pass


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, context)
    out = BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if status.err:
        raise PDFRenderError(f"{template} could not be rendered as PDF ({status.err} errors).")
    return out.getvalue()
