"""The admin index's "System" section (issue 15): infrastructure under one heading, counsel's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from harmonyze_portal.system import SYSTEM, is_system_model
from tests.conftest import make_staff

SignIn = Callable[[Any], Client]

INFRASTRUCTURE = {
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "otp_totp.totpdevice",
    "otp_static.staticdevice",
    "django_tasks_database.dbtaskresult",
    "requests.demandview",
    "subprocessors.delivery",
}


def sections(client: Client) -> dict[str, set[str]]:
    response = client.get("/admin/")
    assert response.status_code == 200
    return {
        app["name"]: {entry["model"]._meta.label_lower for entry in app["models"]}
        for app in response.context["app_list"]
    }


def test_counsel_finds_the_infrastructure_under_system_alone(
    counsel: Any, signed_in: SignIn
) -> None:
    found = sections(signed_in(counsel))

    assert found[SYSTEM] == INFRASTRUCTURE
    elsewhere = set().union(*(models for name, models in found.items() if name != SYSTEM))
    assert not elsewhere & INFRASTRUCTURE
    assert list(found)[-1] == SYSTEM  # last, after the legal work


def test_a_superuser_sees_system_too(db: None, signed_in: SignIn) -> None:
    root = make_staff("root", None)
    root.is_superuser = True
    root.save()

    assert sections(signed_in(root))[SYSTEM] >= INFRASTRUCTURE


@pytest.mark.parametrize("role", ["analyst", "viewer", "outsider"])
def test_other_staff_see_no_infrastructure_on_the_index(
    role: str, everyone: dict[str, Any], signed_in: SignIn
) -> None:
    client = signed_in(everyone[role])
    found = sections(client)

    assert SYSTEM not in found
    assert not set().union(set(), *found.values()) & INFRASTRUCTURE
    page = client.get("/admin/").content.decode()
    assert "Sign-in lockouts" not in page
    assert "Notice deliveries" not in page


def test_the_system_names_read_as_words(counsel: Any, signed_in: SignIn) -> None:
    page = signed_in(counsel).get("/admin/").content.decode()

    for name in ("Sign-in lockouts", "Authenticator apps", "Backup code sets", "Notice deliveries"):
        assert name in page
    for raw in ("TOTP devices", "Task Results", "Otp_Totp", "Tasks Database Backend"):
        assert raw not in page


def test_the_role_matrix_and_the_section_agree(everyone: dict[str, Any]) -> None:
    """Counsel may open every model listed under System; nobody else holds the axes, device or
    task permissions that would make a hidden section matter."""
    from django.contrib import admin

    system_models = [model for model in admin.site._registry if is_system_model(model)]
    assert {model._meta.label_lower for model in system_models} == INFRASTRUCTURE
    for model in system_models:
        opts = model._meta
        assert everyone["counsel"].has_perm(f"{opts.app_label}.view_{opts.model_name}")
        if opts.app_label in {"axes", "otp_totp", "otp_static", "django_tasks_database"}:
            for role in ("analyst", "viewer", "outsider"):
                assert not everyone[role].has_perm(f"{opts.app_label}.view_{opts.model_name}")
