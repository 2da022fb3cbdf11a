"""Cron, every 5 minutes: pick up Notice deliveries and email jobs that no worker is going to
finish (S6), whatever the task backend.

- Queued deliveries whose back-off has passed, and deliveries a worker claimed ("sending")
  and never recorded because it died: their lease (``NOTICE_LEASE_MINUTES``) has run out. Each
  delivery stores when that is (``Delivery.next_attempt_at``): one indexed query, then the
  Notice task is enqueued for each change; its per-delivery claims keep it exactly once.
- Task rows a killed ``db_worker`` left RUNNING (django-tasks-db claims a row, runs it, then
  marks it finished; a SIGKILL in between leaves it RUNNING for ever, and the library has no
  heartbeat). A row of ours still RUNNING after the lease is marked FAILED with the reason;
  an email job's is enqueued again with the same arguments (the same Message-ID, so a message
  the server accepted just before the kill reads as one), the Notice task's work is found by
  the delivery scan above.

The crash window: a worker killed after the SMTP server accepted a message and before it
recorded it leaves one message that is sent again, once, with the same Message-ID, after the
lease (see ``subprocessors.delivery.CLAIM_SIZE``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from harmonyze_portal.wording import counted
from subprocessors.models import Delivery
from subprocessors.tasks import send_change_notices

# Our jobs whose lost run may simply run again: each is idempotent or keeps its Message-ID.
RERUN = ("harmonyze_portal.mail.send_email", "customers.tasks.send_breach_notice")
PICKED_UP = (send_change_notices.module_path, *RERUN)


class WorkerLostError(Exception):
    """The worker running this task stopped without finishing it (killed or lost)."""


def changes_due(now: datetime) -> list[int]:
    due = Delivery.objects.due_for_attempt(now).order_by().values_list("change_id", flat=True)
    return sorted(set(due))


def stale_tasks_pick_up(now: datetime) -> tuple[int, int]:
    """Mark our task rows still RUNNING after the lease as failed, and enqueue the email
    jobs among them again. Returns how many were marked and how many enqueued again."""
    cutoff = now - timedelta(minutes=settings.NOTICE_LEASE_MINUTES)
    marked = rerun = 0
    with transaction.atomic():
        stale = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff, task_path__in=PICKED_UP
        )
        for result in stale:
            result.set_failed(
                WorkerLostError(
                    f"Still running {settings.NOTICE_LEASE_MINUTES} minutes after it started: "
                    "its worker stopped; picked up again by retry_notices."
                )
            )
            marked += 1
            if result.task_path in RERUN:
                # Now, not at the row's original run_after.
                job = replace(result.task, run_after=None)
                job.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
                rerun += 1
    return marked, rerun


class Command(BaseCommand):
    help = (
        "Enqueue the Notice task for every change with deliveries due for a retry or left by a "
        "dead worker, and pick up email jobs a dead worker left running (S6)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        marked, rerun = stale_tasks_pick_up(now)
        change_ids = changes_due(now)
        for change_id in change_ids:
            send_change_notices.enqueue(change_id=change_id)
        self.stdout.write(
            f"Enqueued the Notice task for {counted(len(change_ids), 'change')}; "
            f"{counted(marked, 'task')} left running by a stopped worker marked failed, "
            f"{counted(rerun, 'email job')} enqueued again."
        )
