"""PP 4 purges and H3 seals agree: a row a purge blanks is disclosed by a redaction entry, so
its seal still verifies and the redaction is reported; a row blanked any other way is tampering."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client

from harmonyze_portal.models import HistoryRedaction
from harmonyze_portal.roles import ROLES, grants
from harmonyze_portal.seals import (
    columns,
    history_tables,
    seal_history,
    sha256_hex,
    verify_history,
    version_text,
)
from requests.models import DataSubjectRequest
from subprocessors import services as signup_services
from subprocessors.models import Signup
from subprocessors.retention import PURGE_ACTOR
from tests.requests.builders import make_submission

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]
SENT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SIGNUPS = "subprocessors.historicalsignup"
VERIFIER = Path(__file__).resolve().parents[2] / "docs" / "verify_history_export.py"


def verifier() -> Any:
    spec = importlib.util.spec_from_file_location("verify_history_export", VERIFIER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seal() -> None:
    seal_history(settle=timedelta(0))


def signups(*emails: str) -> list[Signup]:
    with time_machine.travel(SENT, tick=False):
        return [signup_services.signup_request(email=email, ip="203.0.113.7") for email in emails]


def purge(settings: Any) -> None:
    expired = SENT + timedelta(hours=settings.NOTICE_CONFIRM_HOURS, minutes=1)
    with time_machine.travel(expired, tick=False):
        call_command("purge_unconfirmed", stdout=StringIO())


def check(label: str = SIGNUPS) -> Any:
    return next(found for found in verify_history() if found.table == label)


def verify_command() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_history", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def history_ids(signup: Signup) -> list[int]:
    return list(
        Signup.history.filter(id=signup.pk)  # type: ignore[attr-defined]
        .order_by("history_id")
        .values_list("history_id", flat=True)
    )


def blank_by_hand(history_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subprocessors_historicalsignup SET email = '', signup_ip = NULL "
            "WHERE history_id = %s",
            [history_id],
        )


def test_a_purge_after_sealing_verifies_and_reports_the_redaction(settings: Any) -> None:
    """The contradiction fixed: before, the purge's blanking broke the signup table's seal."""
    (gone,) = signups("never@example.org")
    seal()
    purge(settings)

    found = check()
    assert found.ok, found.broken
    assert found.redacted_rows == len(history_ids(gone)) - 1  # the "deleted" row is not sealed
    code, out, _ = verify_command()
    assert code == 0
    assert f"{found.redacted_rows} rows redacted under PP 4" in out
    assert f"ok {SIGNUPS}: 1 seals over {found.sealed_rows} rows (1 redacted under PP 4)" in out

    seal()  # the "deleted" row is sealed as written too, and disclosed as blanked
    assert check().ok
    assert check().redacted_rows == 2


def test_the_purge_records_one_entry_per_blanked_row_without_personal_data(
    settings: Any,
) -> None:
    (gone,) = signups("Never@Example.org")
    seal()
    purge(settings)

    entries = list(HistoryRedaction.objects.order_by("row_id"))
    assert [entry.row_id for entry in entries] == history_ids(gone)
    for entry in entries:
        assert (entry.history_table, entry.job) == (SIGNUPS, PURGE_ACTOR)
        assert entry.reason == "Email never confirmed: the link expired (S2, PP 4)"
        assert entry.sealed_sha256 != entry.redacted_sha256
    written = str(list(HistoryRedaction.objects.values())) + str(
        list(HistoryRedaction.history.values())
    )
    assert "example.org" not in written.lower()
    assert "203.0.113.7" not in written
    # The entries are history themselves, and sealed like the rest.
    assert "harmonyze_portal.historicalhistoryredaction" in {
        model._meta.label_lower for model in history_tables()
    }
    assert HistoryRedaction.history.filter(history_type="+").count() == len(entries)
    seal()
    assert check("harmonyze_portal.historicalhistoryredaction").sealed_rows == len(entries)


def test_a_purge_before_the_first_seal_then_sealed_verifies_too(settings: Any) -> None:
    """Whether the seal ran before or after the purge, the seal counts the row as written."""
    signups("early@example.org")
    purge(settings)
    seal()
    found = check()
    assert found.ok, found.broken
    assert found.redacted_rows == 2


def test_a_sealed_row_blanked_by_raw_sql_without_an_entry_is_tampering(settings: Any) -> None:
    kept, gone = signups("kept@example.org", "gone@example.org")
    seal()
    purge(settings)  # both expire; purge disclosed for both
    assert check().ok
    (other,) = signups("other@example.org")
    seal()
    blank_by_hand(history_ids(other)[0])

    found = check()
    assert found.broken is not None
    assert found.broken["problem"] == "a row it covers was altered (the hash differs)"
    code, _, err = verify_command()
    assert code == 1
    assert f"BROKEN {SIGNUPS}" in err
    assert kept.pk != gone.pk


def test_a_redacted_row_altered_after_its_redaction_is_tampering(settings: Any) -> None:
    (gone,) = signups("gone@example.org")
    seal()
    purge(settings)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subprocessors_historicalsignup SET email = 'back@example.org' "
            "WHERE history_id = %s",
            [history_ids(gone)[0]],
        )
    assert check().broken is not None


def test_an_entry_slipped_in_by_raw_sql_does_not_excuse_a_blanked_row(settings: Any) -> None:
    """An entry counts only if its own (sealed) history records it as written."""
    (other,) = signups("other@example.org")
    seal()
    row = history_ids(other)[0]
    before = HistoryRedaction(history_table=SIGNUPS, row_id=row)

    def row_hash() -> str:
        model = Signup.history.model  # type: ignore[attr-defined]
        names = columns(model)
        values = model.objects.filter(pk=row).values_list(*names).get()
        return sha256_hex(version_text(SIGNUPS, names, values))

    before.sealed_sha256 = row_hash()
    blank_by_hand(row)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO harmonyze_portal_historyredaction (history_table, row_id, "
            "sealed_sha256, redacted_sha256, redacted_at, job, reason) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [SIGNUPS, row, before.sealed_sha256, row_hash(), SENT, "someone", "PP 4"],
        )
    assert check().broken is not None


def test_the_sealed_export_of_a_purged_record_passes_the_standalone_checker(
    settings: Any,
    counsel: Any,
    signed_in: SignIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (gone,) = signups("gone@example.org")
    seal()
    purge(settings)
    seal()
    response = signed_in(counsel).get(
        "/admin/history/export/", {"model": "subprocessors.signup", "seals": "on"}
    )
    assert response.status_code == 200
    path = tmp_path / "history.csv"
    path.write_bytes(b"".join(response.streaming_content))
    text = path.read_text()
    assert "gone@example.org" not in text
    lines = list(csv.DictReader(io.StringIO(text)))
    assert {line["history id"] for line in lines} == {str(pk) for pk in history_ids(gone)}
    assert {line["redacted"] for line in lines} == {"PP 4"}

    assert verifier().verify(str(path), [], complete=True) == 0
    assert "2 versions redacted under PP 4; 0 problems" in capsys.readouterr().out

    # Hiding the redaction (clearing its cells) makes the seal fail: it is never silent.
    hidden = tmp_path / "hidden.csv"
    rows = [dict(line, **{"redacted": "", "sha256 as sealed": ""}) for line in lines]
    with hidden.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert verifier().verify(str(hidden), [], complete=True) == 1


def test_a_purged_privacy_request_verifies_with_its_files_and_text_blanked(settings: Any) -> None:
    with time_machine.travel(SENT, tick=False):
        dsr = make_submission(email="never@example.org")
    seal()
    purge(settings)
    assert not DataSubjectRequest.objects.filter(pk=dsr.pk).exists()
    found = check("requests.historicaldatasubjectrequest")
    assert found.ok, found.broken
    assert found.redacted_rows >= 1
    assert all(result.ok for result in verify_history())


def test_the_database_refuses_an_entry_that_changes_nothing_or_names_no_job() -> None:
    for job, blanked in (("task: purge", "a" * 64), ("", "b" * 64)):
        with (
            pytest.raises(IntegrityError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO harmonyze_portal_historyredaction (history_table, row_id, "
                "sealed_sha256, redacted_sha256, redacted_at, job, reason) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [SIGNUPS, 1, "a" * 64, blanked, SENT, job, "PP 4"],
            )


def test_an_entry_is_never_edited_or_deleted_and_no_role_may_write_one() -> None:
    with pytest.raises(ValidationError):
        HistoryRedaction(
            history_table=SIGNUPS, row_id=1, sealed_sha256="a" * 64, redacted_sha256="a" * 64
        ).save()
    entry = HistoryRedaction(
        history_table=SIGNUPS,
        row_id=1,
        sealed_sha256="a" * 64,
        redacted_sha256="b" * 64,
        job="task: purge",
        reason="PP 4",
    )
    entry.save()
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    for role in ROLES:
        assert grants(role, "harmonyze_portal", "view_historyredaction") is True
        for action in ("add", "change", "delete"):
            assert not grants(role, "harmonyze_portal", f"{action}_historyredaction")


@pytest.mark.parametrize("persona", ["counsel", "analyst", "viewer"])
def test_the_admin_shows_redactions_read_only(
    persona: str, request: pytest.FixtureRequest, signed_in: SignIn, settings: Any
) -> None:
    signups("gone@example.org")
    purge(settings)
    client = signed_in(request.getfixturevalue(persona))
    listing = client.get("/admin/harmonyze_portal/historyredaction/")
    assert listing.status_code == 200
    assert PURGE_ACTOR in listing.content.decode()
    assert client.get("/admin/harmonyze_portal/historyredaction/add/").status_code == 403
    entry = HistoryRedaction.objects.first()
    assert entry is not None
    deletion = client.post(f"/admin/harmonyze_portal/historyredaction/{entry.pk}/delete/")
    assert deletion.status_code == 403
    assert HistoryRedaction.objects.filter(pk=entry.pk).exists()


def test_an_outsider_cannot_see_redactions(outsider: Any, signed_in: SignIn) -> None:
    response = signed_in(outsider).get("/admin/harmonyze_portal/historyredaction/")
    assert response.status_code == 403
