"""Data migration for the 15-day gate (DOMAIN.md S3, issue 11).

From the next migration the database refuses a sub-processor with an access date unless a
published change for it has an earliest access date on or before that access date. Rows written
before the gate was enforced (a sub-processor activated in the admin, or on the list before the
portal recorded Notices) would stop the migration. Each such row gets a published change that
says what it is, a record made at the upgrade with no Notice in the portal, whose Notice date is
15 days before the recorded access date, so the row keeps its place on the public list. Nothing
is sent. Counsel can find these changes by their summary. Every write leaves a history row.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations
from django.utils import timezone

ACTOR = "migration: 15-day gate (issue 11)"
NOTICE_DAYS = 15
SUMMARY = (
    "Recorded at the upgrade that enforces the 15-day gate (S3): {name} was on the list, with "
    "access from {began}, before the portal recorded its Notice. No Notice of this change is on "
    "record in the portal; the Notice date shown is 15 days before the recorded access date."
)


def _history(apps, model_name, instance, kind, reason):
    history_model = apps.get_model("subprocessors", f"Historical{model_name}")
    columns = {field.attname for field in history_model._meta.concrete_fields}
    values = {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname in columns
    }
    history_model.objects.create(
        **values,
        history_date=timezone.now(),
        history_type=kind,
        history_change_reason=reason,
        history_actor=ACTOR,
        history_record=str(getattr(instance, "name", "") or f"Change #{instance.pk}"),
    )


def admit_listed(apps, schema_editor):
    SubProcessor = apps.get_model("subprocessors", "SubProcessor")
    Change = apps.get_model("subprocessors", "Change")
    zone = ZoneInfo(settings.TIME_ZONE)
    for sp in SubProcessor.objects.filter(access_began_on__isnull=False).order_by("pk"):
        latest = (
            Change.objects.filter(subprocessor=sp, status="published")
            .order_by("-published_at", "-pk")
            .first()
        )
        gate = latest.earliest_access_on if latest else None
        if gate is None or gate > sp.access_began_on:
            notice_on = sp.access_began_on - timedelta(days=NOTICE_DAYS)
            published_at = datetime.combine(notice_on, time.min, tzinfo=zone)
            if latest is not None and latest.published_at >= published_at:
                # Must be the latest published change, which the gate reads.
                published_at = latest.published_at + timedelta(seconds=1)
            change = Change.objects.create(
                kind="addition",
                subprocessor=sp,
                summary=SUMMARY.format(name=sp.name, began=sp.access_began_on.isoformat()),
                status="published",
                published_at=published_at,
                notice_date=notice_on,
                earliest_access_on=sp.access_began_on,
            )
            _history(apps, "Change", change, "+", "Recorded at the upgrade (S3)")
            gate = sp.access_began_on
        if sp.earliest_access_on != gate:
            sp.earliest_access_on = gate
            sp.save(update_fields=["earliest_access_on"])
            _history(apps, "SubProcessor", sp, "~", "Earliest access date from its change (S3)")


class Migration(migrations.Migration):
    dependencies = [
        ("subprocessors", "0003_history_record"),
    ]

    operations = [
        migrations.RunPython(admit_listed, migrations.RunPython.noop),
    ]
