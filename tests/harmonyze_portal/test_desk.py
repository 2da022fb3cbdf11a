"""The legal team's desk: every deadline in one list (DOMAIN.md T5)."""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import AuditStatus
from customers.models import AssistanceRequest, Customer
from customers.models.assistance import AssistanceStatus
from harmonyze_portal import desk
from harmonyze_portal.dates import add_days, subtract_months
from harmonyze_portal.desk import deadline_items
from harmonyze_portal.desk_exports import export_csv, export_rows
from harmonyze_portal.history import acting_as, bulk_create_with_history
from requests.models import DSRStatus
from subprocessors.models import (
    DeliveryStatus,
    Objection,
    ObjectionStatus,
    SubProcessorStatus,
)
from tests.audits.builders import make_audit_request, make_report
from tests.customers.builders import make_assistance, make_breach, make_customer, make_finding
from tests.downloads import body
from tests.requests.builders import make_demand, make_dsr
from tests.subprocessors.builders import (
    make_change,
    make_delivery,
    make_signup,
    make_subprocessor,
)

NEW_YORK = ZoneInfo("America/New_York")
# A Tuesday: every edge below (today − 5, today, today + 14, today + 15) is a weekday, so the
# statutory R3 deadlines do not move (T4).
TODAY = date(2026, 3, 10)
NOW = "2026-03-10 15:00:00Z"
OVERDUE = TODAY - timedelta(days=5)
LAST_DAY = TODAY + timedelta(days=14)  # DEADLINE_HORIZON_DAYS
BEYOND = TODAY + timedelta(days=15)

_serial = iter(range(1, 10_000))


def _terminated(acme: Customer, termination: date, **fields: Any) -> Customer:
    acme.termination_date = termination
    acme.terminated_by = "customer"
    for name, value in fields.items():
        setattr(acme, name, value)
    acme.save()
    return acme


def c3(acme: Customer, due: date, done: bool) -> None:
    termination = add_days(due, -90)
    _terminated(acme, termination, deletion_completed_on=termination if done else None)


def c4(acme: Customer, due: date, done: bool) -> None:
    termination = add_days(due, -30)
    _terminated(acme, termination, credential_purge_completed_on=termination if done else None)


def c5(acme: Customer, due: date, done: bool) -> None:
    aware = datetime.combine(due, time(12), tzinfo=NEW_YORK) - timedelta(hours=72)
    breach = make_breach(aware_at=aware, customers=(acme,), title=f"Breach {next(_serial)}")
    if done:
        notice = breach.notices.get()
        notice.notified_at = aware
        notice.save()


def c6(acme: Customer, due: date, done: bool) -> None:
    fields: dict[str, Any] = {"status": AssistanceStatus.DONE, "completed_on": due} if done else {}
    make_assistance(acme, received=add_days(due, -30), **fields)


def c7(acme: Customer, due: date, done: bool) -> None:
    make_finding(acme, learned=due, deletion_confirmed_on=due if done else None)


def s3(acme: Customer, due: date, done: bool) -> None:
    vendor = make_subprocessor(
        f"Vendor {next(_serial)}",
        status=SubProcessorStatus.ANNOUNCED,
        access_began_on=None,
    )
    notice_on = due - timedelta(days=15)
    make_change(  # nobody to notify: the Notice date is the day it was published (S3)
        vendor,
        published_at=datetime.combine(notice_on, time(10), tzinfo=NEW_YORK),
        notice_date=notice_on,
    )
    if done:
        vendor.status = SubProcessorStatus.ACTIVE
        vendor.access_began_on = due
        vendor.save()


def s4(acme: Customer, due: date, done: bool) -> None:
    vendor = make_subprocessor(f"Vendor {next(_serial)}")
    change = make_change(vendor, published_at=datetime(2026, 1, 1, tzinfo=NEW_YORK))
    signup = make_signup(f"dpo{next(_serial)}@acme.com")
    Objection(
        change=change,
        signup=signup,
        customer=acme,
        received_at=datetime(2026, 1, 3, tzinfo=NEW_YORK),
        deadline=due,
        in_time=True,
        reason="We object.",
        status=ObjectionStatus.RESOLVED if done else ObjectionStatus.OPEN,
    ).save()


def r3(acme: Customer, due: date, done: bool) -> None:
    make_dsr(
        received=subtract_months(due, 1),
        customer=acme,
        status=DSRStatus.CLOSED if done else DSRStatus.OPEN,
    )


def r4(acme: Customer, due: date, done: bool) -> None:
    make_demand(
        received_on=due,
        customers=(acme,),
        compelled=True,
        customer_notified_on=due if done else None,
    )


def a2(acme: Customer, due: date, done: bool) -> None:
    received = subtract_months(due, 1)
    make_audit_request(
        acme,
        received=received,
        start=received + timedelta(days=7),
        status=AuditStatus.WITHDRAWN if done else None,
    )


def a4(acme: Customer, due: date, done: bool) -> None:
    start = due + timedelta(days=14)
    make_audit_request(
        acme,
        received=subtract_months(start, 2),
        start=start,
        final_plan_agreed_on=due if done else None,
    )


SOURCES: dict[str, Callable[[Customer, date, bool], None]] = {
    "C3": c3,
    "C4": c4,
    "C5": c5,
    "C6": c6,
    "C7": c7,
    "S3": s3,
    "S4": s4,
    "R3": r3,
    "R4": r4,
    "A2": a2,
    "A4": a4,
}


def _dues(user: Any, **filters: Any) -> list[tuple[str, date, int]]:
    return [(i.rule, i.due, i.days_left) for i in deadline_items(user, TODAY, **filters).items]


@pytest.mark.parametrize("rule", sorted(SOURCES))
@pytest.mark.parametrize(
    ("due", "shown"),
    [(OVERDUE, True), (TODAY, True), (LAST_DAY, True), (BEYOND, False)],
    ids=["overdue", "due-today", "last-day-of-horizon", "beyond-horizon"],
)
def test_each_source_at_its_edges(
    counsel: Any, acme: Customer, rule: str, due: date, shown: bool
) -> None:
    """T5: overdue and due within the horizon are listed with the rule ID; later is not."""
    SOURCES[rule](acme, due, False)

    expected = [(rule, due, (due - TODAY).days)] if shown else []
    assert _dues(counsel, rule=rule) == expected


@pytest.mark.parametrize("rule", sorted(SOURCES))
def test_completed_items_are_not_listed(counsel: Any, acme: Customer, rule: str) -> None:
    SOURCES[rule](acme, OVERDUE, True)

    assert _dues(counsel, rule=rule) == []


def test_the_list_runs_soonest_first_across_areas(counsel: Any, acme: Customer) -> None:
    r4(acme, LAST_DAY, False)
    c6(acme, TODAY, False)
    s4(acme, OVERDUE, False)
    a4(acme, TODAY + timedelta(days=3), False)

    desk = deadline_items(counsel, TODAY)

    assert [(i.rule, i.days_left) for i in desk.items] == [
        ("S4", -5),
        ("C6", 0),
        ("A4", 3),
        ("R4", 14),
    ]
    assert desk.counts == {"customers": 1, "subprocessors": 1, "requests": 1, "audits": 1}
    assert desk.items[0].customer == "Acme Analytics GmbH"
    assert desk.items[-1].customer == "Acme Analytics GmbH"  # a demand's customers (R4)


def test_law_enforcement_items_only_for_counsel(
    counsel: Any, analyst: Any, viewer: Any, acme: Customer
) -> None:
    """R4 demands are counsel's: nobody else sees them on the desk, not even as a count."""
    r4(acme, TODAY, False)
    c6(acme, TODAY, False)

    assert [i.rule for i in deadline_items(counsel, TODAY).items] == ["C6", "R4"]
    for user in (analyst, viewer):
        desk = deadline_items(user, TODAY)
        assert [i.rule for i in desk.items] == ["C6"]
        assert desk.counts["requests"] == 0


def test_a_user_without_a_role_sees_nothing(outsider: Any, acme: Customer) -> None:
    c6(acme, TODAY, False)

    assert deadline_items(outsider, TODAY).items == []


def test_filters_by_area_customer_rule_and_date(
    counsel: Any, acme: Customer, globex: Customer
) -> None:
    c6(acme, OVERDUE, False)
    c6(globex, TODAY, False)
    r3(globex, LAST_DAY, False)
    s3(acme, TODAY, False)

    assert _dues(counsel, area="requests") == [("R3", LAST_DAY, 14)]
    assert _dues(counsel, customer=globex) == [("C6", TODAY, 0), ("R3", LAST_DAY, 14)]
    assert _dues(counsel, rule="S3") == [("S3", TODAY, 0)]
    assert _dues(counsel, start=TODAY, end=TODAY) == [("C6", TODAY, 0), ("S3", TODAY, 0)]
    # A later end reaches past the horizon.
    r3(acme, BEYOND, False)
    assert _dues(counsel, rule="R3", end=BEYOND) == [("R3", LAST_DAY, 14), ("R3", BEYOND, 15)]


def test_the_limit_keeps_the_soonest_and_the_counts_stay_whole(
    counsel: Any, acme: Customer
) -> None:
    for day in range(5):
        c6(acme, TODAY + timedelta(days=day), False)

    desk = deadline_items(counsel, TODAY, limit=2)

    assert [i.due for i in desk.items] == [TODAY, TODAY + timedelta(days=1)]
    assert desk.counts["customers"] == 5
    assert desk.truncated


def test_counts_are_exact_beyond_a_thousand(counsel: Any, acme: Customer) -> None:
    """The per-area counts are exact (no "1000+"): each is one COUNT over a partial index."""
    with acting_as("task: test setup"):
        bulk_create_with_history(
            [
                AssistanceRequest(
                    customer=acme, kind="dpia", received_on=TODAY, due_on=TODAY, summary=str(n)
                )
                for n in range(1001)
            ],
            AssistanceRequest,
        )
    r3(acme, TODAY, False)

    desk = deadline_items(counsel, TODAY, limit=5)

    assert desk.counts == {"customers": 1001, "subprocessors": 0, "requests": 1, "audits": 0}
    assert dict(desk.area_counts) == {
        "Customers": 1001,
        "Sub-processors": 0,
        "Requests": 1,
        "Audits": 0,
    }
    assert len(desk.items) == 5
    assert desk.truncated


def test_every_source_is_registered_by_its_area_and_names_an_open_queryset_method() -> None:
    """The core names no area: each area registers its sources from its own desk.py, and a
    source's open filter is its area's QuerySet method (written once, with a partial index on
    the due column matching it, so the count is exact and cheap)."""
    found = {(s.area, s.rule, s.model._meta.label, s.due_field, s.open) for s in desk.sources()}

    # A subset: a new deadline is added in its area alone, without editing this test.
    assert found >= {
        # C3 says "held" with the reason of an active hold (C9): the same open filter.
        ("customers", "C3", "customers.Customer", "deletion_due", "deletion_open_with_hold"),
        ("customers", "C4", "customers.Customer", "credential_purge_due", "purge_open"),
        ("customers", "C5", "customers.BreachNotice", "notice_due_at", "pending"),
        ("customers", "C6", "customers.AssistanceRequest", "due_on", "open"),
        ("customers", "C7", "customers.ProhibitedDataFinding", "learned_on", "open"),
        ("customers", "C8", "customers.InstructionNotice", "due_on", "unsent"),
        ("customers", "C9", "customers.LegalHold", "review_on", "review_open"),
        ("subprocessors", "S3", "subprocessors.Change", "earliest_access_on", "access_pending"),
        ("subprocessors", "S4", "subprocessors.Objection", "deadline", "awaiting_resolution"),
        (
            "requests",
            "R1",
            "requests.DataSubjectRequest",
            "customer_notice_due",
            "customer_notice_open",
        ),
        ("requests", "R3", "requests.DataSubjectRequest", "acknowledge_by", "acknowledgement_open"),
        ("requests", "R3", "requests.DataSubjectRequest", "respond_by", "response_open"),
        ("requests", "R3", "requests.DataSubjectRequest", "extended_to", "extended_response_open"),
        (
            "requests",
            "R4",
            "requests.LawEnforcementDemand",
            "customer_notice_due_on",
            "customer_notice_open",
        ),
        (
            "requests",
            "R4",
            "requests.LawEnforcementDemand",
            "order_review_due_on",
            "order_review_open",
        ),
        ("audits", "A2", "audits.AuditRequest", "earliest_compliant_start", "lead_time_missed"),
        ("audits", "A4", "audits.AuditRequest", "final_plan_due", "final_plan_open"),
    }
    for source in desk.sources():
        assert source.model.__module__.split(".")[0] == source.area
        partial = [
            index
            for index in source.model._meta.indexes
            if list(index.fields) == [source.due_field] and index.condition is not None
        ]
        assert partial, f"{source.rule}: no partial index on {source.due_field}"


def test_a_source_naming_no_queryset_method_is_refused_at_registration() -> None:
    source = desk.Source("X1", Customer, "deletion_due", "deletion_due_soonish", (), str)

    with pytest.raises(TypeError, match="no QuerySet method 'deletion_due_soonish'"):
        desk.register("customers_again", label="Again", sources=[source])


@pytest.mark.parametrize(
    "module", ["desk", "desk_exports", "calendar_feed", "digest", "sites", "apps", "settings"]
)
def test_the_desk_in_the_core_imports_no_area(module: str) -> None:
    """The core is the ground: the desk, its exports, the calendar, the digest and the admin
    site import none of customers, subprocessors, requests, audits (STYLE.md, layers)."""
    path = Path(desk.__file__).parent / f"{module}.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"customers", "subprocessors", "requests", "audits"}


@time_machine.travel(NOW, tick=False)
def test_index_shows_the_desk_per_role(
    signed_in: Any, counsel: Any, analyst: Any, acme: Customer
) -> None:
    make_demand(agency="Bureau of Examples", received_on=OVERDUE, customers=(acme,), compelled=True)
    c6(acme, TODAY, False)

    page = signed_in(counsel).get("/admin/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Bureau of Examples" in text
    assert "5 days overdue" in text
    assert "due today" in text
    assert "Customers" in text  # the app list is still there below the desk

    page = signed_in(analyst).get("/admin/")
    assert "Bureau of Examples" not in page.content.decode()
    assert [i.rule for i in page.context["desk"].items] == ["C6"]


@time_machine.travel(NOW, tick=False)
def test_index_shows_coverage_warnings(signed_in: Any, counsel: Any, acme: Customer) -> None:
    # A5: the latest Type 2 report's period ended a year ago: the window closes within 90 days.
    make_report(period_start=date(2025, 1, 1), period_end=date(2025, 4, 30))
    c5(acme, TODAY, False)
    vendor = make_subprocessor("Example Cloud")
    change = make_change(vendor, published_at=datetime(2026, 3, 1, tzinfo=NEW_YORK))
    delivery = make_delivery(change, make_signup("dpo@acme.com"))
    delivery.status = DeliveryStatus.FAILED
    delivery.save()

    page = signed_in(counsel).get("/admin/")

    rules = [w.rule for w in page.context["desk_warnings"]]
    assert rules == ["C5", "S3", "A5"]  # the areas in INSTALLED_APPS order
    text = page.content.decode()
    assert "the gate is held by 1 delivery that failed for good" in text
    assert "1 breach notice pending" in text


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "query", ["", "?area=customers", "?customer={globex}", "?rule=R3", "?due_after=2026-03-10"]
)
def test_csv_export_has_the_rows_of_the_page(
    signed_in: Any, counsel: Any, acme: Customer, globex: Customer, query: str
) -> None:
    """What you see is what you export: the same filter drives both."""
    c6(acme, OVERDUE, False)
    c6(globex, TODAY, False)
    r3(globex, LAST_DAY, False)
    r4(acme, TODAY, False)
    client = signed_in(counsel)
    query = query.format(globex=globex.pk)

    page = client.get(f"/admin/{query}")
    export = client.get(f"/admin/deadlines.csv{query}")

    assert export.status_code == 200
    assert export["Content-Disposition"].startswith('attachment; filename="deadlines-2026-03-10')
    rows = list(csv.reader(io.StringIO(body(export).decode())))
    shown = page.context["desk"]
    assert rows[1:] == [
        [str(cell) for cell in row] for row in export_rows(shown, "http://testserver")
    ]
    assert len(rows) - 1 == len(shown.items) > 0
    assert f"/admin/deadlines.csv{query}" in page.content.decode().replace("&amp;", "&")


@time_machine.travel(NOW, tick=False)
def test_xlsx_export_has_the_rows_of_the_page(signed_in: Any, counsel: Any, acme: Customer) -> None:
    c6(acme, OVERDUE, False)
    r3(acme, TODAY, False)
    client = signed_in(counsel)

    page = client.get("/admin/?area=customers")
    export = client.get("/admin/deadlines.xlsx?area=customers")

    sheet = openpyxl.load_workbook(io.BytesIO(body(export))).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(row[0].date(), row[1], row[2]) for row in rows] == [
        (i.due, i.days_left, i.rule) for i in page.context["desk"].items
    ]


def test_csv_cells_cannot_run_as_formulas(counsel: Any, db: None) -> None:
    customer = make_customer("=HYPERLINK(evil)", effective=date(2024, 1, 1))
    c6(customer, TODAY, False)

    text = export_csv(deadline_items(counsel, TODAY))

    assert "'=HYPERLINK(evil)" in text


@time_machine.travel(NOW, tick=False)
def test_an_invalid_filter_value_is_ignored_not_an_error(
    signed_in: Any, counsel: Any, acme: Customer
) -> None:
    c6(acme, TODAY, False)

    page = signed_in(counsel).get("/admin/?due_after=someday&rule=Z9")

    assert page.status_code == 200
    assert [i.rule for i in page.context["desk"].items] == ["C6"]


@time_machine.travel(NOW, tick=False)
def test_an_unknown_export_format_is_not_found(signed_in: Any, counsel: Any) -> None:
    assert signed_in(counsel).get("/admin/deadlines.pdf").status_code == 404


def _seed(customers: list[Customer], per_source: int) -> None:
    for n in range(per_source):
        due = TODAY + timedelta(days=n % 10 - 3)
        for customer in customers:
            for rule in ("C5", "C6", "C7", "S3", "S4", "R3", "R4", "A2", "A4"):
                SOURCES[rule](customer, due, False)
        c3(make_customer(f"Customer C3-{next(_serial)}"), due, False)
        c4(make_customer(f"Customer C4-{next(_serial)}"), due, False)


@time_machine.travel(NOW, tick=False)
def test_the_index_costs_the_same_queries_for_3_or_30_items_per_source(
    signed_in: Any, counsel: Any, acme: Customer, globex: Customer
) -> None:
    """Every source is one ORDER BY … LIMIT query and one COUNT, whatever the item count."""
    client = signed_in(counsel)
    make_report(period_end=date(2025, 12, 31))

    _seed([acme], 3)
    client.get("/admin/")  # warm the session and permission caches alike for both runs
    with CaptureQueriesContext(connection) as few:
        page = client.get("/admin/")
    assert page.context["desk"].total >= 3 * len(SOURCES)

    _seed([acme, globex], 15)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/admin/")
    assert page.context["desk"].total >= 30 * len(SOURCES)

    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_filter_form_has_readable_labels(signed_in: Any, counsel: Any) -> None:
    html = signed_in(counsel).get("/admin/").content.decode()
    assert "[invalid name]" not in html
    for label in ("Area", "Customer", "Rule"):
        assert f">{label}:</label>" in html
    assert "Due between" in html  # the date range renders as a labelled group


# The deadline line (T5): each item says how its date was computed.
HOW = {
    "C3": "terminated 10 Dec 2025 + 90 days = 10 Mar 2026",
    "C4": "terminated 8 Feb 2026 + 30 days = 10 Mar 2026",
    "C5": "aware 7 Mar 2026 12:00 EST + 72 hours = 10 Mar 2026 13:00 EDT",
    "S3": "Notice date 23 Feb 2026 + 15 days = 10 Mar 2026",
    "S4": "Notice delivered 3 Mar 2026 + 7 days = 10 Mar 2026",
    "R3": "received 10 Feb 2026 + 1 month = 10 Mar 2026",
    "A2": "plan received 10 Feb 2026 + 1 month = 10 Mar 2026",
    "A4": "proposed start 24 Mar 2026 − 14 days = 10 Mar 2026",
}


@pytest.mark.parametrize("rule", sorted(HOW))
def test_each_item_says_how_its_date_was_computed(rule: str, counsel: Any, acme: Customer) -> None:
    SOURCES[rule](acme, TODAY, False)
    items = [i for i in deadline_items(counsel, TODAY, rule=rule).items if i.due == TODAY]
    assert items, rule
    assert items[0].how.startswith(HOW[rule])


def test_the_page_and_the_export_show_the_deadline_line(
    signed_in: Any, counsel: Any, acme: Customer
) -> None:
    c3(acme, TODAY, False)
    client = signed_in(counsel)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/admin/").content.decode()
        exported = body(client.get("/admin/deadlines.csv")).decode()
    assert '<div class="desk-how help">terminated 10 Dec 2025 + 90 days = 10 Mar 2026</div>' in page
    header, *rows = list(csv.reader(io.StringIO(exported)))
    [row] = [row for row in rows if row[header.index("Rule")] == "C3"]
    assert row[header.index("How the date was computed")] == HOW["C3"]
