"""Data: store each audit request's A4 final-plan due date (proposed start − 14 days, by
audits.deadlines), with a history row for each request, so the dashboard lists it from the
column instead of re-computing the offset."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.utils import timezone

from audits import deadlines

REASON = "A4: final-plan due date stored"
ACTOR = "system: migration"


def store_final_plan_due(apps: Any, schema_editor: Any) -> None:
    request_model = apps.get_model("audits", "AuditRequest")
    history_model = apps.get_model("audits", "HistoricalAuditRequest")
    columns = [field.attname for field in request_model._meta.concrete_fields]
    now = timezone.now()
    for request in request_model.objects.select_related("customer").order_by("pk"):
        request.final_plan_due = deadlines.final_plan_latest(request.proposed_start)
        request.save(update_fields=["final_plan_due"])
        history_model(
            **{column: getattr(request, column) for column in columns},
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            history_actor=ACTOR,
            history_record=(
                f"Audit request by {request.customer.legal_name} "
                f"({request.received_on or 'unconfirmed'})"
            ),
        ).save()


class Migration(migrations.Migration):
    dependencies = [("audits", "0004_auditrequest_final_plan_due_and_more")]

    operations = [migrations.RunPython(store_final_plan_due, migrations.RunPython.noop)]
