"""Every change page says how its deadlines were computed (T5): TrackedAdmin shows the lines a
model's ``deadline_lines()`` gives, with each rule linked to its text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client

from customers.models import Customer
from tests.audits.builders import make_audit_request
from tests.customers.builders import make_breach
from tests.requests.builders import make_dsr
from tests.subprocessors.builders import make_change, make_subprocessor


def terminated(acme: Customer) -> tuple[str, str]:
    acme.termination_date = date(2026, 11, 5)
    acme.terminated_by = "customer"
    acme.earlier_deletion_requested_on = date(2026, 11, 20)
    acme.save()
    return (
        f"/admin/customers/customer/{acme.pk}/change/",
        "terminated 5 Nov 2026 + 30 days = 5 Dec 2026, deletion asked earlier, on 20 Nov 2026",
    )


def breach(acme: Customer) -> tuple[str, str]:
    notice = make_breach(
        customers=(acme,), aware_at=datetime(2026, 1, 31, 15, tzinfo=UTC)
    ).notices.get()
    return (
        f"/admin/customers/breachnotice/{notice.pk}/change/",
        "aware 31 Jan 2026 10:00 EST + 72 hours = 3 Feb 2026 10:00 EST",
    )


def gdpr_request(acme: Customer) -> tuple[str, str]:
    dsr = make_dsr(received=date(2026, 11, 5))
    return (
        f"/admin/requests/datasubjectrequest/{dsr.pk}/change/",
        "received 5 Nov 2026 + 1 month = 5 Dec 2026, a Saturday → 7 Dec 2026 (",
    )


def audit(acme: Customer) -> tuple[str, str]:
    request = make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 4, 30))
    return (
        f"/admin/audits/auditrequest/{request.pk}/change/",
        "proposed start 30 Apr 2026 − 14 days = 16 Apr 2026",
    )


def change(acme: Customer) -> tuple[str, str]:
    announced = make_change(
        make_subprocessor("Vendor"),
        published_at=datetime(2026, 2, 14, 15, tzinfo=UTC),
        notice_date=date(2026, 2, 14),
    )
    return (
        f"/admin/subprocessors/change/{announced.pk}/change/",
        "Notice date 14 Feb 2026 + 15 days = 1 Mar 2026",
    )


PAGES: dict[str, Callable[[Customer], tuple[str, str]]] = {
    "C3-C4": terminated,
    "C5": breach,
    "R1-R3": gdpr_request,
    "A4": audit,
    "S3": change,
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_change_page_says_how_each_deadline_was_computed(
    page: str, counsel_client: Client, acme: Customer
) -> None:
    url, line = PAGES[page](acme)
    html = counsel_client.get(url).content.decode()
    assert "How the deadlines were computed" in html
    assert line in html, html[html.find("How the deadlines") :][:1500]
    assert 'class="rule-link" href="/staff/rules/#' in html


def test_a_record_without_a_running_deadline_says_so(
    counsel_client: Client, acme: Customer
) -> None:
    html = counsel_client.get(f"/admin/customers/customer/{acme.pk}/change/").content.decode()
    assert "No deadline runs yet." in html


def test_the_add_page_has_no_deadline_box(counsel_client: Client, db: Any) -> None:
    html = counsel_client.get("/admin/customers/customer/add/").content.decode()
    assert "How the deadlines were computed" not in html
