"""Once after `migrate` (T4 revised) and after each upgrade of the holidays library: recompute
the deadlines of every open data subject request, each that moves with a history row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonyze_portal.wording import counted
from requests.services import dsr_recompute_open_deadlines


class Command(BaseCommand):
    help = "Recompute the stored deadlines of open data subject requests (T4, R3)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reason",
            default="Recomputed: holiday calendars updated (T4)",
            help="The change reason each moved request's history row records.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        moved = dsr_recompute_open_deadlines(reason=options["reason"])
        self.stdout.write(f"{counted(moved, 'open request')} had their deadlines moved.")
