"""The demo's outbox page (issue 15): emails readable, links whole and clickable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client

SignIn = Callable[[Any], Client]
LINK = "http://127.0.0.1:8001/sub-processors/notices/confirm/" + "a" * 90 + "=/"


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.DEBUG = True
    settings.OUTBOX_DIR = str(tmp_path)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    return tmp_path


def send(subject: str, body: str) -> None:
    EmailMessage(subject, body, "privacy@harmonyze.com", ["dpo@acme.com"]).send()


def test_counsel_reads_the_demo_emails_with_whole_links(
    outbox: Path, counsel: Any, signed_in: SignIn
) -> None:
    send("Confirm your Notice Form signup", f"Confirm here:\n{LINK}\nThank you.")
    send("Second", "Größe – non-ASCII text stays readable.")

    page = signed_in(counsel).get("/staff/outbox/").content.decode()

    assert any(outbox.iterdir())
    assert f'<a href="{LINK}"' in page  # one link, not cut at "=" by quoted-printable
    assert "Größe – non-ASCII text stays readable." in page
    assert page.index("Second") < page.index("Confirm your Notice Form signup")  # newest first
    assert 'class="breadcrumbs"' in page


def test_the_outbox_is_for_signed_in_staff_only(outbox: Path, client: Client) -> None:
    response = client.get("/staff/outbox/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_outbox_does_not_exist_outside_the_demo(
    settings: Any, counsel: Any, signed_in: SignIn
) -> None:
    settings.DEBUG = False
    assert mail.outbox == []
    assert signed_in(counsel).get("/staff/outbox/").status_code == 404
