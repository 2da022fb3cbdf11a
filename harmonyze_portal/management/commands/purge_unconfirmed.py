"""Hourly, from cron: purge every public submission whose confirmation link expired unused
(PP 4): Notice Form signups (S2), privacy requests (R3) and audit plans (A2), each area's purge
as it registered it (``<area>/retention.py``). The history keeps that each was purged, not the
personal data (``harmonyze_portal.retention``). A second run purges nothing more."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from harmonyze_portal import retention


class Command(BaseCommand):
    help = "Purge public signups, privacy requests and audit plans never confirmed in time."

    def handle(self, *args: Any, **options: Any) -> None:
        for purge, count in retention.run_all(timezone.now()):
            self.stdout.write(f"{count} {purge.what} purged.")
