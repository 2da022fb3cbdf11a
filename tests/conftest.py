"""Shared fixtures: the people of the tests (STYLE.md) and a signed-in, verified client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from harmonyze_portal.roles import ANALYST, COUNSEL, VIEWER

PASSWORD = "correct horse battery staple 42"


def make_staff(username: str, role: str | None, *, with_device: bool = True) -> Any:
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@harmonyze.com",
        password=PASSWORD,
        is_staff=True,
        first_name=username.capitalize(),
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    if with_device:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def current_code(user: Any) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def counsel(db: None) -> Any:
    return make_staff("counsel", COUNSEL)


@pytest.fixture
def analyst(db: None) -> Any:
    return make_staff("analyst", ANALYST)


@pytest.fixture
def viewer(db: None) -> Any:
    return make_staff("viewer", VIEWER)


@pytest.fixture
def outsider(db: None) -> Any:
    """A staff account with no role: can sign in, may see nothing."""
    return make_staff("outsider", None)


def sign_in(client: Client, user: Any) -> Client:
    """Password step then TOTP step, through the real pages."""
    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content
    response = client.post("/staff/2fa/verify/", {"token": current_code(user), "next": "/admin/"})
    assert response.status_code == 302, response.content
    assert response["Location"] == "/admin/"
    return client


@pytest.fixture
def signed_in() -> Callable[[Any], Client]:
    def _sign_in(user: Any) -> Client:
        return sign_in(Client(), user)

    return _sign_in
