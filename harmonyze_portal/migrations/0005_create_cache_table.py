"""Create the database cache table on `migrate`, so no deployment can skip it.

The public forms' rate limits count in the cache; with the database cache and no table, every
public form post answered 500. This runs `createcachetable` for the database being migrated:
it creates the table of each configured database cache that is missing, and does nothing when
the cache is Redis (`REDIS_URL`) or the table exists. Switching to the database cache later:
run `manage.py createcachetable` once (this migration has run by then).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("harmonyze_portal", "0004_history_record"),
    ]

    # Unapplying keeps the table: it holds only disposable cache entries.
    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=False)
    ]
