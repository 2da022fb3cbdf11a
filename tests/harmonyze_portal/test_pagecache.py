"""Public pages that are the same for everyone are served from memory, and never stale after
a change in this process."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from harmonyze_portal.history import acting_as
from subprocessors.models import SubProcessor
from tests.subprocessors.builders import make_subprocessor

pytestmark = pytest.mark.django_db


def make_vendor(name: str) -> SubProcessor:
    # Current only through a published change whose 15 days have passed (S3).
    with acting_as("task: test"):
        return make_subprocessor(
            name,
            purpose="Hosting",
            locations="Ireland",
            data_categories="Service Data",
            access_began_on=date(2025, 1, 1),
        )


def test_a_second_request_is_served_without_touching_the_database(client: Client) -> None:
    make_vendor("Example Cloud")
    first = client.get("/sub-processors/")
    with CaptureQueriesContext(connection) as queries:
        second = client.get("/sub-processors/")
    assert second.status_code == 200
    assert second.content == first.content
    assert len(queries) == 0
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert second["X-Frame-Options"] == "DENY"
    assert "Vary" not in second  # nothing per-visitor: safe to share


def test_a_save_in_this_process_drops_the_cached_page(client: Client) -> None:
    make_vendor("Example Cloud")
    assert "Second Vendor" not in client.get("/sub-processors/").content.decode()
    make_vendor("Second Vendor")
    assert "Second Vendor" in client.get("/sub-processors/").content.decode()


def test_query_strings_and_posts_bypass_the_cache(client: Client) -> None:
    client.get("/sub-processors/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/sub-processors/?utm=x")
    assert len(queries) > 0


def test_entries_expire(client: Client, settings) -> None:
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    client.get("/sub-processors/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/sub-processors/")
    assert len(queries) > 0


def test_the_legal_date_is_part_of_the_key(client: Client) -> None:
    # What is "still in its notice period" changes at midnight in the legal time zone.
    with time_machine.travel("2026-11-23 12:00Z", tick=False):
        client.get("/sub-processors/")
    with (
        time_machine.travel("2026-11-24 12:00Z", tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        client.get("/sub-processors/")
    assert len(queries) > 0


def test_pages_not_marked_public_are_never_cached(client: Client) -> None:
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/readyz")
        client.get("/readyz")
    assert len(queries) == 2
