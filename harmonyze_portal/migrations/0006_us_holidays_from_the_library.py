"""T4 revised: the hand-kept holiday list was the US federal one, and it moved the GDPR, UK GDPR
and LGPD deadlines too. Each regime now takes its public holidays from the `holidays` library
(the US laws the US calendar), so the rows that are US holidays there are removed, each with a
"deleted" history row (H1); the other rows stay, as closure days staff added for every regime.
Open deadlines are recomputed after `migrate` by `manage.py recompute_dsr_deadlines` (README)."""

import holidays
from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    PublicHoliday = apps.get_model("harmonyze_portal", "PublicHoliday")
    HistoricalPublicHoliday = apps.get_model("harmonyze_portal", "HistoricalPublicHoliday")
    rows = list(PublicHoliday.objects.all())
    if not rows:
        return
    us = holidays.country_holidays("US", years=sorted({row.date.year for row in rows}))
    for row in rows:
        if row.date not in us:
            continue
        # Migrations use historical models without simple-history's signals (H1).
        HistoricalPublicHoliday.objects.create(
            id=row.id,
            date=row.date,
            name=row.name,
            history_date=timezone.now(),
            history_type="-",
            history_change_reason=(
                f"T4 revised: {us.get(row.date)} is in the US calendar of the holidays library, "
                "which now counts for the US laws only"
            ),
            history_actor="task: migration",
            history_record=f"{row.date:%Y-%m-%d} {row.name}",
        )
        row.delete()


class Migration(migrations.Migration):
    dependencies = [("harmonyze_portal", "0005_create_cache_table")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
