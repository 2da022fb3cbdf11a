"""C9 and R4: terminating a customer that an open law-enforcement demand concerns is a
conflict, registered by the requests area in the core's registry; R6: it names no agency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from customers import services
from customers.models import Customer
from customers.models.accounts import TerminatedBy
from harmonyze_portal.conflicts import TerminationConflictError, termination_conflicts
from requests.models import LawEnforcementDemand
from requests.models.demands import Disclosure
from tests.customers.test_admin import change_form_data
from tests.requests.builders import make_demand

pytestmark = pytest.mark.django_db


def terminate(customer: Customer, **kwargs: Any) -> Customer:
    return services.customer_terminate(
        customer=customer, on=date(2026, 3, 31), by=TerminatedBy.CUSTOMER, reason="Ended", **kwargs
    )


def test_rule_c9_an_open_demand_refuses_an_unconfirmed_termination(acme: Customer) -> None:
    make_demand(agency="FBI Seattle Field Office", customers=(acme,))

    with pytest.raises(TerminationConflictError) as caught:
        terminate(acme)

    message = caught.value.messages[0]
    assert "an open law-enforcement demand concerns this customer" in message
    assert "FBI" not in message  # R6: the agency stays in counsel's record
    assert Customer.objects.get(pk=acme.pk).termination_date is None

    terminate(acme, confirm_conflicts=True)
    assert Customer.objects.get(pk=acme.pk).termination_date == date(2026, 3, 31)


def test_rule_c9_a_settled_demand_and_another_customers_demand_are_no_conflict(
    acme: Customer, globex: Customer
) -> None:
    make_demand(customers=(globex,))
    make_demand(
        customers=(acme,),
        disclosure=Disclosure.NOTHING,
        redirect_attempted_on=date(2026, 3, 3),
    )

    assert LawEnforcementDemand.objects.open().filter(customers=acme).count() == 0
    assert termination_conflicts(acme) == []


def test_rule_c9_r6_the_analysts_change_form_shows_the_demand_without_its_details(
    acme: Customer, analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_demand(agency="FBI Seattle Field Office", customers=(acme,))
    client = signed_in(analyst)
    url = f"/admin/customers/customer/{acme.pk}/change/"
    page = client.get(url)
    data = change_form_data(page) | {"termination_date": "2026-03-31", "terminated_by": "customer"}

    refused = client.post(url, data)

    content = refused.content.decode()
    assert refused.status_code == 200
    assert "an open law-enforcement demand concerns this customer" in content
    assert "FBI" not in content
    assert "FBI" not in page.content.decode()
    assert client.post(url, data | {"confirm_conflicts": "on"}).status_code == 302
