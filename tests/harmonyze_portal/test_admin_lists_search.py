"""The admin's search at a million rows (issue 16, P5s): related records are searched first
through their own indexes, so no list joins across a reverse or many-to-many relation, and a
whole email address means the same rows on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from customers.models import Breach, Customer
from harmonyze_portal import admin_lists
from requests.models import LawEnforcementDemand
from subprocessors.models import Delivery, Signup, SignupStatus
from tests.customers.builders import make_breach, make_contact, make_customer
from tests.requests.builders import make_demand
from tests.subprocessors.builders import make_change, make_delivery, make_signup

pytestmark = pytest.mark.django_db


def search(model: Any, term: str) -> tuple[list[Any], bool, str]:
    """What the model's changelist search gives for ``term``: rows, whether Django must
    remove duplicates, and the list query's SQL."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/", {"q": term})
    queryset, duplicates = model_admin.get_search_results(
        request, model._default_manager.order_by("pk"), term
    )
    return list(queryset), duplicates, str(queryset.query)


def django_search(model: Any, term: str) -> set[int]:
    """Django's own admin search of the same fields: the rows ours must match."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/", {"q": term})
    queryset, _ = admin.ModelAdmin.get_search_results(
        model_admin, request, model._default_manager.all(), term
    )
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def customers() -> dict[str, Customer]:
    acme = make_customer("Acme Analytics GmbH", domains=("acme.com", "acme-mail.com"))
    make_contact(acme, email="privacy@acme.com", name="Dana Privacy")
    make_contact(acme, email="legal@acme.com", name="Lee Counsel")
    globex = make_customer("Globex Corporation Ltd", domains=("globex.co.uk",))
    make_contact(globex, email="dpo@globex.co.uk", name="Gil Acme-Smith")
    return {"acme": acme, "globex": globex}


@pytest.mark.parametrize("term", ["acme", "ACME", "globex.co", "Counsel", "Acme Ltd", "zzz"])
def test_a_customer_search_across_domains_and_contacts_finds_django_s_rows_once(
    customers: dict[str, Customer], term: str
) -> None:
    rows, duplicates, sql = search(Customer, term)
    assert [row.pk for row in rows] == sorted(django_search(Customer, term))
    assert duplicates is False
    # The related tables were searched first: the list itself joins none of them.
    assert "customerdomain" not in sql.lower()
    assert "customers_contact" not in sql.lower()


def test_a_demand_is_found_by_its_customers_name_once_without_a_join(
    customers: dict[str, Customer],
) -> None:
    """R4's many-to-many customers: a demand concerning two matching customers is one row."""
    both = make_demand(agency="Garda", customers=(customers["acme"], customers["globex"]))
    make_demand(agency="FBI", customers=(customers["globex"],))
    rows, duplicates, sql = search(LawEnforcementDemand, "Acme")
    assert rows == [both]
    assert duplicates is False
    assert "demandcustomer" not in sql.lower()


def test_a_breach_is_found_by_a_notified_customer_two_relations_away(
    customers: dict[str, Customer],
) -> None:
    acme_breach = make_breach(title="Bucket", customers=(customers["acme"],))
    make_breach(title="Laptop", customers=(customers["globex"],))
    rows, duplicates, sql = search(Breach, "analytics")
    assert rows == [acme_breach]
    assert (duplicates, "breachnotice" in sql.lower()) == (False, False)


def test_more_related_matches_than_the_limit_still_find_every_row_once(
    customers: dict[str, Customer], monkeypatch: Any
) -> None:
    monkeypatch.setattr(admin_lists, "RELATED_SEARCH_LIMIT", 1)
    rows, duplicates, _ = search(Customer, "acme")
    assert [row.pk for row in rows] == sorted(django_search(Customer, "acme"))
    assert duplicates is False


@pytest.fixture
def addresses() -> dict[str, Signup]:
    return {
        email: make_signup(email, status=SignupStatus.ACTIVE)
        for email in ("dpo@acme.com", "vp.dpo@acme.com", "dpo@acme.com.au")
    }


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("DPO@Acme.com", {"dpo@acme.com"}),  # a whole address: itself, whatever its case
        ("dpo@acme.com.au", {"dpo@acme.com.au"}),
        ("@acme.com", {"dpo@acme.com", "vp.dpo@acme.com", "dpo@acme.com.au"}),  # a part
        ("dpo", {"dpo@acme.com", "vp.dpo@acme.com", "dpo@acme.com.au"}),
    ],
)
def test_a_whole_address_is_searched_exactly_on_every_database(
    addresses: dict[str, Signup], term: str, found: set[str]
) -> None:
    """The same rows on SQLite as on PostgreSQL: LOWER(email) = … for a whole address,
    "contains" for a part, in the list's own email field and through a relation."""
    rows, _, _ = search(Signup, term)
    assert {row.email for row in rows} == found
    change = make_change(summary="Adding Mailgun")
    for signup in addresses.values():
        make_delivery(change, signup)
    deliveries, _, _ = search(Delivery, term)
    assert {row.signup.email for row in deliveries} == found


def test_a_contact_s_whole_address_finds_only_its_customer(
    customers: dict[str, Customer],
) -> None:
    make_contact(customers["globex"], email="privacy@acme.com.example", name="Pat")
    rows, _, _ = search(Customer, "Privacy@ACME.com")
    assert rows == [customers["acme"]]


@pytest.mark.parametrize("role", ["counsel", "analyst", "viewer", "outsider"])
def test_each_role_searches_the_signups_list_by_address_as_its_permissions_allow(
    addresses: dict[str, Signup], everyone: dict[str, Any], signed_in: Any, role: str
) -> None:
    client: Client = signed_in(everyone[role])
    response = client.get("/admin/subprocessors/signup/", {"q": "DPO@acme.com"})
    if role == "outsider":
        assert response.status_code == 403
        return
    page = response.content.decode()
    assert response.status_code == 200
    assert "vp.dpo@acme.com" not in page
    assert "dpo@acme.com.au" not in page
    assert ">dpo@acme.com<" in page
