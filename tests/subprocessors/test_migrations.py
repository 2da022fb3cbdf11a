"""The data migration of the stored next attempt time (S6), run on a database that holds
deliveries from before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from subprocessors.models import Delivery, Objection, ObjectionChannel

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


@pytest.mark.django_db(transaction=True)
def test_rule_s4_repeated_posts_of_one_link_are_merged_before_the_constraint() -> None:
    """A database holding the same link posted three times (the bug migration 0010 closes) is
    upgraded: one objection stays, the first, with every distinct reason; the later rows are
    deleted with a history row naming the one they were merged into."""
    before = [("subprocessors", "0009_change_s3_access_dated_objection_s4_objection_due")]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("subprocessors")
    try:
        executor = _migrate(before)
        old = executor.loader.project_state(before).apps
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
        signup = old.get_model("subprocessors", "Signup").objects.create(
            email="dpo@acme.com", status="active", confirmed_at=T0
        )
        objection_model = old.get_model("subprocessors", "Objection")
        posts = []
        for minutes, reason in [(0, "We object."), (1, "We object."), (2, "Also: data in the EU.")]:
            posts.append(
                objection_model.objects.create(
                    change=change,
                    signup=signup,
                    channel="notice link",
                    received_at=T0 + timedelta(minutes=minutes),
                    in_time=True,
                    reason=reason,
                ).pk
            )
        by_email = objection_model.objects.create(
            change=change,
            signup=signup,
            channel="email",
            received_at=T0,
            in_time=True,
            reason="Sent by email as well.",
        ).pk

        _migrate(latest)

        kept = Objection.objects.get(channel=ObjectionChannel.NOTICE_LINK)
        assert kept.pk == posts[0]
        assert kept.reason.startswith("We object.")
        assert kept.reason.count("We object.") == 1
        assert "Also: data in the EU." in kept.reason
        assert Objection.objects.filter(pk=by_email).exists()
        gone = Objection.history.filter(history_type="-").order_by("id")
        assert [row.id for row in gone] == posts[1:]
        assert {row.history_change_reason for row in gone} == {
            f"Repeated post of the same Notice link: merged into #{posts[0]}"
        }
        assert gone[1].reason == "Also: data in the EU."  # what was said is kept
    finally:
        _migrate(latest)


BEFORE_COUNTRIES = [("subprocessors", "0013_s7_agreements_locations_transfers")]


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
