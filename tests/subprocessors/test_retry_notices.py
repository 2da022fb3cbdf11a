"""The cron's ``retry_notices`` picks up work a killed ``db_worker`` left RUNNING (S6, issue
13): django-tasks-db leaves such a row RUNNING for ever."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def running(task_path: str, started_minutes_ago: int, **kwargs: Any) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        started_at=NOW - timedelta(minutes=started_minutes_ago),
        task_path=task_path,
        args_kwargs={"args": [], "kwargs": kwargs},
        backend_name="default",
        run_after=get_date_max(),  # enqueued without run_after
        worker_ids=["killed-worker"],
    )


def test_rule_s6_a_stale_running_email_job_is_marked_failed_and_sent_again(
    settings: Any,
) -> None:
    settings.NOTICE_LEASE_MINUTES = 15
    message = {"to": ["dpo@acme.example"], "subject": "Confirm", "body": "b"}
    stale = running(
        "harmonyze_portal.mail.send_email", 16, **message, message_id="<kept@harmonyze.com>"
    )
    live = running("harmonyze_portal.mail.send_email", 14, **message)
    notices = running("subprocessors.tasks.send_change_notices", 60, change_id=1)
    other = running("audits.tasks.something_else", 60)

    with time_machine.travel(NOW, tick=False):
        call_command("retry_notices", stdout=(out := io.StringIO()))

    stale.refresh_from_db()
    assert stale.status == TaskResultStatus.FAILED
    assert "WorkerLostError" in stale.exception_class_path
    # Sent again with the Message-ID it was queued with.
    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == "<kept@harmonyze.com>"
    # The Notice task's row is closed; its deliveries are found by their own lease.
    notices.refresh_from_db()
    assert notices.status == TaskResultStatus.FAILED
    for row in (live, other):
        row.refresh_from_db()
        assert row.status == TaskResultStatus.RUNNING
    assert "2 tasks left running by a stopped worker marked failed" in out.getvalue()
