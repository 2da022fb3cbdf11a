"""Hourly, from cron: delete audit plans from the public form whose confirmation link expired
unused, with their uploaded files (A2, PP 4). Their history stays (H1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from audits.services import plan_purge_unconfirmed
from harmonyze_portal.wording import counted


class Command(BaseCommand):
    help = "Delete public audit plans never confirmed before their link expired, with their files."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = plan_purge_unconfirmed(now=timezone.now())
        self.stdout.write(f"{counted(purged, 'unconfirmed audit plan')} purged.")
