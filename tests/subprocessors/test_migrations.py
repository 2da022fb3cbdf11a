"""The data migration of the stored next attempt time (S6), run on a database that holds
deliveries from before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from subprocessors.models import Delivery

BEFORE = [("subprocessors", "0006_delivery_next_attempt_at")]
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_rule_s6_queued_deliveries_get_the_time_the_cron_computed(settings: Any) -> None:
    settings.NOTICE_RETRY_MINUTES = 5
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("subprocessors")
    try:
        executor = _migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        subprocessor = old.get_model("subprocessors", "SubProcessor").objects.create(
            name="Mailgun", purpose="Email", locations="United States", data_categories="Emails"
        )
        change = old.get_model("subprocessors", "Change").objects.create(
            kind="addition",
            subprocessor=subprocessor,
            summary="Harmonyze intends to add Mailgun.",
            status="published",
            published_at=T0,
        )
        signup_model = old.get_model("subprocessors", "Signup")
        delivery_model = old.get_model("subprocessors", "Delivery")
        rows = {}
        for email, status, attempts in [
            ("never@acme.com", "queued", 0),
            ("twice@acme.com", "queued", 2),
            ("gone@acme.com", "failed", 5),
        ]:
            signup = signup_model.objects.create(email=email, status="active", confirmed_at=T0)
            row = delivery_model.objects.create(
                change=change,
                signup=signup,
                status=status,
                attempts=attempts,
                last_attempt_at=T0 + timedelta(minutes=30) if attempts else None,
            )
            # queued_at is auto_now_add: set it as an old row would have it.
            delivery_model.objects.filter(pk=row.pk).update(queued_at=T0)
            rows[email] = row.pk

        _migrate(latest)

        stored = {email: Delivery.objects.get(pk=pk).next_attempt_at for email, pk in rows.items()}
        assert stored == {
            "never@acme.com": T0 + timedelta(minutes=5),
            "twice@acme.com": T0 + timedelta(minutes=30 + 10),
            "gone@acme.com": None,
        }
        history = Delivery.history.filter(history_change_reason="Next attempt time stored (S6)")
        assert sorted(h.id for h in history) == sorted(
            [rows["never@acme.com"], rows["twice@acme.com"]]
        )
        assert {h.history_actor for h in history} == {"migration: next attempt time (issue 12)"}
    finally:
        _migrate(latest)


BEFORE_COUNTRIES = [("subprocessors", "0012_s7_agreements_locations_transfers")]


@pytest.mark.django_db(transaction=True)
def test_rule_s7_the_free_text_stays_and_the_us_becomes_a_location() -> None:
    """Issue 14: the free-text locations stay readable; the United States is recognised, other
    countries are not guessed (each needs a transfer mechanism only staff can name)."""
    from subprocessors.locations import ProcessingLocation
    from subprocessors.models import SubProcessor

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("subprocessors")
    try:
        executor = _migrate(BEFORE_COUNTRIES)
        old = executor.loader.project_state(BEFORE_COUNTRIES).apps
        model = old.get_model("subprocessors", "SubProcessor")
        for name, text in [
            ("AWS", "United States (Virginia), Ireland (Dublin)"),
            ("Sendgrid", "USA"),
            ("Cloudflare", "Global edge network"),
            ("Snowflake", "Ireland (Dublin)"),
        ]:
            model.objects.create(name=name, purpose="x", locations=text, data_categories="y")

        _migrate(latest)

        assert SubProcessor.objects.get(name="AWS").locations == (
            "United States (Virginia), Ireland (Dublin)"
        )
        assert sorted(ProcessingLocation.objects.values_list("subprocessor__name", "country")) == [
            ("AWS", "US"),
            ("Sendgrid", "US"),
        ]
        history = ProcessingLocation.history.all()
        assert {h.history_actor for h in history} == {"migration: processing locations (issue 14)"}
        assert history.count() == 2
    finally:
        _migrate(latest)
