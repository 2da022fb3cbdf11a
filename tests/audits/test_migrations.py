"""The A4 data migration, run on a database that holds audit requests from before the stored
final-plan due date."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audits.models import AuditRequest
from tests.customers.builders import make_customer

BEFORE = [("audits", "0003_additional_ground_has_evidence")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_rule_a4_existing_requests_get_their_final_plan_due_date_with_a_history_row() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("audits")
    try:
        executor = _migrate(BEFORE)
        acme = make_customer("Acme Analytics GmbH")
        old_apps = executor.loader.project_state(BEFORE).apps
        old_apps.get_model("audits", "AuditRequest")(
            customer_id=acme.pk,
            submitted_by_name="Dana Privacy",
            submitted_by_email="privacy@acme.com",
            status="negotiation",
            scope="Access control",
            proposed_start=date(2028, 3, 14),
            duration_days=3,
            auditor_firm="Audit & Co",
            received_on=date(2028, 1, 5),
        ).save()

        _migrate(latest)

        migrated = AuditRequest.objects.get()
        assert migrated.final_plan_due == date(2028, 2, 29)
        stored = migrated.history.get()  # type: ignore[attr-defined]
        assert (stored.final_plan_due, stored.history_actor) == (
            date(2028, 2, 29),
            "system: migration",
        )
        assert stored.history_change_reason == "A4: final-plan due date stored"
        assert stored.history_record == "Audit request by Acme Analytics GmbH (2028-01-05)"
        assert list(AuditRequest.objects.final_plan_open()) == [migrated]
    finally:
        _migrate(latest)
