"""Email goes out from the task queue, never from the request that caused it.

A temporary SMTP failure (a 4xx reply, a dropped or refused connection) is retried with
back-off, up to MAIL_MAX_ATTEMPTS: ``MAIL_RETRY_SECONDS`` × 2^(n−1) after the n-th failure,
where the task backend can defer (the database queue); at once where it cannot (the immediate
backend of the demo and tests). Every attempt carries the same Message-ID, so a message the
server accepted just before a crash and that is sent again reads as one message. A permanent
failure (5xx) is logged and not retried. The Notice has its own, per-delivery record
(``subprocessors.delivery``).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.utils import make_msgid
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import Task, task
from django.utils import timezone

logger = logging.getLogger(__name__)


def is_temporary(exc: BaseException) -> bool:
    """Whether an SMTP failure may pass if the message is tried again later (RFC 5321 4.2.1:
    4yz replies are transient, 5yz permanent); a lost or refused connection is temporary."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        return False  # e.g. no authentication method the server supports: a setup error
    return isinstance(exc, OSError)  # refused, reset, timed out


def retry_delay(*, attempt: int, base_seconds: int) -> timedelta:
    """The wait after the ``attempt``-th failed attempt: 1, 2, 4, 8 … times the base."""
    return timedelta(seconds=base_seconds * 2 ** (attempt - 1))


def message_id_new() -> str:
    return make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">"))


def send_now(
    *,
    to: list[str],
    subject: str,
    body: str,
    message_id: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
) -> None:
    """One SMTP exchange; raises what the server or the network raised."""
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


def retry_later(job: Task[Any, Any], exc: BaseException, *, attempt: int, **kwargs: Any) -> bool:
    """Enqueue ``job`` again with ``attempt + 1`` after the back-off when ``exc`` is temporary
    and attempts remain (once the current transaction commits); log either way. Returns
    whether a retry was queued; the caller re-raises when not."""
    what = f"{job.name} (attempt {attempt} of {settings.MAIL_MAX_ATTEMPTS})"
    if not is_temporary(exc):
        logger.error("Mail %s failed for good, not retried: %s", what, exc)
        return False
    if attempt >= settings.MAIL_MAX_ATTEMPTS:
        logger.error("Mail %s failed again, no attempts left: %s", what, exc)
        return False
    delay = retry_delay(attempt=attempt, base_seconds=settings.MAIL_RETRY_SECONDS)
    logger.warning("Mail %s failed, retrying in %s: %s", what, delay, exc)
    retry = job.using(run_after=timezone.now() + delay) if job.get_backend().supports_defer else job
    transaction.on_commit(partial(retry.enqueue, attempt=attempt + 1, **kwargs))
    return True


@task()
def send_email(
    *,
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
    message_id: str | None = None,
    attempt: int = 1,
) -> str:
    """Send one message and return its Message-ID, the proof that it left (S6); on a
    temporary failure, queue the next attempt (same Message-ID) and return ""."""
    fields: dict[str, Any] = {
        "to": to,
        "subject": subject,
        "body": body,
        "html": html,
        "headers": headers,
        "reply_to": reply_to,
        "message_id": message_id or message_id_new(),
    }
    try:
        send_now(**fields)
    except Exception as exc:
        if retry_later(send_email, exc, attempt=attempt, **fields):
            return ""
        raise
    return str(fields["message_id"])


def queue_email(**message: Any) -> None:
    """Enqueue :func:`send_email` once the surrounding transaction commits, so a rolled-back
    request never sends mail about rows that do not exist. The Message-ID is fixed here, so
    every attempt (and a copy re-sent after a crash) carries the same one."""
    message.setdefault("message_id", message_id_new())
    transaction.on_commit(lambda: send_email.enqueue(**message))
