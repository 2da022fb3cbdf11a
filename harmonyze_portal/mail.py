"""Email goes out from the task queue, never from the request that caused it."""

from __future__ import annotations

from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task


@task()
def send_email(
    *,
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
) -> str:
    """Send one message and return its Message-ID, the proof that it left (S6)."""
    message_id = make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">"))
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=to,
        reply_to=reply_to,
        headers={**(headers or {}), "Message-ID": message_id},
    )
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
    return message_id


def queue_email(**message: Any) -> None:
    """Enqueue :func:`send_email` once the surrounding transaction commits, so a rolled-back
    request never sends mail about rows that do not exist."""
    transaction.on_commit(lambda: send_email.enqueue(**message))
