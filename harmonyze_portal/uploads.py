"""Checks for uploaded documents (signed DPAs, letters, audit reports)."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.deconstruct import deconstructible

PDF_MAGIC = b"%PDF-"


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
    head = upload.read(len(PDF_MAGIC))
    upload.seek(position)
    if head != PDF_MAGIC:
        raise ValidationError(
            "This file is named .pdf but is not a PDF document.", code="not_pdf_content"
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
