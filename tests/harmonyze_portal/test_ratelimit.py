"""Public POSTs are rate-limited per client IP: 429, a friendly page, and nothing written."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from harmonyze_portal.models import PublicHoliday

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.harmonyze_portal.ratelimited_urls")]


@pytest.fixture(autouse=True)
def _three_per_hour(settings) -> None:
    settings.PUBLIC_POST_RATE = "3/h"


def post(client: Client, ip: str = "198.51.100.7", **extra: str):
    return client.post("/probe/", {"email": "a@example.com"}, REMOTE_ADDR=ip, **extra)


def test_posts_beyond_the_limit_get_429_and_write_nothing(client: Client) -> None:
    assert [post(client).status_code for _ in range(3)] == [201, 201, 201]
    response = post(client)
    assert response.status_code == 429
    assert "Please wait a moment" in response.content.decode()
    assert "not saved" in " ".join(response.content.decode().split())
    assert 0 < int(response["Retry-After"]) <= 3600
    assert PublicHoliday.objects.count() == 3
    assert PublicHoliday.history.count() == 3


def test_another_client_is_not_limited(client: Client) -> None:
    for _ in range(4):
        post(client, ip="198.51.100.7")
    assert post(client, ip="198.51.100.8").status_code == 201


def test_gets_are_never_limited(client: Client) -> None:
    for _ in range(4):
        post(client)
    assert client.get("/probe/", REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_count(client: Client) -> None:
    for n in range(3):
        post(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert post(client, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_the_limit_lifts_when_the_window_passes(client: Client) -> None:
    with time_machine.travel("2026-11-23 10:00Z", tick=False) as clock:
        for _ in range(3):
            post(client)
        assert post(client).status_code == 429
        clock.shift(3600)
        assert post(client).status_code == 201
