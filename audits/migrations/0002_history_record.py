"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2); rows written before are named here."""

from django.db import migrations, models

from harmonyze_portal.history import name_recorded_versions


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalauditfinding",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalauditreport",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalauditrequest",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.RunPython(name_recorded_versions("audits"), migrations.RunPython.noop),
    ]
