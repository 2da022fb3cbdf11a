from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The Django admin, with the portal's site (two-factor check, dashboard title)."""

    default_site = "harmonyze_portal.sites.PortalAdminSite"


class PortalConfig(AppConfig):
    name = "harmonyze_portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from harmonyze_portal import history, roles, sessions, system  # noqa: F401

        system.name_lockout_records()

        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="harmonyze-roles")
        # Each area's deadline sources and coverage warnings, the way the admin finds admin.py.
        autodiscover_modules("desk")
        # Each area's sections of the customer page (customer_page.py).
        autodiscover_modules("hub")
        # Each area's purge of expired public submissions (PP 4), run by purge_unconfirmed.
        autodiscover_modules("retention")
        # Each area's rule events for the compliance matrix.
        autodiscover_modules("compliance")
        # The evidence packs' admin builds on TrackedAdmin, so admin.py cannot import it back.
        from harmonyze_portal import admin_evidence  # noqa: F401
