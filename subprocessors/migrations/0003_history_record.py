"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2); rows written before are named here."""

from django.db import migrations, models

from harmonyze_portal.history import name_recorded_versions


class Migration(migrations.Migration):
    dependencies = [
        ("subprocessors", "0002_subprocessor_verbose_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalchange",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicaldelivery",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalobjection",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalsignup",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalsubprocessor",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.RunPython(name_recorded_versions("subprocessors"), migrations.RunPython.noop),
    ]
