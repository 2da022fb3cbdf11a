"""Sending the Notice: exactly once to every active signup (S6)."""

from __future__ import annotations

import email.policy
from datetime import timedelta
from email.message import EmailMessage as MIMEMessage
from email.policy import Policy
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.tasks import default_task_backend, task
from django.utils import timezone

from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import record_history, task_acting_as
from subprocessors import deadlines
from subprocessors.models import Change, Delivery, DeliveryStatus

ACTOR = "task: send notices"


_POLICY = email.policy.default.clone(max_line_length=998)


class NoticeMessage(EmailMessage):
    def message(self, *, policy: Policy[Any] | None = None) -> MIMEMessage:
        # RFC 8058: clients read List-Unsubscribe as a bare <URL>. Folded at 78 characters,
        # the long URL would become RFC 2047 encoded-words that no client parses; RFC 5322
        # allows lines of up to 998 characters.
        return super().message(policy=policy.clone(max_line_length=998) if policy else _POLICY)


def _message(delivery: Delivery, change: Change) -> EmailMessage:
    from subprocessors.services import objection_url, unsubscribe_url

    unsubscribe = unsubscribe_url(delivery.signup)
    body = (
        f"{change.notice_body}\n\n"
        f"To object to this change: {objection_url(delivery.signup, change)}\n"
        f"To stop receiving these notices: {unsubscribe}\n"
    )
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")
    return NoticeMessage(
        subject=change.notice_subject,
        body=body,
        to=[delivery.signup.email],
        headers={
            # Stable across retries, so a receiving server can drop a duplicate after a crash.
            "Message-ID": f"<notice-{change.pk}-{delivery.signup_id}@{domain}>",
            # RFC 8058 one-click unsubscribe: mail clients POST to the same endpoint.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# Deliveries are locked, sent and recorded a batch at a time: one commit per batch instead of
# per message. A crash before the commit re-sends at most this many on the next run, with the
# same Message-ID (receiving servers and clients treat it as the same message).
BATCH_SIZE = 25
_RECORDED = [
    "status",
    "attempts",
    "last_attempt_at",
    "sent_at",
    "message_id",
    "last_error",
    "objection_deadline",
]


def _send_batch(ids: list[int], change: Change, connection: BaseEmailBackend) -> tuple[int, int]:
    """Lock the batch, send each delivery that is still queued, record them all in one
    commit. A second worker waits on the lock, then finds them sent and skips them."""
    sent = failed = 0
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(of=("self",))
            .select_related("signup")
            .filter(pk__in=ids, status=DeliveryStatus.QUEUED)
            .order_by("pk")
        )
        for delivery in deliveries:
            delivery.change = change  # already loaded: its history row names it without a query
            message = _message(delivery, change)
            now = timezone.now()
            delivery.attempts += 1
            delivery.last_attempt_at = now
            try:
                # Through the task's one connection: get_connection() and
                # EmailMessage.connection are deprecated in Django 6.1.
                if connection.send_messages([message]) != 1:
                    raise RuntimeError("The mail backend did not accept the message.")
            except Exception as exc:  # any SMTP or network failure is retried
                failed += 1
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if delivery.attempts >= settings.NOTICE_MAX_ATTEMPTS:
                    delivery.status = DeliveryStatus.FAILED
                # A broken connection is reopened for the next recipient.
                connection.close()
                connection.open()
                continue
            sent += 1
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.message_id = message.extra_headers["Message-ID"]
            delivery.last_error = ""
            delivery.objection_deadline = deadlines.objection_deadline(
                legal_date(now, settings.TIME_ZONE)
            )
        # One UPDATE per row and one INSERT of their history rows for the whole batch.
        for delivery in deliveries:
            delivery.save_without_historical_record(update_fields=_RECORDED)  # type: ignore[attr-defined]
        if deliveries:
            record_history(deliveries, Delivery)
    return sent, failed


@task()
def send_change_notices(*, change_id: int, staff_id: int | None = None) -> dict[str, int]:
    """Send every queued delivery of the change over one SMTP connection.

    Idempotent: each delivery is locked and checked before sending, so a re-run, a second
    worker or a retry never sends a signup the same Notice twice, and every queued one is
    attempted (see BATCH_SIZE for the one window a crash leaves). A failure leaves the
    delivery queued (with its error) for a retry with back-off, up to NOTICE_MAX_ATTEMPTS,
    then marks it failed for the team.

    ``staff_id`` is the staff member who published the change or asked for the retry: the
    deliveries' history names them (H1). The cron's retries carry none.
    """
    from subprocessors.services import change_refresh_notice_date

    sent = failed = 0
    with task_acting_as(ACTOR, staff_id=staff_id, reason="Notice delivery"):
        ids = list(
            Delivery.objects.filter(change_id=change_id, status=DeliveryStatus.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        change = Change.objects.get(pk=change_id)
        connection = mailers.default
        try:
            connection.open()
            for start in range(0, len(ids), BATCH_SIZE):
                batch_sent, batch_failed = _send_batch(
                    ids[start : start + BATCH_SIZE], change, connection
                )
                sent += batch_sent
                failed += batch_failed
        finally:
            connection.close()
        with transaction.atomic():
            change_refresh_notice_date(Change.objects.select_for_update().get(pk=change_id))
    retrying = Delivery.objects.filter(
        change_id=change_id, status=DeliveryStatus.QUEUED, attempts__gt=0
    )
    if retrying.exists() and default_task_backend.supports_defer:
        worst = max(retrying.values_list("attempts", flat=True))
        delay = timedelta(minutes=settings.NOTICE_RETRY_MINUTES * 2 ** (worst - 1))
        send_change_notices.using(run_after=timezone.now() + delay).enqueue(
            change_id=change_id, staff_id=staff_id
        )
    return {"sent": sent, "failed": failed}
