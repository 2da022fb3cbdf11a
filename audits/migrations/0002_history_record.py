"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2). Adding a column with a constant default rewrites no rows; rows written
before are named afterwards by `manage.py name_history_records`, outside any migration."""

from django.db import migrations, models


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
    ]
