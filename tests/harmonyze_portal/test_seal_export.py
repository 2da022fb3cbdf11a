"""The history export with its seals, checked by the standalone verifier (DOMAIN.md H2, H3)."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from customers.models import Customer
from harmonyze_portal.history import acting_as
from harmonyze_portal.history_export import HEADER
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.seal_export import SEAL_HEADER
from harmonyze_portal.seals import seal_history
from tests.customers.builders import make_customer

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]
EXPORT = "/admin/history/export/"
VERIFIER = Path(__file__).resolve().parents[2] / "docs" / "verify_history_export.py"


def verifier() -> Any:
    spec = importlib.util.spec_from_file_location("verify_history_export", VERIFIER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sealed_export(client: Client, tmp_path: Path, model: str, **params: str) -> Path:
    response = client.get(EXPORT, {"model": model, "seals": "on", **params})
    assert response.status_code == 200
    path = tmp_path / "history.csv"
    path.write_bytes(b"".join(response.streaming_content))
    return path


def lines(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def holidays(count: int) -> list[PublicHoliday]:
    made = []
    for day in range(1, count + 1):
        holiday = PublicHoliday.objects.create(date=date(2026, 3, day), name=f"Closure {day}")
        holiday.name = f"=Closure {day} (moved)"  # a formula trigger, neutralised in the file
        holiday._change_reason = "+ moved"  # type: ignore[attr-defined]
        holiday.save()
        made.append(holiday)
    return made


def test_the_sealed_export_verifies_without_the_portal(
    counsel: Any, signed_in: SignIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule H3: the file alone recomputes every seal; the expected head is found."""
    made = holidays(3)
    with acting_as("task: import"):
        made[0].save()  # a version that changes no field still gets its line
    seal = next(
        s
        for s in seal_history(settle=timedelta(0))
        if s.history_table == "harmonyze_portal.historicalpublicholiday"
    )
    path = sealed_export(signed_in(counsel), tmp_path, "harmonyze_portal.publicholiday")
    header = next(csv.reader(io.StringIO(path.read_text())))
    assert header == HEADER + SEAL_HEADER
    assert {line["history id"] for line in lines(path)} == {
        str(pk) for pk in PublicHoliday.history.values_list("history_id", flat=True)
    }
    assert verifier().verify(str(path), [seal.sha256], complete=True) == 0
    assert "1 seals recomputed, 0 only partly in this file" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("cell", "edited"),
    [
        ('""=Closure 2 (moved)""', '""=Closure 2 (kept)""'),  # the hashed version text
        ("'+ moved", "'+ kept"),  # a readable column the version text states too
    ],
)
def test_a_line_edited_in_the_file_is_caught(
    cell: str, edited: str, counsel: Any, signed_in: SignIn, tmp_path: Path
) -> None:
    holidays(2)
    seal_history(settle=timedelta(0))
    path = sealed_export(signed_in(counsel), tmp_path, "harmonyze_portal.publicholiday")
    text = path.read_text()
    assert cell in text
    path.write_text(text.replace(cell, edited, 1))
    assert verifier().verify(str(path), []) == 1


def test_a_row_altered_in_the_database_fails_the_next_export(
    counsel: Any, signed_in: SignIn, tmp_path: Path
) -> None:
    made = holidays(2)
    seal_history(settle=timedelta(0))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE harmonyze_portal_historicalpublicholiday SET name = %s WHERE history_id = %s",
            ["Never a closure", made[1].history.first().history_id],  # type: ignore[attr-defined]
        )
    path = sealed_export(signed_in(counsel), tmp_path, "harmonyze_portal.publicholiday")
    assert verifier().verify(str(path), []) == 1


def test_a_row_deleted_from_the_database_fails_a_complete_export(
    counsel: Any, signed_in: SignIn, tmp_path: Path
) -> None:
    made = holidays(2)
    seal_history(settle=timedelta(0))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM harmonyze_portal_historicalpublicholiday WHERE history_id = %s",
            [made[0].history.last().history_id],  # type: ignore[attr-defined]
        )
    path = sealed_export(signed_in(counsel), tmp_path, "harmonyze_portal.publicholiday")
    assert verifier().verify(str(path), [], complete=True) == 1


def test_an_export_of_one_record_checks_its_lines_and_counts_partial_seals(
    counsel: Any, signed_in: SignIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = make_customer(legal_name="Acme Corp")
    make_customer(legal_name="Globex")
    seal_history(settle=timedelta(0))
    path = sealed_export(signed_in(counsel), tmp_path, "customers.customer", record=str(acme.pk))
    assert verifier().verify(str(path), []) == 0
    assert "0 seals recomputed, 1 only partly in this file" in capsys.readouterr().out
    assert Customer.history.count() == 2


def test_rows_not_sealed_yet_are_exported_without_a_seal(
    counsel: Any, signed_in: SignIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holidays(1)
    path = sealed_export(signed_in(counsel), tmp_path, "harmonyze_portal.publicholiday")
    assert {line["seal"] for line in lines(path)} == {""}
    assert verifier().verify(str(path), ["a" * 64]) == 1  # the expected head is missing
    assert "expected seal" in capsys.readouterr().out


def test_the_export_without_seals_keeps_its_columns(counsel: Any, signed_in: SignIn) -> None:
    holidays(1)
    response = signed_in(counsel).get(EXPORT, {"model": "harmonyze_portal.publicholiday"})
    first = b"".join(response.streaming_content).decode().splitlines()[0]
    assert next(csv.reader([first])) == HEADER
