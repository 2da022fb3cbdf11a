"""Checks for uploaded documents (signed DPAs, letters, audit reports)."""

from __future__ import annotations

import re
import uuid
import zlib
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.deconstruct import deconstructible

PDF_MAGIC = b"%PDF-"
# Anonymous forms take PDFs that staff then open: a PDF that runs something when opened (a
# JavaScript action, an automatic action, a launched program, an embedded file or Flash) is
# refused, and so is a file that a browser could also read as HTML (a polyglot). A plain
# /OpenAction (open at page 1) is common and harmless without one of these names. Names are
# compared after undoing the "#xx" escapes PDF allows in names (/J#61vaScript is /JavaScript),
# in the raw bytes and in every stream that inflates (object streams hide dictionaries from a
# plain scan).
ACTIVE_NAMES = {
    b"/JS": "JavaScript",
    b"/JavaScript": "JavaScript",
    b"/AA": "an automatic action",
    b"/Launch": "a command that launches a program",
    b"/EmbeddedFile": "an embedded file",
    b"/EmbeddedFiles": "an embedded file",
    b"/RichMedia": "embedded media (Flash)",
}
_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
_HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<head", b"<iframe", b"<svg")
MAX_INFLATED = 64 * 1024 * 1024  # a zip bomb stops here, not in memory


def _names(data: bytes) -> set[bytes]:
    return {_HEX_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), n) for n in _NAME.findall(data)}


def _inflated_streams(data: bytes) -> list[bytes]:
    out, budget = [], MAX_INFLATED
    for match in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(match[1], budget)
        except zlib.error:
            continue
        budget -= len(chunk)
        out.append(chunk)
        if budget <= 0:
            break
    return out


def active_content(data: bytes) -> str | None:
    """What in ``data`` (a whole PDF) would act when the file is opened, in words, or None.

    >>> active_content(b"%PDF-1.7 1 0 obj <</OpenAction <</S/J#61vaScript>> >>")
    'JavaScript'
    """
    head = data[:1024].lower()
    if any(marker in head for marker in _HTML_MARKERS):
        return "HTML (a browser could run it as a web page)"
    names: set[bytes] = set()
    for part in (data, *_inflated_streams(data)):
        names |= _names(part)
    for name, what in ACTIVE_NAMES.items():
        if name in names:
            return what
    return None


def validate_pdf(upload: File) -> None:
    """A PDF (by its first bytes, not only its name) of at most ``MAX_UPLOAD_MB``."""
    limit_mb: int = settings.MAX_UPLOAD_MB
    if upload.size is not None and upload.size > limit_mb * 1024 * 1024:
        raise ValidationError(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {limit_mb} MB.",
            code="too_large",
        )
    if PurePosixPath(upload.name or "").suffix.lower() != ".pdf":
        raise ValidationError("Upload a PDF file (name ending in .pdf).", code="not_pdf")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    data = upload.read()
    upload.seek(position)
    if not data.startswith(PDF_MAGIC):
        raise ValidationError(
            "This file is named .pdf but is not a PDF document.", code="not_pdf_content"
        )
    found = active_content(data)
    if found is not None:
        raise ValidationError(
            f"This PDF contains {found}, which could run when it is opened, so it cannot be "
            "accepted. Save or print it to a plain PDF (without scripts, actions or attachments) "
            "and upload that.",
            code="active_content",
        )


@deconstructible(path="harmonyze_portal.uploads.PrivateUploadPath")
class PrivateUploadPath:
    """``upload_to`` that keeps the original name out of the URL and avoids collisions."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self, instance: object, filename: str) -> str:
        suffix = PurePosixPath(filename).suffix.lower()
        return f"{self.folder}/{uuid.uuid4().hex}{suffix}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateUploadPath) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)


def store_upload(upload: File, field: Any) -> str:
    """Keep a checked upload where ``field`` (a model's FileField) keeps its files, now, for
    work that runs after the response (the temporary file ends with the request); returns the
    stored name, which the field then takes as its value."""
    stored: str = field.storage.save(field.generate_filename(None, upload.name or ""), upload)
    return stored


def discard_upload(name: str) -> None:
    """Remove a stored upload that no record kept (a plan from an unknown sender)."""
    if name:
        default_storage.delete(name)
