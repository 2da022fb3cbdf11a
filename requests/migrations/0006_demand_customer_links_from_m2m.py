"""Data: each Customer a demand named becomes a ``DemandCustomer`` link with a history row, so
later additions and removals have a first version to be compared with (H1)."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.utils import timezone

REASON = "Link kept from before links were history-tracked (H1)"
ACTOR = "system: migration"


def copy_links(apps: Any, schema_editor: Any) -> None:
    demand_model = apps.get_model("requests", "LawEnforcementDemand")
    link_model = apps.get_model("requests", "DemandCustomer")
    history_model = apps.get_model("requests", "HistoricalDemandCustomer")
    now = timezone.now()
    for demand in demand_model.objects.order_by("pk"):
        for customer in demand.customers.order_by("pk"):
            link = link_model(demand=demand, customer=customer)
            link.save()
            history_model(
                id=link.pk,
                demand_id=demand.pk,
                customer_id=customer.pk,
                history_date=now,
                history_type="+",
                history_change_reason=REASON,
                history_actor=ACTOR,
                history_record=(
                    f"{customer.legal_name} — {demand.get_legal_process_display()} from "
                    f"{demand.agency} ({demand.received_on})"
                ),
            ).save()


def drop_links(apps: Any, schema_editor: Any) -> None:
    demand_model = apps.get_model("requests", "LawEnforcementDemand")
    link_model = apps.get_model("requests", "DemandCustomer")
    for link in link_model.objects.order_by("pk"):
        demand_model.objects.get(pk=link.demand_id).customers.add(link.customer_id)


class Migration(migrations.Migration):
    dependencies = [("requests", "0005_demand_customers_steps_r4_dates")]

    operations = [migrations.RunPython(copy_links, drop_links)]
