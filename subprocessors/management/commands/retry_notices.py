"""Cron: retry Notice deliveries whose back-off has passed (S6), whatever the task backend.

A backend that cannot defer (or a worker that died) leaves queued deliveries behind; this
re-enqueues their change, and the task's per-delivery lock keeps it exactly once. Each
delivery stores when it is due (``Delivery.next_attempt_at``): this is one indexed query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from subprocessors.models import Delivery
from subprocessors.tasks import send_change_notices


def changes_due(now: datetime) -> list[int]:
    due = Delivery.objects.due_for_attempt(now).order_by().values_list("change_id", flat=True)
    return sorted(set(due))


class Command(BaseCommand):
    help = "Enqueue the Notice task for every change with deliveries due for a retry (S6)."

    def handle(self, *args: Any, **options: Any) -> None:
        change_ids = changes_due(timezone.now())
        for change_id in change_ids:
            send_change_notices.enqueue(change_id=change_id)
        self.stdout.write(f"Enqueued the Notice task for {len(change_ids)} change(s).")
