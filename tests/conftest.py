"""Shared fixtures: the people of the tests (STYLE.md), the customers acme and globex, and a
signed-in, verified client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import Customer
from harmonyze_portal.roles import ANALYST, COUNSEL, VIEWER
from tests.customers.builders import make_customer

PASSWORD = "correct horse battery staple 42"
# django-axes' backend comes first in the settings but restores no user from a session.
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


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


# --- The people ------------------------------------------------------------------------------


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


@pytest.fixture
def everyone(counsel: Any, analyst: Any, viewer: Any, outsider: Any) -> dict[str, Any]:
    """Each role by name, for tests parametrized over who is asking."""
    return {"counsel": counsel, "analyst": analyst, "viewer": viewer, "outsider": outsider}


# --- The customers ---------------------------------------------------------------------------


@pytest.fixture
def acme(db: None) -> Customer:
    return make_customer(
        "Acme Analytics GmbH",
        effective=date(2024, 1, 1),
        domains=("acme.com",),
        notice_email="privacy@acme.com",
    )


@pytest.fixture
def globex(db: None) -> Customer:
    return make_customer(
        "Globex Corporation Ltd",
        effective=date(2024, 6, 1),
        domains=("globex.co.uk",),
        notice_email="dpo@globex.co.uk",
    )


# --- Signing in ------------------------------------------------------------------------------


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


def force_sign_in(client: Client, user: Any) -> Client:
    """The session the two pages leave behind, without walking them.

    Django's ``force_login`` sends ``user_logged_in`` as the password page does, so the session
    gets its login time (sessions.LOGIN_AT); the user's confirmed authenticator is then stored
    under django-otp's key exactly as ``django_otp.login`` does after a good code, and
    OTPMiddleware verifies it on each request. Permissions are checked as usual: only the
    walk is skipped.
    """
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    client.force_login(user, backend=SESSION_BACKEND)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def signed_in(request: pytest.FixtureRequest) -> Callable[[Any], Client]:
    """A new client signed in as the given staff user, with the second factor verified.

    Tests about signing in, 2FA and sessions mark themselves ``sign_in_pages`` and get the
    real password and TOTP pages; every other test gets the same session, about three times
    faster (two requests and a TOTP check saved per sign-in).
    """
    through_pages = request.node.get_closest_marker("sign_in_pages") is not None

    def _sign_in(user: Any) -> Client:
        return (sign_in if through_pages else force_sign_in)(Client(), user)

    return _sign_in


@pytest.fixture
def counsel_client(counsel: Any, signed_in: Callable[[Any], Client]) -> Client:
    return signed_in(counsel)


@pytest.fixture(autouse=True)
def _no_cached_public_pages() -> None:
    """Each test starts with no page kept in memory: a blank form rendered in an earlier test
    showed that test's data, which its rollback removed without a save signal."""
    from harmonyze_portal.pagecache import invalidate_public_pages

    invalidate_public_pages()
