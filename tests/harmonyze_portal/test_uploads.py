"""Uploaded PDFs (harmonyze_portal/uploads.py) and how staff get them back (/staff/files/):
active content and HTML polyglots are refused at upload, on every path that validates the
field; whatever is stored is served as a download that no browser renders in our origin."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from harmonyze_portal.uploads import active_content, validate_pdf

PLAIN = b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction[3 0 R/Fit]>>endobj\ntrailer<<>>\n%%EOF\n"


def _object_stream(body: bytes) -> bytes:
    packed = zlib.compress(body)
    return (
        b"%PDF-1.7\n5 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length "
        + str(len(packed)).encode()
        + b">>stream\n"
        + packed
        + b"\nendstream endobj\n%%EOF\n"
    )


ACTIVE = {
    "open action runs JavaScript": (
        b"%PDF-1.7\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF"
    ),
    "hex-escaped name": b"%PDF-1.7\n1 0 obj<</OpenAction<</S/J#61vaScript/J#53(x)>>>>endobj",
    "automatic action": b"%PDF-1.7\n1 0 obj<</Type/Page/AA<</O 2 0 R>>>>endobj\n%%EOF",
    "launch": b"%PDF-1.7\n1 0 obj<</S/Launch/F(cmd.exe)>>endobj\n%%EOF",
    "embedded file": b"%PDF-1.7\n1 0 obj<</Type/EmbeddedFile>>endobj\n%%EOF",
    "rich media": b"%PDF-1.7\n1 0 obj<</Subtype/RichMedia>>endobj\n%%EOF",
    "inside a compressed object stream": _object_stream(b"1 0 <</S/JavaScript/JS(x)>>"),
    "html polyglot": b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF",
    "html polyglot, upper case": b"%PDF-1.4\n%<SCRIPT>fetch('/admin/')</SCRIPT>\n%%EOF",
}


@pytest.mark.parametrize("data", ACTIVE.values(), ids=ACTIVE.keys())
def test_active_content_is_found(data: bytes) -> None:
    assert active_content(data) is not None


@pytest.mark.parametrize(
    "data",
    [PLAIN, _object_stream(b"1 0 <</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")],
    ids=["open at page 1", "fonts in an object stream"],
)
def test_plain_pdfs_pass(data: bytes) -> None:
    assert active_content(data) is None
    validate_pdf(SimpleUploadedFile("plain.pdf", data))


@pytest.mark.parametrize("data", ACTIVE.values(), ids=ACTIVE.keys())
def test_validate_pdf_refuses_active_content_with_a_message(data: bytes) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_pdf(SimpleUploadedFile("letter.pdf", data))
    assert refused.value.code == "active_content"
    assert "cannot be accepted" in refused.value.messages[0]


def test_validate_pdf_refuses_what_is_not_a_pdf_by_its_bytes() -> None:
    with pytest.raises(ValidationError) as refused:
        validate_pdf(SimpleUploadedFile("letter.pdf", b"<html>%PDF-1.4</html>"))
    assert refused.value.code == "not_pdf_content"


def test_validate_pdf_leaves_the_file_where_it_was() -> None:
    upload = SimpleUploadedFile("plain.pdf", PLAIN)
    upload.seek(3)
    validate_pdf(upload)
    assert upload.tell() == 3


# --- /staff/files/ -------------------------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content_type"),
    [("plan.pdf", "application/pdf"), ("page.html", "application/octet-stream")],
)
def test_staff_files_are_downloads_never_pages(
    media: Path,
    viewer: Any,
    signed_in: Callable[[Any], Client],
    name: str,
    content_type: str,
) -> None:
    # Stored before the upload check existed, or by a path that skipped it: still inert.
    (media / "audits").mkdir()
    (media / "audits" / name).write_bytes(ACTIVE["html polyglot"])

    response = signed_in(viewer).get(f"/staff/files/audits/{name}")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
