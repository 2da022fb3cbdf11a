"""Data migration for structured processing locations (DOMAIN.md S7, issue 14).

Until now a sub-processor's locations were free text only; that text stays as it was (the
public list still shows it). Where the text names the United States, the sub-processor gets a
United States processing location, which needs no transfer mechanism. Other countries are not
guessed: each needs a transfer mechanism, which only staff can say, and the dashboard lists
every sub-processor on the list without a processing country until staff add them. Every
write leaves a history row.
"""

import re

from django.db import migrations
from django.utils import timezone

ACTOR = "migration: processing locations (issue 14)"
US_WORDS = re.compile(r"\bunited states\b|\bU\.?S\.?A?\b(?!\w)", re.IGNORECASE)


def us_locations(apps, schema_editor):
    SubProcessor = apps.get_model("subprocessors", "SubProcessor")
    ProcessingLocation = apps.get_model("subprocessors", "ProcessingLocation")
    History = apps.get_model("subprocessors", "HistoricalProcessingLocation")
    for sp in SubProcessor.objects.order_by("pk"):
        if not US_WORDS.search(sp.locations or ""):
            continue
        location, created = ProcessingLocation.objects.get_or_create(
            subprocessor=sp, country="US", defaults={"transfer_mechanism": ""}
        )
        if not created:
            continue
        History.objects.create(
            id=location.pk,
            subprocessor_id=sp.pk,
            country="US",
            transfer_mechanism="",
            details="",
            history_date=timezone.now(),
            history_type="+",
            history_change_reason=f"From the free-text locations: {sp.locations}",
            history_actor=ACTOR,
            history_record=f"{sp.name}: United States of America",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("subprocessors", "0013_s7_agreements_locations_transfers"),
    ]

    operations = [
        migrations.RunPython(us_locations, migrations.RunPython.noop),
    ]
