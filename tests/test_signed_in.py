"""The shared `signed_in` fixture: the session the sign-in pages leave, without walking them.

It must stay the same session as the real one in every way the portal checks (verified second
factor, login time for the 12-hour limit) and must not open anything the role may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def test_the_client_is_signed_in_and_verified_without_using_a_code(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(counsel).get("/admin/")

    assert response.status_code == 200
    assert response.wsgi_request.user == counsel
    assert response.wsgi_request.user.is_verified()
    # No code went through the TOTP page: the device never saw a time step.
    assert TOTPDevice.objects.get(user=counsel).last_t == -1


@pytest.mark.sign_in_pages
def test_marked_tests_walk_the_password_and_code_pages(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(counsel).get("/admin/")

    assert response.wsgi_request.user.is_verified()
    assert TOTPDevice.objects.get(user=counsel).last_t > -1


@pytest.mark.parametrize(
    ("person", "path"),
    [
        ("outsider", "/admin/customers/customer/"),
        ("viewer", "/admin/customers/customer/add/"),
        ("analyst", "/admin/requests/lawenforcementdemand/"),
    ],
)
def test_the_fast_sign_in_opens_nothing_the_role_may_not_open(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str, path: str
) -> None:
    assert signed_in(everyone[person]).get(path).status_code == 403


def test_the_session_carries_its_login_time_so_the_twelve_hour_limit_applies(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False) as traveller:
        client = signed_in(counsel)
        for _ in range(36):  # busy for twelve hours exactly: still open
            traveller.shift(timedelta(minutes=20))
            assert client.get("/admin/").status_code == 200

        traveller.shift(timedelta(minutes=1))
        response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
