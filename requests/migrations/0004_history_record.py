"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2). Adding a column with a constant default rewrites no rows; rows written
before are named afterwards by `manage.py name_history_records`, outside any migration."""

from django.db import migrations, models


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
    ]
