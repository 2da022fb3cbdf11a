"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2); rows written before are named here."""

from django.db import migrations, models

from harmonyze_portal.history import name_recorded_versions


class Migration(migrations.Migration):
    dependencies = [
        ("requests", "0003_demand_view_protect"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaldatasubjectrequest",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicaldemandview",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicallawenforcementdemand",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalregime",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.RunPython(name_recorded_versions("requests"), migrations.RunPython.noop),
    ]
