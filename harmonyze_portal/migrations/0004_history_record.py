"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2); rows written before are named here."""

from django.db import migrations, models

from harmonyze_portal.history import name_recorded_versions


class Migration(migrations.Migration):
    dependencies = [
        ("harmonyze_portal", "0003_calendar_feed_digest"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalcalendarfeed",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicaldigestsent",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalpublicholiday",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalstaffpreference",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicaluser",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.RunPython(name_recorded_versions("harmonyze_portal"), migrations.RunPython.noop),
    ]
