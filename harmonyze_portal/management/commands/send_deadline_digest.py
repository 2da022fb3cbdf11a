"""Daily, from cron: email each opted-in staff member their overdue and this week's deadlines."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonyze_portal.clock import legal_today
from harmonyze_portal.digest import send_digests
from harmonyze_portal.wording import counted


class Command(BaseCommand):
    help = "Queue the daily deadline digest for opted-in staff (once per legal day)."

    def handle(self, *args: Any, **options: Any) -> None:
        today = legal_today()
        queued = send_digests(today)
        self.stdout.write(f"{counted(queued, 'digest')} queued for {today:%Y-%m-%d}.")
