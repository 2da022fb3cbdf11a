"""The data migrations of the revised R4 and of H1's tracked links, run on a database that
holds demands from before them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from requests.models import DemandCustomer, LawEnforcementDemand
from tests.customers.builders import make_customer

BEFORE = [("requests", "0004_history_record")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_links_are_kept_as_tracked_records_and_due_dates_are_stored() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("requests")
    try:
        executor = _migrate(BEFORE)
        acme = make_customer("Acme Analytics GmbH")
        old_apps = executor.loader.project_state(BEFORE).apps
        demand = old_apps.get_model("requests", "LawEnforcementDemand")(
            agency="U.S. Department of Justice",
            country="United States",
            legal_process="court_order",
            received_on=date(2026, 1, 2),
            data_sought="Login records",
            compelled=True,
            nondisclosure_order=True,
            nondisclosure_order_starts=date(2026, 1, 5),
            nondisclosure_order_ends=date(2026, 5, 14),
        )
        demand.save()
        demand.customers.add(acme.pk)

        _migrate(latest)

        migrated = LawEnforcementDemand.objects.get()
        assert list(migrated.customers.all()) == [acme]
        link = DemandCustomer.history.get()
        assert (link.history_type, link.customer_id, link.history_actor) == (
            "+",
            acme.pk,
            "system: migration",
        )
        assert link.history_record.startswith("Acme Analytics GmbH — Court order from U.S.")
        assert migrated.customer_notice_due_on == date(2026, 5, 15)
        stored = migrated.history.get()
        assert stored.customer_notice_due_on == date(2026, 5, 15)
        assert "R4 revised" in stored.history_change_reason
    finally:
        _migrate(latest)
