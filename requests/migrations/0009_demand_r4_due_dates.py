"""Data: store each demand's R4 customer-notice and order-review due dates (revised R4), with a
history row for each demand whose dates are set, so the dashboard lists them from the start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations
from django.utils import timezone

from requests import deadlines

REASON = "R4 revised: customer notice and order review dates computed"
ACTOR = "system: migration"


def store_due_dates(apps: Any, schema_editor: Any) -> None:
    demand_model = apps.get_model("requests", "LawEnforcementDemand")
    history_model = apps.get_model("requests", "HistoricalLawEnforcementDemand")
    columns = [field.attname for field in demand_model._meta.concrete_fields]
    now = timezone.now()
    for demand in demand_model.objects.order_by("pk"):
        demand.customer_notice_due_on = deadlines.customer_notice_due(
            received=demand.received_on,
            compelled=demand.compelled,
            nondisclosure_order=demand.nondisclosure_order,
            order_ends=demand.nondisclosure_order_ends,
        )
        demand.order_review_due_on = deadlines.order_review_due(
            nondisclosure_order=demand.nondisclosure_order,
            order_starts=demand.nondisclosure_order_starts,
            order_ends=demand.nondisclosure_order_ends,
            last_review=None,
            review_days=settings.NDO_REVIEW_DAYS,
        )
        if demand.customer_notice_due_on is None and demand.order_review_due_on is None:
            continue
        demand.save(update_fields=["customer_notice_due_on", "order_review_due_on"])
        history_model(
            **{column: getattr(demand, column) for column in columns},
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            history_actor=ACTOR,
            history_record=(
                f"{demand.get_legal_process_display()} from {demand.agency} "
                f"({demand.received_on})"
            ),
        ).save()


class Migration(migrations.Migration):
    dependencies = [("requests", "0008_customers_through_tracked_links")]

    operations = [migrations.RunPython(store_due_dates, migrations.RunPython.noop)]
