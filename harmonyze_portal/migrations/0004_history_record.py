"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2). Adding a column with a constant default rewrites no rows; rows written
before are named afterwards by `manage.py name_history_records`, outside any migration."""

from django.db import migrations, models


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
    ]
