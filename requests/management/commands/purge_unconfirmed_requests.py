"""Hourly, from cron: delete public privacy requests whose confirmation link expired unused
(R3, PP 4). Their history stays (H1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from harmonyze_portal.wording import counted
from requests.services import dsr_purge_unconfirmed


class Command(BaseCommand):
    help = "Delete public privacy requests never confirmed before their link expired."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = dsr_purge_unconfirmed(now=timezone.now())
        self.stdout.write(f"{counted(purged, 'unconfirmed privacy request')} purged.")
