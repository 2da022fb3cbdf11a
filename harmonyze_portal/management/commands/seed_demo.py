"""Demo data for a local portal: idempotent, grows with each area.

The command seeds what the core owns (the demo staff, one per role, and the closure days of
the holiday calendars), then calls each area's ``<area>/demo.py`` in INSTALLED_APPS order, so
an area's demo data lives in the area and a later area can rely on an earlier one's rows
(``customers`` comes first). The protocol, :class:`AreaDemo`: a module-level function

    def seed(*, now: datetime, today: date, staff: Mapping[str, User]) -> str

that adds what is missing, looked up by natural keys so that a second run adds nothing, and
returns what it added for the summary line ("5 customers added"). ``now`` is the run's UTC
instant, ``today`` its legal date (T1), ``staff`` the demo users by username. It runs inside
the command's transaction, its writes recorded as the seed task's, with a reason (H1).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from harmonyze_portal.areas import areas
from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import acting_as
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.roles import ANALYST, COUNSEL, VIEWER

DEMO_STAFF = (
    ("counsel", "Casey", "Counsel", COUNSEL),
    ("analyst", "Alex", "Analyst", ANALYST),
    ("viewer", "Vic", "Viewer", VIEWER),
)

# Closure days staff add (T4): each regime's public holidays come from the holidays library;
# these are Harmonyze's own, on top, for every regime.
DEMO_HOLIDAYS = (
    (date(2026, 12, 24), "Office closed: Christmas Eve"),
    (date(2026, 12, 31), "Office closed: New Year's Eve"),
    (date(2027, 12, 31), "Office closed: New Year's Eve"),
)


class AreaDemo(Protocol):
    """The ``seed`` function of an area's ``demo`` module (see the module docstring)."""

    def __call__(self, *, now: datetime, today: date, staff: Mapping[str, Any]) -> str: ...


def area_demos() -> list[tuple[str, AreaDemo]]:
    """``(app label, seed)`` of every area that has a ``demo`` module, in INSTALLED_APPS order."""
    demos: list[tuple[str, AreaDemo]] = []
    for area in areas():
        if module_has_submodule(area.module, "demo"):
            demos.append((area.label, import_module(f"{area.name}.demo").seed))
    return demos


class Command(BaseCommand):
    help = "Load demo data and the three demo staff users (idempotent; local use only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo users new passwords and print them.",
        )
        parser.add_argument(
            "--logins-to",
            metavar="PATH",
            help="Write the logins to this file instead of printing them (`make run` prints "
            "them last, after everything else the run prints).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates demo accounts with printed passwords; it runs only with DEBUG=1."
            )
        now = timezone.now()
        today = legal_date(now, settings.TIME_ZONE)
        with transaction.atomic(), acting_as("task: seed demo data", reason="Demo data"):
            staff, printed = self._staff(reset=options["reset_passwords"])
            added = [f"{self._holidays()} holidays added"]
            for _, seed in area_demos():
                added.append(seed(now=now, today=today, staff=staff))
        self.stdout.write(f"Demo data ready ({', '.join(added)}).")
        if not printed:
            self.stdout.write(
                "The demo staff already exist and keep their passwords; "
                "`make demo-passwords` (seed_demo --reset-passwords) prints new ones."
            )
            return
        lines = ["Demo staff logins (shown once; --reset-passwords prints new ones):"] + [
            f"  {username:<8} {password}   ({role})" for username, role, password in printed
        ]
        if options.get("logins_to"):
            Path(options["logins_to"]).write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            self.stdout.write("\n".join(lines))

    def _staff(self, *, reset: bool) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        user_model = get_user_model()
        staff = {}
        printed = []
        for username, first, last, role in DEMO_STAFF:
            user = user_model.objects.filter(username=username).first()
            created = user is None
            if user is None:
                user = user_model(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@demo.harmonyze.com",
                    is_staff=True,
                )
            if created or reset:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save()
                printed.append((username, role, password))
            user.groups.add(Group.objects.get(name=role))
            staff[username] = user
        return staff, printed

    def _holidays(self) -> int:
        added = 0
        for day, name in DEMO_HOLIDAYS:
            _, created = PublicHoliday.objects.get_or_create(date=day, defaults={"name": name})
            added += created
        return added
