"""The customer page: where we stand with one customer, in one click (T5; C2–C7, S4–S6,
R1–R6, A1–A5), built from the sections each area registers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from harmonyze_portal import customer_page
from requests.models import DemandView
from subprocessors.models import Objection, SignupStatus
from tests.audits.builders import make_audit_request
from tests.customers.builders import (
    make_assistance,
    make_breach,
    make_certificate,
    make_dpa,
    make_finding,
)
from tests.requests.builders import make_demand, make_dsr
from tests.subprocessors.builders import make_change, make_delivery, make_signup, make_subprocessor

NOW = "2026-03-10 15:00:00Z"
AGENCY = "FBI Seattle Field Office"


def page_url(customer: Customer) -> str:
    return f"/staff/customers/{customer.pk}/"


def get(client: Client, customer: Customer) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(page_url(customer))
    assert response.status_code == 200
    return response.content.decode()


def fill(acme: Customer, n: int = 1) -> None:
    """``n`` records of every kind the page shows, all about acme."""
    acme.termination_date = date(2026, 2, 1)
    acme.terminated_by = "customer"
    acme.save()
    vendor = make_subprocessor(f"Vendor {acme.pk}-{n}")
    change = make_change(vendor, published_at=datetime(2026, 1, 5, 15, tzinfo=UTC))
    for i in range(n):
        make_dpa(acme, version=f"2024-0{i + 1}", status="superseded" if i else "in_force")
        make_certificate(acme, requested=date(2026, 2, 10 + i))
        make_breach(customers=(acme,), title=f"Breach {i}")
        make_assistance(acme, received=date(2026, 2, 1 + i))
        make_finding(acme, learned=date(2026, 2, 1 + i))
        domain = acme.domains.get().domain
        signup = make_signup(f"dpo{i}@{domain}", status=SignupStatus.ACTIVE)
        make_delivery(change, signup, sent_at=datetime(2026, 1, 6, 15, tzinfo=UTC))
        Objection(
            change=change,
            customer=acme,
            received_at=datetime(2026, 1, 8, 15, tzinfo=UTC),
            received_on=date(2026, 1, 8),
            deadline=date(2026, 1, 13),
            in_time=True,
            reason="We object.",
        ).save()
        make_dsr(customer=acme, email=f"jane{i}@example.org", received=date(2026, 3, 2))
        make_demand(customers=(acme,), received_on=date(2026, 3, 2), compelled=True)
        make_audit_request(acme, received=date(2026, 1, 15 + i), start=date(2026, 4, 15 + i))


@pytest.fixture
def filled(acme: Customer) -> Customer:
    fill(acme)
    return acme


def test_counsel_sees_every_section_with_its_deadline_rule_and_link(
    counsel_client: Client, filled: Customer
) -> None:
    html = get(counsel_client, filled)
    for title in (
        "DPAs and transfer terms",
        "Termination, deletion and purge",
        "Certificates of deletion",
        "Breach notices",
        "Sub-processor Notices delivered to its addresses",
        "Objections to sub-processor changes",
        "Data subject requests redirected to it",
        "Law-enforcement demands",
        "Audit requests",
        "Assistance requests",
        "Prohibited data found",
        "Timeline",
    ):
        assert f">{title}" in html, title
    # C3 with its deadline line and the rule explained, linked to the record.
    assert "Delete by 2026-05-02" in html
    assert "terminated 1 Feb 2026 + 90 days = 2 May 2026" in html
    assert 'href="/staff/rules/#C3"' in html
    assert f'href="/admin/customers/customer/{filled.pk}/change/"' in html
    # S4 from the delivery; R1 house target; A4 final plan; EU SCCs from the DPA (C2).
    assert "Notice delivered 6 Jan 2026 + 7 days = 13 Jan 2026" in html
    assert "EU SCCs Module Two" in html
    assert "proposed start 15 Apr 2026 − 14 days = 1 Apr 2026" in html
    assert AGENCY in html


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_law_enforcement_stays_counsels_alone(
    role: str, everyone: dict[str, Any], signed_in: Callable[[Any], Client], filled: Customer
) -> None:
    html = get(signed_in(everyone[role]), filled)
    assert "Law-enforcement demands" not in html
    assert AGENCY not in html
    assert "Data subject requests redirected to it" in html
    assert DemandView.objects.count() == 0


def test_counsel_viewing_the_page_logs_each_demand_shown(
    counsel: Any, counsel_client: Client, filled: Customer
) -> None:
    get(counsel_client, filled)
    [view] = DemandView.objects.all()
    assert view.user == counsel
    assert view.path == page_url(filled)


def test_actions_start_from_the_page_for_those_who_may_take_them(
    signed_in: Callable[[Any], Client], analyst: Any, viewer: Any, acme: Customer
) -> None:
    html = get(signed_in(analyst), acme)
    assert f'href="/admin/customers/deletioncertificate/add/?customer={acme.pk}"' in html
    assert "Record a written request" in html
    assert "Issue a certificate" in html
    assert "Terminate the agreement" in html
    assert "Terminate the agreement" not in get(signed_in(viewer), acme)
    assert "Record a written request" not in get(signed_in(viewer), acme)


def test_a_user_without_a_role_or_sign_in_gets_nothing(
    signed_in: Callable[[Any], Client], outsider: Any, acme: Customer
) -> None:
    assert signed_in(outsider).get(page_url(acme)).status_code == 403
    anonymous = Client().get(page_url(acme))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")


def test_an_unknown_customer_is_not_found(counsel_client: Client, db: None) -> None:
    assert counsel_client.get("/staff/customers/999999/").status_code == 404


def test_the_list_and_the_change_page_link_to_it(counsel_client: Client, acme: Customer) -> None:
    link = f'href="{page_url(acme)}"'
    assert link in counsel_client.get("/admin/customers/customer/").content.decode()
    change = counsel_client.get(f"/admin/customers/customer/{acme.pk}/change/")
    assert link in change.content.decode()


def test_the_page_costs_the_same_queries_for_1_or_4_records_of_each_kind(
    counsel_client: Client, acme: Customer, globex: Customer
) -> None:
    fill(acme, 1)
    fill(globex, 4)
    get(counsel_client, acme)  # warm the session, content types and permissions caches
    with CaptureQueriesContext(connection) as one:
        get(counsel_client, acme)
    with CaptureQueriesContext(connection) as four:
        html = get(counsel_client, globex)
    assert html.count("Breach 3") == 2  # the section and the timeline: all four are shown
    assert len(four) == len(one), [q["sql"] for q in four.captured_queries]


def test_a_new_duty_registers_its_own_section(counsel_client: Client, acme: Customer) -> None:
    section = customer_page.Section(
        "holds",
        "Legal holds",
        Customer,
        lambda customer, today: [
            customer_page.Entry("Hold for the Acme litigation", "/admin/", rule="C9")
        ],
        rules="C9",
    )
    customer_page.register("test", [section])
    try:
        html = get(counsel_client, acme)
    finally:
        del customer_page._registry["holds"]
    assert "Legal holds" in html
    assert "Hold for the Acme litigation" in html
