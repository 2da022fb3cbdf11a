"""Create the three staff roles: Privacy counsel, Privacy analyst, Viewer.

Permissions of models added later are granted by the post_migrate sync in
``harmonyze_portal.roles``; this migration gives a fresh database its groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from harmonyze_portal.roles import sync_roles

    # Permissions are normally created after all migrations; create them now so the groups
    # can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)


def remove_roles(apps, schema_editor):
    from harmonyze_portal.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("harmonyze_portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
