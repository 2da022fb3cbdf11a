"""Each history row keeps the name its record had, so exports name records without rebuilding
them (DOMAIN.md H2). Adding a column with a constant default rewrites no rows; rows written
before are named afterwards by `manage.py name_history_records`, outside any migration."""

from django.db import migrations, models


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
    ]
