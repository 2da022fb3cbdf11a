"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2). Adding a column with a constant default rewrites no rows; rows written
before are named afterwards by `manage.py name_history_records`, outside any migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalassistancerequest",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalbreach",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalbreachnotice",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalcontact",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalcustomerdomain",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicaldeletioncertificate",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicaldpa",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="historicalprohibiteddatafinding",
            name="history_record",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
    ]
