"""Demo data for a local portal: idempotent, grows with each area."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from harmonyze_portal.history import acting_as
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.roles import ANALYST, COUNSEL, VIEWER

DEMO_STAFF = (
    ("counsel", "Casey", "Counsel", COUNSEL),
    ("analyst", "Alex", "Analyst", ANALYST),
    ("viewer", "Vic", "Viewer", VIEWER),
)

# US federal holidays as observed in 2026 and 2027 (T4); counsel edits the list in the admin.
DEMO_HOLIDAYS = (
    (date(2026, 1, 1), "New Year's Day"),
    (date(2026, 1, 19), "Birthday of Martin Luther King, Jr."),
    (date(2026, 2, 16), "Washington's Birthday"),
    (date(2026, 5, 25), "Memorial Day"),
    (date(2026, 6, 19), "Juneteenth National Independence Day"),
    (date(2026, 7, 3), "Independence Day (observed)"),
    (date(2026, 9, 7), "Labor Day"),
    (date(2026, 10, 12), "Columbus Day"),
    (date(2026, 11, 11), "Veterans Day"),
    (date(2026, 11, 26), "Thanksgiving Day"),
    (date(2026, 12, 25), "Christmas Day"),
    (date(2027, 1, 1), "New Year's Day"),
    (date(2027, 1, 18), "Birthday of Martin Luther King, Jr."),
    (date(2027, 2, 15), "Washington's Birthday"),
    (date(2027, 5, 31), "Memorial Day"),
    (date(2027, 6, 18), "Juneteenth National Independence Day (observed)"),
    (date(2027, 7, 5), "Independence Day (observed)"),
    (date(2027, 9, 6), "Labor Day"),
    (date(2027, 10, 11), "Columbus Day"),
    (date(2027, 11, 11), "Veterans Day"),
    (date(2027, 11, 25), "Thanksgiving Day"),
    (date(2027, 12, 24), "Christmas Day (observed)"),
)


class Command(BaseCommand):
    help = "Load demo data and the three demo staff users (idempotent; local use only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo users new passwords and print them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates demo accounts with printed passwords; it runs only with DEBUG=1."
            )
        with transaction.atomic(), acting_as("task: seed demo data", reason="Demo data"):
            printed = self._staff(reset=options["reset_passwords"])
            added = self._holidays()
        self.stdout.write(f"Demo data ready ({added} holidays added).")
        if printed:
            self.stdout.write("Demo staff logins (shown once; --reset-passwords prints new ones):")
            for username, role, password in printed:
                self.stdout.write(f"  {username:<8} {password}   ({role})")

    def _staff(self, *, reset: bool) -> list[tuple[str, str, str]]:
        user_model = get_user_model()
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
        return printed

    def _holidays(self) -> int:
        added = 0
        for day, name in DEMO_HOLIDAYS:
            _, created = PublicHoliday.objects.get_or_create(date=day, defaults={"name": name})
            added += created
        return added
