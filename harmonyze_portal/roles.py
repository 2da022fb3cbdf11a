"""The three staff roles and what each may do.

Groups are created by a data migration and re-synced after every ``migrate``, so the
permissions of models that later issues add join the right roles without another migration.
"""

from __future__ import annotations

from typing import Any

from harmonyze_portal.areas import portal_apps
from harmonyze_portal.restricted import counsel_only_permissions

COUNSEL = "Privacy counsel"
ANALYST = "Privacy analyst"
VIEWER = "Viewer"
ROLES = (COUNSEL, ANALYST, VIEWER)

# The core's own tables about staff are counsel's, with their history: accounts, calendar
# feeds (token hashes), digest subscriptions and the digests sent. The areas declare theirs on
# their AppConfig (restricted models, counsel-only permissions), read by
# harmonyze_portal.restricted.
_CORE_STAFF_ONLY_MODELS = frozenset(
    {"user", "user_groups", "calendarfeed", "staffpreference", "digestsent"}
)

# Outside the portal's own apps, counsel administers staff accounts (never deletes them:
# users are deactivated), unlocks lockouts and resets lost authenticator devices.
_COUNSEL_EXTRA = frozenset(
    {
        ("auth", "add_user"),
        ("auth", "change_user"),
        ("auth", "view_user"),
        ("auth", "view_group"),
        ("axes", "view_accessattempt"),
        ("axes", "delete_accessattempt"),
        ("axes", "view_accesslog"),
        ("axes", "view_accessfailurelog"),
        ("otp_totp", "view_totpdevice"),
        ("otp_totp", "delete_totpdevice"),
        ("otp_static", "view_staticdevice"),
        ("otp_static", "delete_staticdevice"),
        ("django_tasks_database", "view_dbtaskresult"),
        ("admin", "view_logentry"),
    }
)


def grants(role: str, app_label: str, codename: str) -> bool:
    """Whether ``role`` holds the permission ``app_label.codename``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    action, _, model = codename.partition("_")
    if model.startswith("historical") and action != "view":
        # History is evidence (H1): nobody edits or deletes it, whatever their role.
        return False
    if (app_label, model) == ("harmonyze_portal", "historyseal") and action != "view":
        # Seals are written by seal_history alone (H3): a seal anyone could edit proves nothing.
        return False
    if (app_label, model) == ("harmonyze_portal", "historyredaction") and action != "view":
        # Redactions are written by the PP 4 purge alone, in its transaction (H3).
        return False
    if (app_label, model) == ("harmonyze_portal", "evidencepack") and action in {
        "change",
        "delete",
    }:
        # A built pack is evidence handed to an auditor: never edited, never deleted.
        return False
    if role == COUNSEL:
        return app_label in portal_apps() or (app_label, codename) in _COUNSEL_EXTRA
    if app_label not in portal_apps():
        return False
    if app_label == "harmonyze_portal" and model.removeprefix("historical") in (
        _CORE_STAFF_ONLY_MODELS
    ):
        return False
    if (app_label, codename) in counsel_only_permissions():
        return False
    if role == ANALYST:
        if (app_label, codename) == ("harmonyze_portal", "add_evidencepack"):
            return True  # analysts build evidence packs (without R6 demands: the model refuses)
        if app_label == "harmonyze_portal":
            # Holidays and other shared settings move deadlines: counsel changes them.
            return action == "view"
        return action != "delete"
    return action in {"view", "export"}  # VIEWER


def sync_roles(apps: Any) -> None:
    """Create the three groups and give each exactly the permissions :func:`grants` allows."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    permissions = list(permission_model.objects.select_related("content_type").order_by("pk"))
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(
            [
                perm
                for perm in permissions
                if grants(role, perm.content_type.app_label, perm.codename)
            ]
        )


def sync_roles_after_migrate(sender: Any, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate fires once per installed app, and each app's permissions are created in its
    own turn, so sync once, after the last app."""
    from django.apps import apps as global_apps

    # Only apps with a models module receive the signal.
    last_app = [app for app in global_apps.get_app_configs() if app.models_module][-1]
    if getattr(sender, "name", None) != last_app.name:
        return
    # `migrate` passes the migrated state's registry; `flush` (tests) passes none.
    sync_roles(apps or global_apps)
