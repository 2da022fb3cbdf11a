"""The compliance matrix: rule events by customer for a period (issue 17; C5, R4, R6)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from customers.models import Customer
from harmonyze_portal import compliance
from requests.models import DemandView
from tests.customers.builders import make_breach, make_customer, make_notice
from tests.requests.builders import make_demand

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]
MATRIX = "/admin/compliance/"
CSV = "/admin/compliance.csv"
RECORDS = "/admin/compliance/records/"
YEAR = {"start": "2026-01-01", "end": "2026-12-31"}
AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)
DUE = AWARE + timedelta(hours=72)  # 2026-02-03 15:00 UTC, 10:00 in New York (C5)


@pytest.fixture
def initech(db: None) -> Customer:
    return make_customer("Initech LLC")


@pytest.fixture
def notices(acme: Customer, globex: Customer, initech: Customer) -> None:
    """C5: acme told at the last allowed moment, globex a minute after it, initech not yet."""
    breach = make_breach(aware_at=AWARE)
    make_notice(breach, acme, notified_at=DUE)
    make_notice(breach, globex, notified_at=DUE + timedelta(minutes=1))
    make_notice(breach, initech)


def row(matrix: compliance.Matrix, key: str) -> compliance.Row:
    return next(line for line in matrix.rows if line.source.key == key)


def cell(matrix: compliance.Matrix, key: str, customer: Customer) -> tuple[int, int, int, int]:
    found = row(matrix, key).cells[customer.pk]
    return found.events, found.on_time, found.late, found.open


def test_breach_notices_are_counted_on_time_late_and_open_at_the_edges(
    counsel: Any, notices: None, acme: Customer, globex: Customer, initech: Customer
) -> None:
    """C5: notified at the target is on time, a minute after is late; not yet notified is open
    until the target passes, then late."""
    with time_machine.travel(DUE - timedelta(seconds=1), tick=False):
        before = compliance.build(counsel, date(2026, 1, 1), date(2026, 12, 31), date(2026, 2, 3))
    assert cell(before, "c5-breach-notices", acme) == (1, 1, 0, 0)
    assert cell(before, "c5-breach-notices", globex) == (1, 0, 1, 0)
    assert cell(before, "c5-breach-notices", initech) == (1, 0, 0, 1)
    with time_machine.travel(DUE + timedelta(seconds=1), tick=False):
        after = compliance.build(counsel, date(2026, 1, 1), date(2026, 12, 31), date(2026, 2, 3))
    assert cell(after, "c5-breach-notices", initech) == (1, 0, 1, 0)
    assert row(after, "c5-breach-notices").total.late == 2


def test_the_period_holds_events_of_its_legal_days_only(counsel: Any, notices: None) -> None:
    """T1: the notices fall due on 3 February in New York; a period ending the day before
    holds none of them, one ending that day holds all three."""
    feb_2 = compliance.build(counsel, date(2026, 1, 1), date(2026, 2, 2), date(2026, 2, 1))
    feb_3 = compliance.build(counsel, date(2026, 2, 3), date(2026, 2, 3), date(2026, 2, 1))
    assert row(feb_2, "c5-breach-notices").cells == {}
    assert row(feb_3, "c5-breach-notices").total.events == 3


def test_a_rule_without_records_in_the_period_says_so(
    counsel: Any, signed_in: SignIn, notices: None, globex: Customer
) -> None:
    client = signed_in(counsel)
    page = client.get(MATRIX, YEAR)
    assert page.status_code == 200
    text = page.content.decode()
    assert "S4 (DPA 5.1)" in text
    assert "No records in this period" in text
    lines = list(csv.reader(io.StringIO(client.get(CSV, YEAR).content.decode())))
    assert lines[0] == [
        "rule",
        "clause",
        "events",
        "customer",
        "records",
        "on time",
        "late",
        "open",
        "period start",
        "period end",
    ]
    s4 = [line for line in lines if line[0] == "S4"]
    assert s4[0][3:8] == ["no records in this period", "0", "0", "0", "0"]
    c5 = {line[3]: line[4:8] for line in lines if line[0] == "C5"}
    assert c5[str(globex)] == ["1", "0", "1", "0"]


def test_each_cell_links_to_its_records(
    counsel: Any, signed_in: SignIn, notices: None, globex: Customer
) -> None:
    client = signed_in(counsel)
    response = client.get(
        RECORDS, {**YEAR, "events": "c5-breach-notices", "customer": globex.pk, "outcome": "late"}
    )
    assert response.status_code == 200
    notice = globex.breach_notices.get()  # type: ignore[attr-defined]
    assert f"/admin/customers/breachnotice/{notice.pk}/change/" in response.content.decode()
    on_time = client.get(
        RECORDS,
        {**YEAR, "events": "c5-breach-notices", "customer": globex.pk, "outcome": "on_time"},
    )
    assert "No records." in on_time.content.decode()


def test_law_enforcement_rows_are_counsels_alone(
    counsel: Any, analyst: Any, viewer: Any, signed_in: SignIn, acme: Customer
) -> None:
    """R4 rows (R6): only counsel sees them; counsel's look at the records is logged."""
    demand = make_demand(customers=(acme,), received_on=date(2026, 3, 2), compelled=True)
    for person in (analyst, viewer):
        assert "r4-customer-notice" not in {s.key for s in compliance.visible_sources(person)}
        client = signed_in(person)
        page = client.get(MATRIX, YEAR).content.decode()
        assert "R4 (" not in page
        assert "R4" not in client.get(CSV, YEAR).content.decode()
        records = {**YEAR, "events": "r4-customer-notice", "customer": acme.pk, "outcome": "all"}
        assert client.get(RECORDS, records).status_code == 403
    counsel_page = signed_in(counsel).get(MATRIX, YEAR).content.decode()
    assert "R4 (PP 5; SCC Clause 15.1)" in counsel_page
    views = DemandView.objects.count()
    response = signed_in(counsel).get(
        RECORDS, {**YEAR, "events": "r4-customer-notice", "customer": acme.pk, "outcome": "all"}
    )
    assert f"/admin/requests/lawenforcementdemand/{demand.pk}/change/" in response.content.decode()
    assert DemandView.objects.count() == views + 1


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (MATRIX, {"start": "yesterday"}, 400),
        (MATRIX, {"start": "2026-12-31", "end": "2026-01-01"}, 400),
        (CSV, {"end": "2026-13-01"}, 400),
        (RECORDS, {"events": "no-such-rule"}, 404),
        (RECORDS, {"events": "c5-breach-notices", "outcome": "sideways"}, 400),
        (RECORDS, {"events": "c5-breach-notices", "customer": "acme"}, 400),
        (RECORDS, {"events": "c5-breach-notices", "start": "\x00"}, 400),
        (RECORDS, {"events": "c5-breach-notices", "customer": "9" * 40}, 400),
        (MATRIX, {"end": "9999-12-31"}, 400),
        (MATRIX, {"start": "0001-01-01", "end": "9999-12-30"}, 200),
    ],
)
def test_bad_input_is_a_clear_400_or_404(
    path: str, params: dict[str, str], status: int, counsel: Any, signed_in: SignIn
) -> None:
    assert signed_in(counsel).get(path, params).status_code == status


def test_people_without_staff_access_get_no_matrix(
    outsider: Any, signed_in: SignIn, client: Client
) -> None:
    assert client.get(MATRIX).status_code == 302  # to the sign-in page
    assert signed_in(outsider).get(MATRIX).status_code in (302, 403)
    assert client.get(CSV).status_code == 302


def test_every_area_registers_rule_events() -> None:
    """The core names no area: the areas' own compliance.py modules fill the registry."""
    assert {source.area for source in compliance.sources()} == {
        "customers",
        "subprocessors",
        "requests",
        "audits",
    }
    restricted = {source.rule for source in compliance.sources() if source.restricted}
    assert restricted == {"R4"}
