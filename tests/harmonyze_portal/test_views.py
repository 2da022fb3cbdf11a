"""The landing page, /healthz and /readyz."""

from __future__ import annotations

import copy

import pytest
from django.apps import apps
from django.db import connection, connections
from django.test import Client

from harmonyze_portal import views


@pytest.mark.django_db
def test_landing_lists_the_areas_public_pages(client: Client, monkeypatch) -> None:
    config = apps.get_app_config("subprocessors")
    monkeypatch.setattr(
        config,
        "public_links",
        (
            ("healthz", "Service status", "Whether the portal is up."),
            ("subprocessors:not-built-yet", "Never shown", "Skipped: the URL does not exist."),
        ),
    )
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/healthz">Service status</a>' in html
    assert "Never shown" not in html
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html


@pytest.mark.django_db
def test_landing_without_area_pages_gives_the_legal_inbox(client: Client, settings) -> None:
    settings.LEGAL_INBOX_EMAIL = "privacy-team@harmonyze.com"
    html = client.get("/").content.decode()
    assert "mailto:privacy-team@harmonyze.com" in html


def test_healthz_answers_without_the_database(client: Client) -> None:
    # No database mark: any query here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_when_the_database_does(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_readyz_fails_when_the_database_is_gone(client: Client, tmp_path, monkeypatch) -> None:
    # A real connection object of the same backend, pointed at a database that is not there
    # (the test database itself stays untouched for the other tests).
    settings_dict = copy.deepcopy(connection.settings_dict)
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    else:
        settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", "1"  # nothing listens
    gone = type(connections["default"])(settings_dict, alias="default")
    monkeypatch.setattr(views, "connection", gone)
    try:
        response = client.get("/readyz")
    finally:
        gone.close()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "OperationalError"}


def test_health_endpoints_refuse_posts(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/sub-processors/", "/privacy-requests/"])
def test_head_answers_like_get(client: Client, path: str) -> None:
    """Issue 15: monitors and link checkers send HEAD; it was a 405 on the landing page."""
    got, head = client.get(path), client.head(path)

    assert head.status_code == got.status_code == 200
    assert head["Content-Type"] == got["Content-Type"]
    assert head.content == b""
