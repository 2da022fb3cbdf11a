"""Failed password logins lock a username + client IP pair out (django-axes), whatever the
client writes into X-Forwarded-For."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client, RequestFactory

from harmonyze_portal import network
from harmonyze_portal.network import client_ip
from tests.conftest import PASSWORD

WRONG = "not the password at all"
LOCKED_OUT = "Sign-in temporarily locked"


def log_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, **extra
    )


def assert_refused_password(response: Any) -> None:
    assert response.status_code == 200
    assert b"Please enter the correct username and password" in response.content


def assert_locked_out(response: Any) -> None:
    assert response.status_code == 429
    assert "staff/locked_out.html" in [template.name for template in response.templates]
    body = response.content.decode()
    assert LOCKED_OUT in body
    assert "There were 5 failed sign-in attempts" in body
    assert "_auth_user_id" not in response.wsgi_request.session


def assert_signed_in(response: Any) -> None:
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_limits_are_the_documented_ones() -> None:
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=60) == django_settings.AXES_COOLOFF_TIME
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.django_db
def test_five_failures_lock_the_pair_out_even_for_the_right_password(
    client: Client, counsel: Any
) -> None:
    for _ in range(4):
        assert_refused_password(log_in(client, "counsel", WRONG))

    fifth = log_in(client, "counsel", WRONG)
    sixth = log_in(client, "counsel", PASSWORD)

    assert_locked_out(fifth)
    assert_locked_out(sixth)
    attempt = AccessAttempt.objects.get(username="counsel")
    assert attempt.ip_address == "127.0.0.1"
    assert attempt.failures_since_start >= 5


@pytest.mark.django_db
def test_four_failures_then_the_right_password_signs_in_and_resets_the_count(
    client: Client, counsel: Any
) -> None:
    for _ in range(4):
        assert_refused_password(log_in(client, "counsel", WRONG))

    assert_signed_in(log_in(client, "counsel", PASSWORD))

    assert not AccessAttempt.objects.filter(username="counsel").exists()
    other = Client()
    for _ in range(4):
        assert_refused_password(log_in(other, "counsel", WRONG))
    assert_signed_in(log_in(other, "counsel", PASSWORD))


@pytest.mark.django_db
def test_the_lockout_is_per_username(client: Client, counsel: Any, analyst: Any) -> None:
    for _ in range(5):
        log_in(client, "counsel", WRONG)

    assert_locked_out(log_in(Client(), "counsel", PASSWORD))
    assert_signed_in(log_in(Client(), "analyst", PASSWORD))


@pytest.mark.django_db
def test_the_lockout_is_per_client_ip(counsel: Any) -> None:
    attacker = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(5):
        log_in(attacker, "counsel", WRONG)

    assert_locked_out(log_in(attacker, "counsel", PASSWORD))
    assert_signed_in(log_in(Client(REMOTE_ADDR="203.0.113.7"), "counsel", PASSWORD))


@pytest.mark.django_db
def test_guessing_at_an_unknown_username_is_locked_out_too(client: Client) -> None:
    for _ in range(5):
        log_in(client, "nobody", WRONG)

    assert_locked_out(log_in(client, "nobody", WRONG))


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_lockout_without_a_proxy(
    client: Client, counsel: Any
) -> None:
    for attempt in range(5):
        log_in(client, "counsel", WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt + 1}")

    response = log_in(client, "counsel", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert_locked_out(response)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_lockout_behind_one_proxy(
    client: Client, counsel: Any, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy at 10.0.0.1 appends the address it saw; everything left of it is the client's.
    for attempt in range(5):
        log_in(
            client,
            "counsel",
            WRONG,
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt + 1}, 203.0.113.7",
        )

    response = log_in(
        client,
        "counsel",
        PASSWORD,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7",
    )

    assert_locked_out(response)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]
    # Another client behind the same proxy is not locked out with the attacker.
    neighbour = log_in(
        Client(),
        "counsel",
        PASSWORD,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert_signed_in(neighbour)


@pytest.mark.django_db
@pytest.mark.parametrize(("minutes", "locked"), [(59, True), (61, False)])
def test_the_lockout_lasts_an_hour(
    client: Client, counsel: Any, minutes: int, locked: bool
) -> None:
    with time_machine.travel("2026-03-02 14:00:00Z", tick=False) as traveller:
        for _ in range(5):
            log_in(client, "counsel", WRONG)
        assert_locked_out(log_in(client, "counsel", PASSWORD))

        traveller.shift(timedelta(minutes=minutes))
        response = log_in(client, "counsel", PASSWORD)

    if locked:
        assert_locked_out(response)
    else:
        assert_signed_in(response)


# --- client_ip(): which address a request counts as.


def test_with_no_trusted_proxy_the_socket_address_is_the_client(
    rf: RequestFactory, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="192.0.2.1")

    assert client_ip(request) == "198.51.100.4"


def test_behind_one_proxy_the_right_most_entry_is_the_client(
    rf: RequestFactory, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1, 192.0.2.2,203.0.113.7"
    )

    assert client_ip(request) == "203.0.113.7"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(
    rf: RequestFactory, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7, 10.0.0.1"
    )

    assert client_ip(request) == "203.0.113.7"


def test_an_ipv6_entry_is_returned_in_its_canonical_form(rf: RequestFactory, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="2001:DB8:0:0::7")

    assert client_ip(request) == "2001:db8::7"


@pytest.mark.parametrize("forwarded", ["203.0.113.7", "", " , ", "203.0.113.7,"])
def test_fewer_entries_than_proxies_fall_back_to_the_socket_address(
    rf: RequestFactory, settings: Any, forwarded: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == "10.0.0.2"


def test_no_forwarded_for_header_falls_back_to_the_socket_address(
    rf: RequestFactory, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1")

    assert client_ip(request) == "10.0.0.1"


@pytest.mark.parametrize(
    "garbage", ["not-an-ip", "203.0.113.7:443", "unknown", "999.1.1.1", "<script>"]
)
def test_a_garbage_entry_falls_back_to_the_socket_address(
    rf: RequestFactory, settings: Any, garbage: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.1, {garbage}")

    assert client_ip(request) == "10.0.0.1"


# --- A proxy count without the proxies (issue 13).


def test_too_few_forwarded_entries_are_warned_about_once_per_process(
    rf: RequestFactory, settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    monkeypatch.setattr(network, "_warned_about_depth", False)
    settings.TRUSTED_PROXY_COUNT = 1
    caplog.set_level(logging.WARNING, logger="harmonyze_portal.network")

    client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1"))
    client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2"))

    warnings = [r for r in caplog.records if r.name == "harmonyze_portal.network"]
    assert len(warnings) == 1
    assert "TRUSTED_PROXY_COUNT is 1" in warnings[0].getMessage()
    assert "clients choose the address" in warnings[0].getMessage()


def test_the_expected_forwarded_depth_is_not_warned_about(
    rf: RequestFactory, settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    monkeypatch.setattr(network, "_warned_about_depth", False)
    settings.TRUSTED_PROXY_COUNT = 1
    caplog.set_level(logging.WARNING, logger="harmonyze_portal.network")

    client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"))

    assert not [r for r in caplog.records if r.name == "harmonyze_portal.network"]
