"""The demo's outbox (issue 15): the emails the portal sent, readable, links clickable.

Only with ``DEBUG`` and the file backend (``OUTBOX_DIR``, from ``EMAIL_FILE_PATH``, which
`make run` sets); anywhere else
the page does not exist (404). Staff-only, through the admin's sign-in like every staff page.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

# Django's file backend ends each message with a line of 79 dashes.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"
SHOWN = 50


@dataclass(frozen=True)
class Sent:
    file: str
    subject: str
    to: str
    date: str
    body: str


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""


def read_outbox(folder: Path, limit: int = SHOWN) -> list[Sent]:
    """The newest ``limit`` messages in ``folder``, newest first."""
    sent: list[Sent] = []
    # Newest first by when the file was written: two messages in one second get names that
    # sort by the backend's object id, not by time.
    files = sorted(folder.glob("*.log"), key=lambda path: (path.stat().st_mtime_ns, path.name))
    for path in reversed(files):
        chunks = [chunk for chunk in path.read_bytes().split(SEPARATOR) if chunk.strip()]
        for chunk in reversed(chunks):
            message: Any = email.message_from_bytes(chunk, policy=default)
            sent.append(
                Sent(
                    file=path.name,
                    subject=str(message["Subject"] or ""),
                    to=str(message["To"] or ""),
                    date=str(message["Date"] or ""),
                    body=_text(message),
                )
            )
            if len(sent) >= limit:
                return sent
    return sent


def outbox(request: HttpRequest) -> HttpResponse:
    folder = getattr(settings, "OUTBOX_DIR", "")
    if not settings.DEBUG or not folder:
        raise Http404("The outbox exists only in the local demo.")
    path = Path(folder)
    messages = read_outbox(path) if path.is_dir() else []
    return render(
        request,
        "staff/outbox.html",
        {**admin.site.each_context(request), "title": "Demo outbox", "sent": messages},
    )
