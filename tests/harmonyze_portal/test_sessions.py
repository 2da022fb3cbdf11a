"""Staff sessions end after 30 minutes idle and after 12 hours in all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from harmonyze_portal.sessions import LOGIN_AT

pytestmark = pytest.mark.sign_in_pages

SIGN_IN_AT = "2026-03-02 08:00:00Z"
TO_LOGIN = "/admin/login/?next=/admin/"


def timestamp(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def assert_open(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Privacy &amp; legal workspace" in response.content


def assert_sent_to_login(client: Client, path: str = "/admin/") -> Any:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"
    return response


def test_the_limits_are_the_documented_ones() -> None:
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    assert django_settings.SESSION_MAX_HOURS == 12
    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


@pytest.mark.django_db
def test_activity_keeps_an_idle_session_alive(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)

        traveller.shift(timedelta(minutes=29))
        assert_open(client)
        traveller.shift(timedelta(minutes=29))
        assert_open(client)
        traveller.shift(timedelta(minutes=29))
        assert_open(client)


@pytest.mark.django_db
def test_thirty_one_idle_minutes_end_the_session(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)
        traveller.shift(timedelta(minutes=29))
        assert_open(client)

        traveller.shift(timedelta(minutes=31))
        assert_sent_to_login(client)
        # Signed out for good: coming back at once does not revive the session.
        assert_sent_to_login(client, "/admin/auth/user/")


@pytest.mark.django_db
def test_idle_expiry_right_after_sign_in(counsel: Any, signed_in: Callable[[Any], Client]) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)

        traveller.shift(timedelta(minutes=31))
        assert_sent_to_login(client)


@pytest.mark.django_db
def test_every_request_moves_the_stored_expiry(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)
        traveller.shift(timedelta(minutes=20))
        assert_open(client)

        session = Session.objects.get(session_key=client.session.session_key)
        assert session.expire_date == timezone.now() + timedelta(minutes=30)


@pytest.mark.django_db
def test_the_login_time_is_stamped_at_the_password_step(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)
        traveller.shift(timedelta(minutes=20))
        assert_open(client)
        stamp = client.session[LOGIN_AT]

    assert stamp == timestamp(SIGN_IN_AT)


@pytest.mark.django_db
def test_twelve_hours_end_the_session_despite_activity(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)
        # Every 20 minutes up to and including the 12th hour itself.
        for _ in range(36):
            traveller.shift(timedelta(minutes=20))
            assert_open(client)

        traveller.shift(timedelta(minutes=20))
        response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == TO_LOGIN
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_twelve_hour_limit_signs_the_user_out_and_says_why(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        client = signed_in(counsel)
        for _ in range(37):
            traveller.shift(timedelta(minutes=20))
            client.get("/admin/")

        traveller.shift(timedelta(minutes=1))
        login_page = client.get("/admin/login/?next=/admin/", follow=True)

    assert login_page.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"sessions end after 12 hours" in login_page.content


@pytest.mark.django_db
def test_a_session_without_a_login_stamp_is_treated_as_expired(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(counsel)
    session = client.session
    del session[LOGIN_AT]
    session.save()

    assert_sent_to_login(client)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_new_sign_in_after_the_limit_starts_a_new_twelve_hours(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    with time_machine.travel(SIGN_IN_AT, tick=False) as traveller:
        signed_in(counsel)
        traveller.shift(timedelta(hours=13))
        client = signed_in(counsel)
        for _ in range(35):
            traveller.shift(timedelta(minutes=20))
            assert_open(client)

        assert client.session[LOGIN_AT] == timestamp("2026-03-02 21:00:00Z")
