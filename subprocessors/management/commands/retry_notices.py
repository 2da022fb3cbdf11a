"""Cron: retry Notice deliveries whose back-off has passed (S6), whatever the task backend.

A backend that cannot defer (or a worker that died) leaves queued deliveries behind; this
re-enqueues their change, and the task's per-delivery lock keeps it exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from subprocessors.models import Delivery, DeliveryStatus
from subprocessors.tasks import send_change_notices


def due_for_retry(attempts: int, last_attempt_at: datetime | None, queued_at: datetime) -> datetime:
    """When a queued delivery may be tried again: NOTICE_RETRY_MINUTES after it was queued,
    then doubled after each failed attempt."""
    if attempts == 0 or last_attempt_at is None:
        return queued_at + timedelta(minutes=settings.NOTICE_RETRY_MINUTES)
    return last_attempt_at + timedelta(minutes=settings.NOTICE_RETRY_MINUTES * 2 ** (attempts - 1))


def changes_due(now: datetime) -> list[int]:
    rows = Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list(
        "change_id", "attempts", "last_attempt_at", "queued_at"
    )
    return sorted(
        {
            change_id
            for change_id, attempts, last_attempt_at, queued_at in rows
            if due_for_retry(attempts, last_attempt_at, queued_at) <= now
        }
    )


class Command(BaseCommand):
    help = "Enqueue the Notice task for every change with deliveries due for a retry (S6)."

    def handle(self, *args: Any, **options: Any) -> None:
        change_ids = changes_due(timezone.now())
        for change_id in change_ids:
            send_change_notices.enqueue(change_id=change_id)
        self.stdout.write(f"Enqueued the Notice task for {len(change_ids)} change(s).")
