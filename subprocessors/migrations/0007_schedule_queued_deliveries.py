"""Data migration for the stored next attempt time (DOMAIN.md S6, issue 12).

Until now the cron computed each queued delivery's back-off in Python; from here it is stored
in ``Delivery.next_attempt_at`` and the next migration makes the database refuse a queued
delivery without one. Each queued row gets the time the old computation gave (the formula is
copied, as a migration must not follow later edits of ``subprocessors.deadlines``); sent and
failed rows keep none. One save() per row, each with its history row (H1).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

ACTOR = "migration: next attempt time (issue 12)"
REASON = "Next attempt time stored (S6)"


def _next_attempt(delivery, retry_minutes):
    if delivery.attempts == 0 or delivery.last_attempt_at is None:
        return delivery.queued_at + timedelta(minutes=retry_minutes)
    return delivery.last_attempt_at + timedelta(minutes=retry_minutes * 2 ** (delivery.attempts - 1))


def _history(apps, delivery):
    history_model = apps.get_model("subprocessors", "HistoricalDelivery")
    columns = {field.attname for field in history_model._meta.concrete_fields}
    values = {
        field.attname: getattr(delivery, field.attname)
        for field in delivery._meta.concrete_fields
        if field.attname in columns
    }
    # history_record stays blank: `manage.py name_history_records` names it (migration 0003).
    history_model.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=REASON,
        history_actor=ACTOR,
    )


def schedule_queued(apps, schema_editor):
    Delivery = apps.get_model("subprocessors", "Delivery")
    retry_minutes = settings.NOTICE_RETRY_MINUTES
    for delivery in Delivery.objects.filter(status="queued", next_attempt_at__isnull=True).order_by(
        "pk"
    ):
        delivery.next_attempt_at = _next_attempt(delivery, retry_minutes)
        delivery.save(update_fields=["next_attempt_at"])
        _history(apps, delivery)


class Migration(migrations.Migration):
    dependencies = [
        ("subprocessors", "0006_delivery_next_attempt_at"),
    ]

    operations = [
        migrations.RunPython(schedule_queued, migrations.RunPython.noop),
    ]
