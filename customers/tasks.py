"""Background jobs of the customers area; each names itself in the history (H1)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from harmonyze_portal.history import task_acting_as
from harmonyze_portal.mail import retry_later, send_now

ACTOR = "task: send breach notices"
REASON = "Breach notice sent"


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")


@task()
def send_breach_message(*, message_id: int, staff_id: int | None = None, attempt: int = 1) -> str:
    """Send one breach notice (first notice, update or closing notice) to the customer's notice
    contact and record when and to whom (C5).

    Idempotent: a notice already recorded as sent is not sent again, so a retried or duplicated
    job cannot notify a customer twice. A temporary SMTP failure is retried with back-off
    (``harmonyze_portal.mail``), every attempt with the notice's own Message-ID.
    ``staff_id``: the staff member who queued it, whose work the history row records (H1).
    """
    with task_acting_as(ACTOR, staff_id=staff_id, reason=REASON):
        return _send(message_id, staff_id=staff_id, attempt=attempt, retry_fields={})


@task()
def send_breach_notice(
    *, notice_id: int, subject: str, body: str, staff_id: int | None = None, attempt: int = 1
) -> str:
    """The first notice to one affected customer, as queued before notices were kept one row
    each (customers migration 0006): jobs already in the queue at the upgrade still run, once.
    The notice is recorded as a first notice with the DPA 7 statement added to its text."""
    from customers.models import BreachMessage, BreachNotice
    from customers.models.breach_log import NoticeKind, with_no_fault_statement

    with task_acting_as(ACTOR, staff_id=staff_id, reason=REASON), transaction.atomic():
        affected = BreachNotice.objects.select_for_update(of=("self",)).get(pk=notice_id)
        if affected.notified_at is not None:
            return "already sent"
        message = affected.messages.filter(kind=NoticeKind.FIRST).first()
        if message is None:
            message = BreachMessage(
                affected=affected,
                kind=NoticeKind.FIRST,
                subject=subject,
                body=with_no_fault_statement(body),
            )
            message.save()
        fields = {"notice_id": notice_id, "subject": subject, "body": body}
        return _send(
            message.pk,
            staff_id=staff_id,
            attempt=attempt,
            retry_fields=fields,
            header=f"<breach-notice-{notice_id}@{_domain()}>",
        )


def _send(
    message_pk: int,
    *,
    staff_id: int | None,
    attempt: int,
    retry_fields: dict[str, object],
    header: str | None = None,
) -> str:
    from customers.models import BreachMessage

    with transaction.atomic():
        message = (
            BreachMessage.objects.select_for_update(of=("self",))
            .select_related("affected__customer", "affected__breach")
            .get(pk=message_pk)
        )
        if message.sent_at is not None:
            return "already sent"
        contact = message.affected.customer.notice_contact
        if contact is None:
            return "no notice contact"
        header = header or f"<breach-notice-{message.affected_id}-{message.pk}@{_domain()}>"
        try:
            send_now(
                to=[contact.email], subject=message.subject, body=message.body, message_id=header
            )
        except Exception as exc:
            job, fields = (
                (send_breach_notice, retry_fields)
                if retry_fields
                else (send_breach_message, {"message_id": message_pk})
            )
            if retry_later(job, exc, attempt=attempt, staff_id=staff_id, **fields):
                return "retrying"
            raise
        message.sent_at = timezone.now()
        message.sent_to = contact.email
        message.message_id = header
        message.save()
    return header


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
