"""The history export an auditor takes away: one CSV row per changed field (DOMAIN.md H1, H2)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.models import DPA
from harmonyze_portal.history import PUBLIC_FORM, acting_as
from harmonyze_portal.history_export import HEADER, stream_csv
from harmonyze_portal.models import CalendarFeed, PublicHoliday
from tests.customers.builders import make_customer, make_dpa
from tests.requests.builders import make_demand

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]
EXPORT = "/admin/history/export/"
HOLIDAYS = "harmonyze_portal.publicholiday"


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == HEADER
    return rows[1:]


def export(client: Client, **params: str) -> list[list[str]]:
    return read_csv(client.get(EXPORT, params))


def test_create_edit_two_fields_delete_gives_exact_rows(counsel: Any, signed_in: SignIn) -> None:
    with acting_as("task: load holidays"), time_machine.travel("2026-03-02 14:05:00Z"):
        holiday = PublicHoliday(date=date(2026, 12, 25), name="Christmas")
        holiday.save()
    pk = holiday.pk
    with (
        time_machine.travel("2026-03-03 09:00:00Z"),
        acting_as("task: load holidays", reason="Observed on the Friday"),
    ):
        holiday.date, holiday.name = date(2026, 12, 26), "Christmas (observed)"
        holiday.save()
    with acting_as(PUBLIC_FORM, reason="Withdrawn"), time_machine.travel("2026-03-04 10:00:00Z"):
        holiday.delete()

    rows = export(signed_in(counsel), model=HOLIDAYS)

    # ISO 8601 in the legal time zone with its offset, to the second (issue 15).
    created = "2026-03-02T09:05:00-05:00"
    changed = "2026-03-03T04:00:00-05:00"
    deleted = "2026-03-04T05:00:00-05:00"
    task = "task: load holidays"
    first, second = "2026-12-25 Christmas", "2026-12-26 Christmas (observed)"
    reason = "Observed on the Friday"
    assert rows == [
        [created, task, HOLIDAYS, str(pk), first, "created", "Date", "", "2026-12-25", ""],
        [created, task, HOLIDAYS, str(pk), first, "created", "Name", "", "Christmas", ""],
        [changed, task, HOLIDAYS, str(pk), second, "changed", "Date", "2026-12-25", "2026-12-26",
         reason],
        [changed, task, HOLIDAYS, str(pk), second, "changed", "Name", "Christmas",
         "Christmas (observed)", reason],
        [deleted, "public form", HOLIDAYS, str(pk), second, "deleted", "Date", "2026-12-26", "",
         "Withdrawn"],
        [deleted, "public form", HOLIDAYS, str(pk), second, "deleted", "Name",
         "Christmas (observed)", "", "Withdrawn"],
    ]  # fmt: skip


def test_actors_of_a_staff_change_a_public_form_and_a_task(counsel: Any, signed_in: SignIn) -> None:
    client = signed_in(counsel)
    response = client.post(
        "/admin/harmonyze_portal/publicholiday/add/",
        {"date": "2026-07-04", "name": "Independence Day", "change_reason": "Federal holiday"},
    )
    assert response.status_code == 302, response.content
    holiday = PublicHoliday.objects.get(date=date(2026, 7, 4))
    with acting_as(PUBLIC_FORM):
        holiday.name = "Fourth of July"
        holiday.save()
    with acting_as("task: sync holidays"):
        holiday.name = "Independence Day"
        holiday.save()

    rows = export(client, model=HOLIDAYS)

    assert [(row[1], row[6], row[9]) for row in rows] == [
        ("staff: counsel", "Date", "Federal holiday"),
        ("staff: counsel", "Name", "Federal holiday"),
        ("public form", "Name", ""),
        ("task: sync holidays", "Name", ""),
    ]


def test_the_date_range_keeps_the_diff_against_earlier_rows(
    counsel: Any, signed_in: SignIn
) -> None:
    # Midnight in New York (EST, UTC-5) is 05:00 UTC: the legal day, not the UTC day, bounds
    # the range, as every other date the portal shows (T1, issue 15).
    holiday = PublicHoliday(date=date(2026, 12, 25), name="A")
    with time_machine.travel("2026-01-01 04:59:00Z"):
        holiday.save()
    for day, name in [("2026-01-01 05:00:00Z", "B"), ("2027-01-01 04:59:00Z", "C")]:
        with time_machine.travel(day):
            holiday.name = name
            holiday.save()
    with time_machine.travel("2027-01-01 05:00:00Z"):
        holiday.name = "D"
        holiday.save()

    rows = export(signed_in(counsel), model=HOLIDAYS, start="2026-01-01", end="2026-12-31")

    # Legal days, like the timestamp column; the first row in range is diffed against the last
    # row before it.
    assert [(row[0], row[7], row[8]) for row in rows] == [
        ("2026-01-01T00:00:00-05:00", "A", "B"),
        ("2026-12-31T23:59:00-05:00", "B", "C"),
    ]


def test_one_record_can_be_exported_alone(counsel: Any, signed_in: SignIn) -> None:
    first = PublicHoliday(date=date(2026, 12, 25), name="Christmas Day")
    first.save()
    PublicHoliday(date=date(2026, 1, 1), name="New Year's Day").save()

    rows = export(signed_in(counsel), model=HOLIDAYS, record=str(first.pk))

    assert {row[3] for row in rows} == {str(first.pk)}


def test_choices_foreign_keys_and_formulas_are_written_for_a_spreadsheet(
    counsel: Any, signed_in: SignIn
) -> None:
    acme = make_customer('=HYPERLINK("http://evil")')
    globex = make_customer("Globex Corporation")
    dpa = make_dpa(acme)
    dpa.customer = globex
    dpa.status = "superseded"
    dpa.save()

    rows = export(signed_in(counsel), model="customers.dpa")

    edits = [row for row in rows if row[5] == "changed"]
    assert [(row[6], row[7], row[8]) for row in edits] == [
        ("Customer", '\'=HYPERLINK("http://evil")', "Globex Corporation"),
        ("Status", "In force", "Superseded"),
    ]


def test_no_query_per_row(counsel: Any) -> None:
    def queries_for(edits: int) -> int:
        DPA.history.all().delete()
        for n in range(edits):
            dpa = make_dpa(make_customer(f"Acme {edits}-{n}"), version=f"v{n}")
            dpa.customer = make_customer(f"Globex {edits}-{n}")
            dpa.save()
        with CaptureQueriesContext(connection) as captured:
            lines = b"".join(stream_csv([DPA])).decode().splitlines()
        assert sum("Customer" in line for line in lines) == 2 * edits
        return len(captured)

    assert queries_for(5) == queries_for(30)


@pytest.mark.parametrize(
    ("person", "model", "status"),
    [
        ("counsel", "requests.lawenforcementdemand", 200),
        ("counsel", "requests.demandview", 200),
        ("counsel", "customers.customer", 200),
        ("viewer", "customers.customer", 200),
        ("analyst", "customers.customer", 200),
        ("analyst", "requests.lawenforcementdemand", 403),
        ("analyst", "requests.demandview", 403),
        ("viewer", "requests.lawenforcementdemand", 403),
        ("outsider", "customers.customer", 403),
    ],
)
def test_who_may_export_which_history(
    request: pytest.FixtureRequest, signed_in: SignIn, person: str, model: str, status: int
) -> None:
    make_demand()
    make_customer()
    client = signed_in(request.getfixturevalue(person))

    response = client.get(EXPORT, {"model": model})

    assert response.status_code == status
    if status == 200:
        assert len(read_csv(response)) > 0 or model == "requests.demandview"


def test_an_analyst_with_the_view_permission_still_needs_the_history_one(
    analyst: Any, signed_in: SignIn
) -> None:
    analyst.user_permissions.add(Permission.objects.get(codename="view_lawenforcementdemand"))

    response = signed_in(analyst).get(EXPORT, {"model": "requests.lawenforcementdemand"})

    assert response.status_code == 403


def test_without_a_query_the_export_is_a_form_of_what_the_user_may_export(
    analyst: Any, counsel: Any, signed_in: SignIn
) -> None:
    analysts = signed_in(analyst).get(EXPORT)
    counsels = signed_in(counsel).get(EXPORT)

    assert analysts.status_code == counsels.status_code == 200
    assert 'value="customers.customer"' in analysts.content.decode()
    assert 'value="requests.lawenforcementdemand"' not in analysts.content.decode()
    assert 'value="requests.lawenforcementdemand"' in counsels.content.decode()
    assert 'type="date"' in counsels.content.decode()


def test_staff_pages_link_the_export_and_the_calendar(counsel: Any, signed_in: SignIn) -> None:
    page = signed_in(counsel).get("/admin/").content.decode()

    assert f'href="{EXPORT}"' in page
    assert 'href="/staff/calendar/"' in page


def test_a_refused_model_is_refused_before_its_other_fields_are_checked(
    analyst: Any, signed_in: SignIn
) -> None:
    response = signed_in(analyst).get(
        EXPORT, {"model": "requests.lawenforcementdemand", "record": "abc", "start": "x"}
    )

    assert response.status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(EXPORT, {"model": "customers.customer"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-01-01"}, "Say which model"),
        ({"model": "customers.nothing"}, "Unknown model"),
        ({"model": "nonsense"}, "Unknown model"),
        ({"model": "auth.user"}, "no portal history"),
        ({"model": "harmonyze_portal.historicalpublicholiday"}, "no portal history"),
        ({"model": HOLIDAYS, "start": "2026-02-30"}, "start must be a date"),
        ({"model": HOLIDAYS, "end": "yesterday"}, "end must be a date"),
        ({"model": HOLIDAYS, "start": "2026-02-02", "end": "2026-02-01"}, "on or before"),
        ({"model": HOLIDAYS, "record": "abc"}, "record must be"),
        ({"model": HOLIDAYS, "end": "9999-12-31"}, "end must be a day before 9999-12-31"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    counsel: Any, signed_in: SignIn, params: dict[str, str], message: str
) -> None:
    response = signed_in(counsel).get(EXPORT, params)

    assert response.status_code == 400
    assert message in response.content.decode()


# --- Staff-only tables are counsel's (issue 13): calendar feeds hold token hashes.

STAFF_ONLY = [
    "harmonyze_portal.calendarfeed",
    "harmonyze_portal.staffpreference",
    "harmonyze_portal.digestsent",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "viewer"])
@pytest.mark.parametrize("label", STAFF_ONLY)
def test_staff_only_history_is_refused_to_analysts_and_viewers(
    request: pytest.FixtureRequest, role: str, label: str, counsel: Any, signed_in: SignIn
) -> None:
    CalendarFeed.issue(counsel)
    client = signed_in(request.getfixturevalue(role))

    response = client.get(EXPORT, {"model": label})
    form = client.get(EXPORT)

    assert response.status_code == 403
    assert label not in form.content.decode()


@pytest.mark.django_db
def test_counsel_exports_the_calendar_feed_history(counsel: Any, signed_in: SignIn) -> None:
    feed, _ = CalendarFeed.issue(counsel)

    rows = export(signed_in(counsel), model="harmonyze_portal.calendarfeed")

    assert feed.token_hash in {cell for row in rows for cell in row}
