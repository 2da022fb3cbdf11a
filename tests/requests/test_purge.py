"""R3, PP 4: a public submission whose email is never confirmed is not a request, and is purged
once its confirmation link has expired — by the cron command, its history kept (H1). The form
says so."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from requests.models import Channel, DataSubjectRequest, DSRStatus
from requests.services import PURGE_ACTOR, verification_token
from tests.requests.builders import make_dsr, make_submission

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SUBMITTED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def purge() -> str:
    out = StringIO()
    call_command("purge_unconfirmed_requests", stdout=out)
    return out.getvalue()


def test_rule_r3_an_unconfirmed_submission_is_purged_when_its_link_expires(
    settings: Any, media: Path
) -> None:
    with time_machine.travel(SUBMITTED, tick=False):
        expired = make_submission(
            email="never@example.org",
            agent_name="Alex Agent",
            agent_proof=SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf"),
        )
        confirmed = make_dsr(email="confirmed@example.org", channel=Channel.PUBLIC_FORM)
        by_letter = make_dsr(email="letter@example.org", status=DSRStatus.UNVERIFIED)
    with time_machine.travel(SUBMITTED + timedelta(hours=1), tick=False):
        fresh = make_submission(email="fresh@example.org")
    assert [path for path in media.rglob("*") if path.is_file()]
    pk = expired.pk

    # The last second of the link: nothing goes.
    last = SUBMITTED + timedelta(hours=settings.NOTICE_CONFIRM_HOURS)
    with time_machine.travel(last, tick=False):
        assert purge() == "0 unconfirmed privacy requests purged.\n"
    with time_machine.travel(last + timedelta(seconds=1), tick=False):
        assert purge() == "1 unconfirmed privacy request purged.\n"

    assert set(DataSubjectRequest.objects.all()) == {confirmed, by_letter, fresh}
    assert not [path for path in media.rglob("*") if path.is_file()]
    gone = DataSubjectRequest.history.filter(id=pk).latest()
    assert gone.history_type == "-"
    assert gone.history_actor == PURGE_ACTOR
    assert gone.history_change_reason == "Email never confirmed: the link expired (R3, PP 4)"
    # PP 4: the history keeps that it was purged, not what the person sent.
    rows = list(DataSubjectRequest.history.filter(id=pk))
    assert len(rows) >= 2
    for row in rows:
        assert (row.requester_email, row.requester_name, row.agent_name, row.agent_proof) == (
            "",
            "",
            "",
            "",
        )
        assert row.history_record == f"Data subject request #{pk}, purged (PP 4)"
        assert row.received_on == expired.received_on


def test_rule_r3_the_form_says_when_the_request_counts_and_when_it_is_deleted(
    client: Client, settings: Any
) -> None:
    html = " ".join(client.get("/privacy-requests/").content.decode().split())
    assert "Your request counts as received on the day you send it" in html
    assert f"If the link is not used within {settings.NOTICE_CONFIRM_HOURS} hours" in html
    assert "the request is deleted" in html
    sent = " ".join(client.get("/privacy-requests/sent/").content.decode().split())
    assert "counts as received today, the day you sent it" in sent
    assert "not confirmed by then is deleted" in sent


def test_rule_r3_the_confirmation_page_names_the_submission_date(client: Client) -> None:
    with time_machine.travel(SUBMITTED + timedelta(days=1), tick=False):
        dsr = make_submission(submitted=date(2026, 3, 2))
        html = client.get(f"/privacy-requests/verify/{verification_token(dsr)}/").content.decode()
    assert "counts as received on the day you sent it, 2 March 2026" in html
