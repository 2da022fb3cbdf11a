"""Background jobs of the customers area; each names itself in the history (H1)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from harmonyze_portal.history import task_acting_as
from harmonyze_portal.mail import retry_later, send_now


@task()
def send_breach_notice(
    *, notice_id: int, subject: str, body: str, staff_id: int | None = None, attempt: int = 1
) -> str:
    """Send one customer's breach notice and record when and to whom (C5).

    Idempotent: a notice already recorded as sent is not sent again, so a retried or
    duplicated job cannot notify a customer twice. A temporary SMTP failure is retried with
    back-off (``harmonyze_portal.mail``), every attempt with the notice's own Message-ID.
    ``staff_id``: the staff member who queued it, whose work the history row records (H1).
    """
    from customers.models import BreachNotice

    with (
        task_acting_as("task: send breach notices", staff_id=staff_id, reason="Breach notice sent"),
        transaction.atomic(),
    ):
        notice = (
            BreachNotice.objects.select_for_update(of=("self",))
            .select_related("customer", "breach")
            .get(pk=notice_id)
        )
        if notice.notified_at is not None:
            return "already sent"
        contact = notice.customer.notice_contact
        if contact is None:
            return "no notice contact"
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")
        message_id = f"<breach-notice-{notice.pk}@{domain}>"
        try:
            send_now(to=[contact.email], subject=subject, body=body, message_id=message_id)
        except Exception as exc:
            fields = {"notice_id": notice_id, "subject": subject, "body": body}
            if retry_later(send_breach_notice, exc, attempt=attempt, staff_id=staff_id, **fields):
                return "retrying"
            raise
        notice.notified_at = timezone.now()
        notice.notified_to = contact.email
        notice.message_id = message_id
        notice.save()
    return message_id


@task()
def send_instruction_notice(
    *, notice_id: int, staff_id: int | None = None, attempt: int = 1
) -> str:
    """Send one C8 notice (DPA 2.3, 2.4) with the text kept on it, and record when and to whom.

    Idempotent like the breach notice: a notice recorded as sent is not sent again, and every
    attempt carries the notice's own Message-ID. ``staff_id``: who queued it (H1).
    """
    from customers.models import InstructionNotice

    with (
        task_acting_as(
            "task: send instruction notices", staff_id=staff_id, reason="Instruction notice sent"
        ),
        transaction.atomic(),
    ):
        notice = (
            InstructionNotice.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=notice_id)
        )
        if notice.sent_at is not None:
            return "already sent"
        contact = notice.customer.notice_contact
        if contact is None:
            return "no notice contact"
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")
        message_id = f"<instruction-notice-{notice.pk}@{domain}>"
        try:
            send_now(
                to=[contact.email], subject=notice.subject, body=notice.body, message_id=message_id
            )
        except Exception as exc:
            fields = {"notice_id": notice_id}
            if retry_later(
                send_instruction_notice, exc, attempt=attempt, staff_id=staff_id, **fields
            ):
                return "retrying"
            raise
        notice.sent_at = timezone.now()
        notice.sent_to = contact.email
        notice.message_id = message_id
        notice.save()
    return message_id
