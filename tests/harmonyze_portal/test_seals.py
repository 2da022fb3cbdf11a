"""The tamper-evident history (DOMAIN.md H3): seals, their chain, and what breaks them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from harmonyze_portal import seals
from harmonyze_portal.models import GENESIS, HistorySeal, PublicHoliday
from harmonyze_portal.roles import ROLES, grants
from harmonyze_portal.seals import history_tables, seal_history, seal_table, verify_history

pytestmark = pytest.mark.django_db
NOW = timedelta(0)  # settle nothing: every row written so far may be sealed
HOLIDAYS = "harmonyze_portal.historicalpublicholiday"


def holidays(count: int, start: int = 1) -> list[PublicHoliday]:
    return [
        PublicHoliday.objects.create(date=date(2026, 1, day), name=f"Closure {day}")
        for day in range(start, start + count)
    ]


def history_of(label: str) -> Any:
    return apps.get_model(label)


def raw(sql: str, *params: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def broken(label: str = HOLIDAYS) -> dict[str, Any] | None:
    return next(check.broken for check in verify_history() if check.table == label)


def test_every_history_table_is_sealed_but_the_seals_own() -> None:
    sealed = {model._meta.label_lower for model in history_tables()}
    historical = {
        model._meta.label_lower
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    }
    assert sealed == historical - {"harmonyze_portal.historicalhistoryseal"}
    assert "harmonyze_portal.historicaluser_groups" in sealed  # many-to-many history too
    assert "requests.historicallawenforcementdemand" in sealed


def test_a_run_seals_each_table_once_chained_to_nothing_before_it() -> None:
    holidays(3)
    written = seal_history(settle=NOW)
    seal = next(seal for seal in written if seal.history_table == HOLIDAYS)
    assert (seal.number, seal.row_count, seal.previous_sha256) == (1, 3, GENESIS)
    assert all(check.ok for check in verify_history())


def test_a_second_run_finds_nothing_new_to_seal() -> None:
    holidays(2)
    seal_history(settle=NOW)
    assert seal_history(settle=NOW) == []


def test_a_row_written_after_sealing_is_sealed_by_the_next_run_chained_to_the_first() -> None:
    holidays(2)
    first = next(s for s in seal_history(settle=NOW) if s.history_table == HOLIDAYS)
    PublicHoliday.objects.create(date=date(2026, 2, 1), name="Late closure")
    second = seal_history(settle=NOW)
    assert [(seal.history_table, seal.number, seal.row_count) for seal in second] == [
        (HOLIDAYS, 2, 1)
    ]
    assert second[0].previous_sha256 == first.sha256
    assert broken() is None


def test_rows_younger_than_the_settling_time_wait_for_a_later_run() -> None:
    holidays(2)
    assert [
        s for s in seal_history(settle=timedelta(minutes=10)) if s.history_table == HOLIDAYS
    ] == []
    later = timezone.now() + timedelta(minutes=11)
    written = seal_history(now=later, settle=timedelta(minutes=10))
    assert [s.row_count for s in written if s.history_table == HOLIDAYS] == [2]


def test_a_row_is_sealed_once_it_is_older_than_the_settling_time_not_at_it() -> None:
    """The edges: written exactly ``settle`` ago, it waits; a microsecond older, it is sealed."""
    (holiday,) = holidays(1)
    written = holiday.history.get().history_date  # type: ignore[attr-defined]
    settle = timedelta(minutes=10)
    at_edge = seal_history(now=written + settle, settle=settle)
    assert [s for s in at_edge if s.history_table == HOLIDAYS] == []
    past_edge = seal_history(now=written + settle + timedelta(microseconds=1), settle=settle)
    assert [s.row_count for s in past_edge if s.history_table == HOLIDAYS] == [1]


def test_a_history_row_altered_with_raw_sql_breaks_its_seal() -> None:
    """Rule H3: an UPDATE that bypasses the portal is detected."""
    rows = holidays(3)
    seal_history(settle=NOW)
    row = rows[1].history.get()  # type: ignore[attr-defined]
    raw(
        "UPDATE harmonyze_portal_historicalpublicholiday SET name = %s WHERE history_id = %s",
        "Not a closure",
        row.history_id,
    )
    found = broken()
    assert found is not None
    assert found["number"] == 1
    assert found["problem"] == "a row it covers was altered (the hash differs)"
    assert found["after_id"] < row.history_id <= found["last_id"]


def test_a_history_row_deleted_with_raw_sql_breaks_its_seal() -> None:
    """Rule H3: a DELETE that bypasses the portal is detected."""
    rows = holidays(3)
    seal_history(settle=NOW)
    raw(
        "DELETE FROM harmonyze_portal_historicalpublicholiday WHERE history_id = %s",
        rows[0].history.get().history_id,  # type: ignore[attr-defined]
    )
    found = broken()
    assert found is not None
    assert (found["sealed_rows"], found["found_rows"]) == (3, 2)


def test_only_the_first_broken_seal_is_reported_and_later_ones_are_not_blamed() -> None:
    rows = holidays(2)
    seal_history(settle=NOW)
    holidays(2, start=10)
    seal_history(settle=NOW)
    raw(
        "UPDATE harmonyze_portal_historicalpublicholiday SET history_actor = %s "
        "WHERE history_id = %s",
        "someone else",
        rows[0].history.get().history_id,  # type: ignore[attr-defined]
    )
    found = broken()
    assert found is not None
    assert found["number"] == 1


def test_a_seal_removed_from_the_middle_of_the_chain_is_detected() -> None:
    for start in (1, 10, 20):
        holidays(1, start=start)
        seal_history(settle=NOW)
    raw(
        "DELETE FROM harmonyze_portal_historyseal WHERE history_table = %s AND number = 2", HOLIDAYS
    )
    found = broken()
    assert found is not None
    assert found["problem"] == "seal 2 is missing: the chain jumps to seal 3"


def test_a_seal_rewritten_in_the_database_is_detected() -> None:
    holidays(1)
    seal_history(settle=NOW)
    raw(
        "UPDATE harmonyze_portal_historyseal SET sha256 = %s WHERE history_table = %s",
        "f" * 64,
        HOLIDAYS,
    )
    found = broken()
    assert found is not None
    assert "altered" in found["problem"]


def test_a_row_slipped_in_below_a_seal_is_detected() -> None:
    """A row inserted later with an id inside a sealed range is not one the seal covered."""
    rows = holidays(3)
    model = history_of(HOLIDAYS)
    middle = model.objects.get(history_id=rows[1].history.get().history_id)  # type: ignore[attr-defined]
    raw(
        "DELETE FROM harmonyze_portal_historicalpublicholiday WHERE history_id = %s",
        middle.history_id,
    )
    seal_history(settle=NOW)  # seals two rows around the gap
    middle.save(force_insert=True)  # the same row, put back after sealing
    found = broken()
    assert found is not None
    assert (found["sealed_rows"], found["found_rows"]) == (2, 3)


def test_two_runs_at_once_write_each_link_once() -> None:
    """A run that computed seal 1 while another one wrote it is refused, not forked."""
    holidays(2)
    model = history_of(HOLIDAYS)
    cutoff = timezone.now()
    real = seals.digest
    raced: list[HistorySeal | None] = []

    def digest_while_another_run_seals(*args: Any, **kwargs: Any) -> seals.Digest:
        if not raced:
            raced.append(None)
            raced.append(seal_table(model, cutoff=cutoff))  # the other run, first to commit
        return real(*args, **kwargs)

    seals.digest = digest_while_another_run_seals  # type: ignore[assignment]
    try:
        assert seal_table(model, cutoff=cutoff) is None
    finally:
        seals.digest = real  # type: ignore[assignment]
    assert raced[1] is not None
    assert list(
        HistorySeal.objects.filter(history_table=HOLIDAYS).values_list("number", flat=True)
    ) == [1]
    assert broken() is None


def test_the_database_refuses_a_second_successor_of_one_seal() -> None:
    fields = {
        "history_table": HOLIDAYS,
        "first_id": 1,
        "last_id": 1,
        "row_count": 1,
        "sha256": "a" * 64,
    }
    HistorySeal.objects.create(number=1, previous_sha256=GENESIS, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        HistorySeal.objects.create(number=1, previous_sha256=GENESIS, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        HistorySeal.objects.create(number=2, previous_sha256=GENESIS, **fields)


def test_saving_a_record_costs_no_seal_work() -> None:
    """P6: nothing is hashed or sealed on the save path."""
    with CaptureQueriesContext(connection) as queries:
        holidays(1)
    assert not [query for query in queries if "historyseal" in query["sql"]]


def test_seals_are_written_as_the_sealing_task() -> None:
    holidays(1)
    seal = next(s for s in seal_history(settle=NOW) if s.history_table == HOLIDAYS)
    assert seal.history.get().history_actor == "task: seal history"  # type: ignore[attr-defined]


def test_the_commands_seal_then_verify_and_fail_on_a_broken_seal(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.HISTORY_SEAL_SETTLE_SECONDS = 0
    rows = holidays(2)
    call_command("seal_history")
    assert f"{HOLIDAYS}: seal 1 over 2 rows" in capsys.readouterr().out
    call_command("verify_history")
    assert "Every seal matches its rows." in capsys.readouterr().out
    raw(
        "DELETE FROM harmonyze_portal_historicalpublicholiday WHERE history_id = %s",
        rows[1].history.get().history_id,  # type: ignore[attr-defined]
    )
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_history")
    assert exit_code.value.code == 1
    err = capsys.readouterr().err
    assert f"BROKEN {HOLIDAYS}: seal 1 covering history ids" in err
    assert "(2 rows sealed, 1 found)" in err


@pytest.mark.parametrize("role", ROLES)
def test_no_role_may_write_a_seal_and_every_role_may_read_them(role: str) -> None:
    for action in ("add", "change", "delete"):
        assert not grants(role, "harmonyze_portal", f"{action}_historyseal")
    assert grants(role, "harmonyze_portal", "view_historyseal")


@pytest.mark.parametrize("person", ["counsel", "analyst", "viewer"])
def test_the_seals_admin_reads_but_refuses_every_write(
    person: str, request: pytest.FixtureRequest, signed_in: Callable[[Any], Client]
) -> None:
    holidays(1)
    seal = next(s for s in seal_history(settle=NOW) if s.history_table == HOLIDAYS)
    client = signed_in(request.getfixturevalue(person))
    assert client.get("/admin/harmonyze_portal/historyseal/").status_code == 200
    assert client.get("/admin/harmonyze_portal/historyseal/add/").status_code == 403
    change = f"/admin/harmonyze_portal/historyseal/{seal.pk}/change/"
    assert client.post(change, {"sha256": "0" * 64}).status_code == 403
    delete = f"/admin/harmonyze_portal/historyseal/{seal.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    seal.refresh_from_db()
    assert broken() is None


def test_an_outsider_cannot_open_the_seals(
    outsider: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(outsider).get("/admin/harmonyze_portal/historyseal/")
    assert response.status_code in (302, 403)


def test_many_to_many_history_is_sealed_too(counsel: Any) -> None:
    """A staff member's roles are history (H1): changing one behind the portal's back shows."""
    seal_history(settle=NOW)
    label = "harmonyze_portal.historicaluser_groups"
    assert broken(label) is None
    raw(
        "DELETE FROM harmonyze_portal_historicaluser_groups WHERE m2m_history_id = "
        "(SELECT MAX(m2m_history_id) FROM harmonyze_portal_historicaluser_groups)"
    )
    found = broken(label)
    assert found is not None
    assert found["found_rows"] == found["sealed_rows"] - 1


@pytest.mark.django_db(transaction=True)
def test_four_runs_at_once_leave_one_chain_per_table() -> None:
    """H3, concurrency: four threads, four connections, one chain each table. Needs a database
    with concurrent writers (test_two_runs_at_once_write_each_link_once simulates it)."""
    import threading

    from django.db import connections

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers, so no race happens")
    holidays(5)
    barrier = threading.Barrier(4)
    written: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            written.extend(seal.pk for seal in seal_history(settle=NOW))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert HistorySeal.objects.filter(history_table=HOLIDAYS).count() == 1
    assert len(written) == HistorySeal.objects.count()
    assert all(check.ok for check in verify_history())
