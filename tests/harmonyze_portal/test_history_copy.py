"""Each history row keeps its record's name, and PostgreSQL's COPY writes the same export as
Python does (DOMAIN.md H2)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from customers.models import DPA, Customer
from harmonyze_portal.history import bulk_create_with_history, record_history
from harmonyze_portal.history_copy import copy_supported
from harmonyze_portal.history_export import HEADER, has_portal_history, stream_csv
from harmonyze_portal.models import PublicHoliday
from tests.customers.builders import make_customer, make_dpa

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the database writer is PostgreSQL's COPY; SQLite exports through Python",
)


def parsed(chunks: Any) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert rows[0] == HEADER
    return rows[1:]


def tracked_portal_models() -> list[Any]:
    return [model for model in apps.get_models() if has_portal_history(model)]


def test_every_version_keeps_the_name_its_record_had() -> None:
    holiday = PublicHoliday(date=date(2026, 12, 25), name="Christmas")
    holiday.save()
    holiday.name = "Christmas Day"
    holiday.save()
    holiday.delete()

    names = list(
        PublicHoliday.history.order_by("history_date").values_list("history_record", flat=True)
    )

    assert names == ["2026-12-25 Christmas", "2026-12-25 Christmas Day", "2026-12-25 Christmas Day"]


def test_bulk_writes_name_each_record() -> None:
    holidays = [
        PublicHoliday(date=date(2026, 1, 1), name="New Year's Day"),
        PublicHoliday(date=date(2026, 7, 4), name="Independence Day"),
    ]
    bulk_create_with_history(holidays, PublicHoliday)
    saved = list(PublicHoliday.objects.order_by("date"))
    for holiday in saved:
        holiday.name = holiday.name.upper()
        holiday.save(update_fields=["name"])  # a second, ordinary version
    record_history(saved, PublicHoliday, reason="Checked")

    names = list(
        PublicHoliday.history.order_by("history_id").values_list("history_record", flat=True)
    )

    assert names == [
        "2026-01-01 New Year's Day",
        "2026-07-04 Independence Day",
        "2026-01-01 NEW YEAR'S DAY",
        "2026-07-04 INDEPENDENCE DAY",
        "2026-01-01 NEW YEAR'S DAY",
        "2026-07-04 INDEPENDENCE DAY",
    ]


def test_rows_written_before_names_were_kept_are_named_by_the_command() -> None:
    acme = make_customer("Acme Corp")
    make_dpa(acme, version="2026-01")
    acme.legal_name = "Acme Corporation"
    acme.save()
    for model in [Customer.history.model, DPA.history.model]:
        for row in model.objects.all():  # as rows from before the column existed
            row.history_record = ""
            row.save()
    out = StringIO()

    call_command("name_history_records", "--batch-size", "1", stdout=out)
    again = StringIO()
    call_command("name_history_records", stdout=again)

    names = Customer.history.order_by("history_id").values_list("history_record", flat=True)
    assert list(names) == ["Acme Corp", "Acme Corporation"]  # each as that version was named
    assert list(DPA.history.values_list("history_record", flat=True)) == [
        "Acme Corporation – DPA 2026-01"  # a related record is named as it is now
    ]
    assert "customers.HistoricalCustomer: 2 history rows named" in out.getvalue()
    assert "0 history rows named in all." in again.getvalue()


def test_a_failing_str_does_not_fail_the_save(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any) -> str:
        raise KeyError("missing")

    monkeypatch.setattr(PublicHoliday, "__str__", broken)
    holiday = PublicHoliday(date=date(2026, 12, 25), name="Christmas")

    holiday.save()

    assert holiday.history.get().history_record == f"Public holiday #{holiday.pk}"


def test_every_foreign_key_of_a_tracked_model_names_a_tracked_model() -> None:
    # Names behind foreign keys come from the related model's history (both exports and the
    # admin's History page): a key to an untracked model would have none.
    untracked = [
        f"{model._meta.label}.{field.name}"
        for model in tracked_portal_models()
        for field in model.history.model.tracked_fields
        if (field.many_to_one or field.one_to_one)
        and not hasattr(field.related_model._meta, "simple_history_manager_attribute")
    ]
    assert untracked == []


@pytest.fixture
def varied_history(settings: Any) -> None:
    """The demo's records plus the awkward cases: a deleted customer behind a foreign key,
    formulas, line breaks, microseconds, empty and NULL values, a record id filter."""
    settings.DEBUG = True
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), tick=True):
        call_command("seed_demo", stdout=StringIO())
        gone = make_customer("Initech")
        dpa = make_dpa(gone, version="=1+1")
        dpa.version = "v2\r\nsigned"
        dpa.save()
        dpa.delete()
        gone.delete()
        renamed = Customer.objects.order_by("pk").first()
        assert renamed is not None
        renamed.legal_name = '@Renamed, Inc. "quoted"'
        renamed.save()
        PublicHoliday(date=date(2026, 5, 1), name="-May Day\tholiday").save()
        PublicHoliday(date=date(2026, 5, 2), name="\tTabbed").save()
        PublicHoliday(date=date(2026, 5, 3), name="\rReturned").save()


@postgresql_only
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"start": date(2026, 3, 2), "end": date(2026, 3, 2)},
        {"start": date(2026, 3, 3)},
        {"end": date(2026, 3, 1)},
    ],
    ids=["all", "one day", "after", "before"],
)
def test_postgresql_writes_what_python_writes_for_every_model(
    varied_history: None, filters: dict[str, date]
) -> None:
    written = 0
    for model in tracked_portal_models():
        in_database = parsed(stream_csv([model], in_database=True, **filters))
        in_python = parsed(stream_csv([model], in_database=False, **filters))
        assert in_database == in_python, model._meta.label
        written += len(in_database)
    if not filters or ("start" in filters and "end" in filters):
        assert written > 200  # the comparison covered real history, not empty files


@postgresql_only
def test_postgresql_writes_one_record_and_the_awkward_values_like_python(
    varied_history: None,
) -> None:
    customer = Customer.objects.order_by("pk").first()
    assert customer is not None

    rows = parsed(stream_csv([Customer], in_database=True, record=customer.pk))

    assert rows == parsed(stream_csv([Customer], in_database=False, record=customer.pk))
    assert {row[3] for row in rows} == {str(customer.pk)}
    assert rows[-1][4] == '\'@Renamed, Inc. "quoted"'
    dpa_rows = parsed(stream_csv([DPA], in_database=True))
    deleted = [row for row in dpa_rows if row[5] == "deleted" and row[6] == "Customer"]
    assert deleted
    assert deleted[0][7] == "Initech (deleted)"
    assert any(row[8] == "v2\r\nsigned" for row in dpa_rows)
    assert any(row[8] == "'=1+1" for row in dpa_rows)


@postgresql_only
@pytest.mark.parametrize(
    ("instant", "written"),
    [
        (datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC), "2026-03-08T01:59:59-05:00"),
        (datetime(2026, 3, 8, 7, 0, 0, 500000, tzinfo=UTC), "2026-03-08T03:00:00-04:00"),
        (datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC), "2026-11-01T01:59:59-04:00"),
        (datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC), "2026-11-01T01:00:00-05:00"),
        # Local mean time, before New York took Eastern time in 1883: an offset with seconds.
        (datetime(1850, 1, 1, 12, 0, 0, tzinfo=UTC), "1850-01-01T07:03:58-04:56:02"),
    ],
    ids=["last EST second", "first EDT second", "last EDT second", "first EST second", "LMT"],
)
def test_postgresql_writes_each_time_as_python_does(instant: datetime, written: str) -> None:
    # Rule T1: the legal zone's wall clock and its offset at that instant, to the second.
    with time_machine.travel(instant, tick=False):
        PublicHoliday(date=date(2026, 12, 25), name="Christmas").save()

    rows = parsed(stream_csv([PublicHoliday], in_database=True))

    assert rows == parsed(stream_csv([PublicHoliday], in_database=False))
    assert {row[0] for row in rows} == {written}


@postgresql_only
def test_an_export_abandoned_half_way_leaves_the_connection_usable() -> None:
    holidays = [
        PublicHoliday(date=date(2026, 1, 1) + timedelta(days=n), name=f"Holiday {n} " + "x" * 100)
        for n in range(2000)
    ]
    bulk_create_with_history(holidays, PublicHoliday)
    chunks = stream_csv([PublicHoliday], in_database=True)
    next(chunks)  # the header
    assert len(next(chunks)) >= 64 * 1024  # one chunk of the COPY, more to come

    chunks.close()

    assert PublicHoliday.objects.count() == 2000


def test_every_portal_model_exports_through_the_database_on_postgresql() -> None:
    # A field type without an SQL rendering sends its model to the slower Python writer.
    assert [m._meta.label for m in tracked_portal_models() if not copy_supported(m)] == []


@postgresql_only
def test_the_export_leaves_the_callers_settings_as_they_were() -> None:
    with time_machine.travel(datetime(2026, 12, 24, 17, 0, tzinfo=UTC), tick=False):
        PublicHoliday(date=date(2026, 12, 25), name="Christmas").save()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")
        cursor.execute("SET LOCAL DateStyle = 'SQL, DMY'")
        cursor.execute("SET LOCAL TimeZone = 'Asia/Kolkata'")

        data = b"".join(stream_csv([PublicHoliday], in_database=True))

        cursor.execute(
            "SELECT current_setting('jit'), current_setting('DateStyle'),"
            " current_setting('TimeZone')"
        )
        assert cursor.fetchone() == ("on", "SQL, DMY", "Asia/Kolkata")
        cursor.execute("SET LOCAL TimeZone = 'UTC'")  # what Django reads timestamps in
    assert b"\r\n" not in data  # one line ending in the whole file, header included
    assert b",Date,,2026-12-25," in data  # and the dates were ISO all the same
    assert data.count(b"\n2026-12-24T12:00:00-05:00,") == 2  # and the times the legal zone's
