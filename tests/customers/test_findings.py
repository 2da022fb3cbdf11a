"""Prohibited data findings (C7, PP 7): closed by confirmed deletion, or as authorised by the
customer's Order Form, which must then be cited; "other" among the categories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from customers.models import Customer, ProhibitedDataFinding
from customers.models.assistance import ProhibitedCategory
from harmonyze_portal.desk import deadline_items
from tests.customers.builders import make_finding

pytestmark = pytest.mark.django_db

LEARNED = date(2026, 3, 2)
ORDER_FORM = "Order Form OF-2024-117, section 3"


def test_rule_c7_a_finding_authorised_by_the_order_form_is_no_longer_open(acme: Customer) -> None:
    authorised = make_finding(
        acme, learned=LEARNED, authorised_on=LEARNED, order_form_reference=ORDER_FORM
    )
    deleted = make_finding(acme, learned=LEARNED, deletion_confirmed_on=LEARNED)
    still_open = make_finding(acme, learned=LEARNED)

    assert list(ProhibitedDataFinding.objects.open()) == [still_open]
    assert list(ProhibitedDataFinding.objects.authorised()) == [authorised]
    assert deleted not in ProhibitedDataFinding.objects.open()


@pytest.mark.parametrize("reference", ["", "   "])
def test_rule_c7_closing_as_authorised_needs_the_order_form_reference(
    acme: Customer, reference: str
) -> None:
    finding = ProhibitedDataFinding(
        customer=acme,
        category=ProhibitedCategory.PHI,
        location="Workspace uploads",
        learned_on=LEARNED,
        authorised_on=LEARNED,
        order_form_reference=reference,
    )

    with pytest.raises(ValidationError) as refused:
        finding.full_clean()

    assert "order_form_reference" in refused.value.message_dict


def test_rule_c7_the_database_refuses_an_authorisation_without_a_reference(
    acme: Customer,
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_finding(acme, authorised_on=date(2026, 2, 1))


def test_rule_c7_the_database_refuses_an_authorisation_without_a_customer(db: None) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_finding(None, authorised_on=date(2026, 2, 1), order_form_reference=ORDER_FORM)


def test_rule_c7_the_database_refuses_closing_both_ways(acme: Customer) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_finding(
            acme,
            learned=LEARNED,
            deletion_confirmed_on=LEARNED,
            authorised_on=LEARNED,
            order_form_reference=ORDER_FORM,
        )


@pytest.mark.parametrize(("authorised", "refused"), [(LEARNED, False), (date(2026, 3, 1), True)])
def test_rule_c7_authorised_on_the_day_learned_but_not_the_day_before(
    acme: Customer, authorised: date, refused: bool
) -> None:
    fields = {"authorised_on": authorised, "order_form_reference": ORDER_FORM}
    if refused:
        with pytest.raises(IntegrityError), transaction.atomic():
            make_finding(acme, learned=LEARNED, **fields)
    else:
        assert make_finding(acme, learned=LEARNED, **fields).pk


def test_rule_c7_other_is_a_category(acme: Customer) -> None:
    finding = make_finding(acme, category=ProhibitedCategory.OTHER)
    finding.full_clean()

    assert finding.get_category_display() == "Other prohibited data"


def test_rule_c7_the_dashboard_drops_an_authorised_finding(acme: Customer, counsel: Any) -> None:
    finding = make_finding(acme, learned=LEARNED)
    before = [item for item in deadline_items(counsel, LEARNED).items if item.rule == "C7"]

    finding.authorised_on = LEARNED
    finding.order_form_reference = ORDER_FORM
    finding.save()

    after = [item for item in deadline_items(counsel, LEARNED).items if item.rule == "C7"]
    assert (len(before), len(after)) == (1, 0)


def post_finding(client: Client, finding: ProhibitedDataFinding, **fields: str) -> Any:
    return client.post(
        f"/admin/customers/prohibiteddatafinding/{finding.pk}/change/",
        {
            "customer": str(finding.customer_id),
            "category": finding.category,
            "location": finding.location,
            "learned_on": str(finding.learned_on),
            "notes": "",
            "deletion_confirmed_on": "",
            "change_reason": "Order Form checked with sales",
            **fields,
        },
    )


def test_rule_c7_the_analyst_closes_a_finding_as_authorised_in_the_admin(
    acme: Customer, analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    finding = make_finding(acme, learned=LEARNED)
    client = signed_in(analyst)

    refused = post_finding(client, finding, authorised_on="2026-03-04", order_form_reference="")
    done = post_finding(
        client, finding, authorised_on="2026-03-04", order_form_reference=ORDER_FORM
    )

    assert refused.status_code == 200
    assert "Cite the customer&#x27;s Order Form" in refused.content.decode()
    assert done.status_code == 302
    finding.refresh_from_db()
    assert (finding.authorised_on, finding.order_form_reference) == (date(2026, 3, 4), ORDER_FORM)
    row = finding.history.first()
    assert (row.history_user, row.history_change_reason) == (
        analyst,
        "Order Form checked with sales",
    )
    listing = client.get("/admin/customers/prohibiteddatafinding/?state=open").content.decode()
    assert "0 prohibited data findings" in listing
