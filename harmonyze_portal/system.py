"""The admin index's "System" section (issue 15): infrastructure in one place, for counsel.

Sign-in lockouts (django-axes), authenticator devices (django-otp), background task results,
and the machinery areas declare (``AreaConfig.system_models``: the R6 view log, raw Notice
deliveries) are not legal work. The index and the navigation list them once, under "System",
and only to counsel and superusers; other staff do not see them there at all. Permissions do
not change here (harmonyze_portal/roles.py decides what each role may open).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from harmonyze_portal.areas import areas
from harmonyze_portal.roles import COUNSEL
from harmonyze_portal.timefmt import staff_datetime

SYSTEM = "System"
SYSTEM_LABEL = "system"

# Third-party apps whose every model is infrastructure, and the names a lawyer reads for them
# (the packages' own verbose names say "TOTP devices", "Task Results", "access failures").
_SYSTEM_APPS = frozenset({"axes", "otp_totp", "otp_static", "django_tasks_database", "admin"})
_READABLE = {
    "axes.accessattempt": "Sign-in lockouts",
    "axes.accesslog": "Sign-in log",
    "axes.accessfailurelog": "Failed sign-ins",
    "otp_totp.totpdevice": "Authenticator apps",
    "otp_static.staticdevice": "Backup code sets",
    "django_tasks_database.dbtaskresult": "Background tasks (emails and jobs)",
    "admin.logentry": "Admin log",
}


def is_system_model(model: type[Any]) -> bool:
    opts = model._meta
    if opts.app_label in _SYSTEM_APPS:
        return True
    return any(
        area.label == opts.app_label and opts.object_name in area.system_models for area in areas()
    )


def sees_system(user: Any) -> bool:
    """Counsel and superusers: the people who unlock accounts and reset devices."""
    return bool(user.is_superuser or user.groups.filter(name=COUNSEL).exists())


def system_name(model: type[Any]) -> str | None:
    return _READABLE.get(model._meta.label_lower)


def regroup(app_list: list[dict[str, Any]], user: Any) -> list[dict[str, Any]]:
    """``app_list`` (the admin's) with the system models moved to one "System" section at the
    end, or dropped for staff who are neither counsel nor superusers."""
    kept: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    for app in app_list:
        models = []
        for entry in app["models"]:
            if is_system_model(entry["model"]):
                name = system_name(entry["model"])
                system.append({**entry, "name": name} if name else entry)
            else:
                models.append(entry)
        if models:
            kept.append({**app, "models": models})
    if system and sees_system(user):
        kept.append(
            {
                "name": SYSTEM,
                "app_label": SYSTEM_LABEL,
                "app_url": reverse("admin:index") + "#system",
                "has_module_perms": True,
                "models": sorted(system, key=lambda entry: str(entry["name"])),
            }
        )
    return kept


def name_lockout_records() -> None:
    """django-axes names its records with ``str(datetime)``, "2026-12-03 07:39:04.026095+00:00"
    in UTC, on the pages and breadcrumbs counsel reads under System. They are named here the
    way the portal writes every time: in the legal time zone, to the minute, zone named."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    def attempt(self: AccessAttempt) -> str:
        return f"Failed sign-ins by {self.username} from {self.ip_address}"

    def failure(self: AccessFailureLog) -> str:
        locked = ", locked out" if self.locked_out else ""
        when = staff_datetime(self.attempt_time)
        return f"Failed sign-in by {self.username} at {when} from {self.ip_address}{locked}"

    def access(self: AccessLog) -> str:
        return f"Sign-in by {self.username} at {staff_datetime(self.attempt_time)}"

    AccessAttempt.__str__ = attempt
    AccessFailureLog.__str__ = failure
    AccessLog.__str__ = access
