"""The areas of the portal and what each declares to the core.

An area (``customers``, ``subprocessors``, ...) is an installed app whose AppConfig subclasses
:class:`AreaConfig`. The core imports no area: it reads these declarations, and finds an area's
modules by name (``<area>/demo.py`` for ``seed_demo``), the way the admin autodiscovers
``admin.py``. A new area is a new app with an ``AreaConfig``; nothing in the core changes.
"""

from __future__ import annotations

from django.apps import AppConfig, apps


class AreaConfig(AppConfig):
    """Subclass it in ``<area>/apps.py`` as ``areas.AreaConfig`` (import the module, not the
    class: Django picks an app's config automatically only when apps.py holds exactly one)."""

    # Public pages this area offers, listed on the landing page: (url name, title, summary).
    public_links: tuple[tuple[str, str, str], ...] = ()
    # Models of this app (class names) that are counsel's alone (DOMAIN.md R6): every permission
    # on them and on their history is withheld from the other roles, their history export needs
    # ``restricted_history_permission`` too, and outside the portal they are only counted.
    restricted_models: tuple[str, ...] = ()
    # Further permission codenames of this app that only counsel holds.
    counsel_only_permissions: tuple[str, ...] = ()
    # Codename (in this app) also needed to export the history of a restricted model; with
    # none declared, nobody but a superuser exports it.
    restricted_history_permission: str = ""
    # Models of this app that are machinery rather than legal work (a log of who viewed what,
    # raw email deliveries): the admin index lists them under "System", for counsel only.
    system_models: tuple[str, ...] = ()


def areas() -> list[AreaConfig]:
    """The installed areas, in INSTALLED_APPS order."""
    return [config for config in apps.get_app_configs() if isinstance(config, AreaConfig)]


def portal_apps() -> frozenset[str]:
    """The labels of the portal's own apps: the core and every area."""
    return frozenset({"harmonyze_portal", *(area.label for area in areas())})
