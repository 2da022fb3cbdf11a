"""The C5 data migration (customers 0006), run on a database that holds breach notices from
before each notice was its own record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from customers.models import BreachMessage, BreachNotice
from tests.customers.builders import make_customer

BEFORE = [("customers", "0005_breach_notices_remediation_order_form")]
AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_rule_c5_each_earlier_notified_at_becomes_a_first_notice_with_history() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        executor = _migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        acme = make_customer("Acme Analytics GmbH")
        globex = make_customer("Globex Corporation Ltd")
        breach = old.get_model("customers", "Breach")(
            title="Misconfigured export bucket",
            aware_at=AWARE,
            description="Readable for six hours.",
            data_categories="Names",
        )
        breach.save()
        notice = old.get_model("customers", "BreachNotice")
        notice(
            breach_id=breach.pk,
            customer_id=acme.pk,
            notice_due_at=AWARE + timedelta(hours=72),
            notified_at=AWARE + timedelta(hours=73),
            notified_to="privacy@acme.com",
            message_id="<breach-notice-1@harmonyze.com>",
        ).save()
        notice(
            breach_id=breach.pk, customer_id=globex.pk, notice_due_at=AWARE + timedelta(hours=72)
        ).save()

        _migrate(latest)

        message = BreachMessage.objects.get()
        assert message.affected.customer_id == acme.pk
        assert (message.kind, message.from_upgrade) == ("first", True)
        assert (message.sent_at, message.queued_at) == ((AWARE + timedelta(hours=73),) * 2)
        assert (message.sent_to, message.message_id) == (
            "privacy@acme.com",
            "<breach-notice-1@harmonyze.com>",
        )
        assert "its text was not kept" in message.body
        assert message.is_late is True, "still judged late against the target"
        row = message.history.get()
        assert row.history_actor == "migration: several breach notices (issue 14)"
        assert row.history_record == (
            "First notice: Misconfigured export bucket → Acme Analytics GmbH"
        )
        assert list(BreachNotice.objects.pending().values_list("customer", flat=True)) == [
            globex.pk
        ]
    finally:
        _migrate(latest)
