"""The restricted-model registry: areas declare what is counsel's alone (DOMAIN.md R6), and
the roles and the history export read the declarations, naming no area themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.test import Client

from customers.models import Breach, Customer
from harmonyze_portal.restricted import (
    counsel_only_permissions,
    history_permission,
    is_restricted,
    restricted_models,
)
from harmonyze_portal.roles import ANALYST, COUNSEL, VIEWER, grants, sync_roles
from requests.models import DataSubjectRequest, DemandCustomer, LawEnforcementDemand
from requests.models.demands import DemandStep, DemandView
from tests.customers.builders import make_breach
from tests.requests.builders import make_demand

SignIn = Callable[[Any], Client]


def test_the_requests_area_declares_its_demand_models() -> None:
    assert restricted_models() == (LawEnforcementDemand, DemandCustomer, DemandStep, DemandView)


def test_a_restricted_model_its_instances_and_its_history_are_restricted() -> None:
    assert is_restricted(LawEnforcementDemand)
    assert is_restricted(LawEnforcementDemand(agency="Agency", country="Germany"))
    assert is_restricted(LawEnforcementDemand.history.model)
    assert is_restricted(DemandCustomer.history.model)


@pytest.mark.parametrize("model", [Customer, Customer.history.model, DataSubjectRequest, Group])
def test_other_models_are_not(model: Any) -> None:
    assert not is_restricted(model)


def test_the_history_of_a_restricted_model_needs_the_areas_permission() -> None:
    assert history_permission(LawEnforcementDemand) == "requests.view_demand_history"
    assert history_permission(DemandView.history.model) == "requests.view_demand_history"


@pytest.mark.django_db
def test_without_a_declared_history_permission_the_export_fails_closed() -> None:
    app_label, codename = history_permission(Breach).split(".")
    assert app_label == "customers"
    assert not Permission.objects.filter(codename=codename).exists()


def test_the_reserved_permissions_are_the_areas_declarations() -> None:
    reserved = counsel_only_permissions()
    assert ("requests", "view_historicaldemandstep") in reserved
    assert ("requests", "export_demands") in reserved
    assert ("requests", "view_demand_history") in reserved
    assert ("subprocessors", "waive_delivery") in reserved
    assert ("requests", "view_regime") not in reserved
    assert not {label for label, _ in reserved} - {"requests", "subprocessors"}


# --- A declaration is all an area needs: the core follows it on every path it reads.


@pytest.fixture
def breaches_restricted(monkeypatch: pytest.MonkeyPatch, db: None) -> None:
    """The customers area declares breaches counsel's alone, as a new area would its models."""
    config = apps.get_app_config("customers")
    monkeypatch.setattr(config, "restricted_models", ("Breach",))
    monkeypatch.setattr(config, "restricted_history_permission", "view_historicalbreach")
    sync_roles(apps)


def test_a_new_declaration_restricts_the_model_for_every_role_but_counsel(
    breaches_restricted: None,
) -> None:
    assert is_restricted(Breach)
    for codename in ("view_breach", "change_breach", "view_historicalbreach"):
        assert grants(COUNSEL, "customers", codename)
        assert not grants(ANALYST, "customers", codename)
        assert not grants(VIEWER, "customers", codename)
    analysts = Group.objects.get(name=ANALYST).permissions
    assert not analysts.filter(codename="view_breach").exists()
    assert analysts.filter(codename="view_customer").exists()


def test_a_new_declaration_guards_the_history_export(
    breaches_restricted: None, counsel: Any, analyst: Any, signed_in: SignIn
) -> None:
    make_breach()
    analyst.user_permissions.add(Permission.objects.get(codename="view_breach"))

    refused = signed_in(analyst).get("/admin/history/export/", {"model": "customers.breach"})
    allowed = signed_in(counsel).get("/admin/history/export/", {"model": "customers.breach"})

    assert refused.status_code == 403
    assert allowed.status_code == 200


@pytest.mark.django_db
def test_a_demand_stays_restricted_through_its_instance(counsel: Any) -> None:
    demand = make_demand()
    assert is_restricted(demand)
    assert is_restricted(demand.history.first())
