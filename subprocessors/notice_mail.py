"""The Notice as each signup receives it (S4, S6), and its wire form for the fan-out (P1).

:func:`notice_message` is the message, as Django's ``EmailMessage``: every mail backend can
send it. A fan-out to thousands of signups through SMTP would spend most of its time in the
``email`` package re-parsing headers that are the same for every signup (the sender, the
subject) and re-checking addresses already validated when the signup was made. So
:class:`NoticeMail` renders those once per change with the ``email`` package and, for each
signup, adds only what is its own (address, Message-ID, links, date): the bytes are exactly
those Django's SMTP backend would send (a test compares them byte for byte). Anything the
short path cannot render identically (an address or a line it would have to encode or fold)
goes through Django's own message instead.
"""

from __future__ import annotations

import email.policy
import re
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage as MIMEMessage
from email.policy import Policy
from email.utils import format_datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.utils.timezone import get_current_timezone

from harmonyze_portal.public_flow import absolute_url
from subprocessors import tokens
from subprocessors.models import Change, Delivery, Signup

# RFC 5322 allows lines of up to 998 characters; Notice headers are never folded before that.
MAX_LINE = 998
_POLICY = email.policy.default.clone(max_line_length=MAX_LINE)
_SMTP_POLICY = email.policy.SMTP.clone(max_line_length=MAX_LINE)
# A bare addr-spec the email package writes out unchanged (no display name, quoting or
# non-ASCII to encode); any other address takes Django's path.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")


def unsubscribe_url(signup: Signup) -> str:
    return absolute_url("subprocessors:unsubscribe", tokens.unsubscribe_token(signup.pk))


def objection_url(signup: Signup, change: Change) -> str:
    return absolute_url(
        "subprocessors:object", change.pk, tokens.objection_token(signup.pk, change.pk)
    )


class NoticeMessage(EmailMessage):
    def message(self, *, policy: Policy[Any] | None = None) -> MIMEMessage:
        # RFC 8058: clients read List-Unsubscribe as a bare <URL>. Folded at 78 characters,
        # the long URL would become RFC 2047 encoded-words that no client parses.
        return super().message(policy=policy.clone(max_line_length=MAX_LINE) if policy else _POLICY)


def message_id(change: Change, signup_id: int) -> str:
    """Stable across retries, so a receiving server can drop a duplicate after a crash."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")
    return f"<notice-{change.pk}-{signup_id}@{domain}>"


def notice_body(change: Change, signup: Signup, unsubscribe: str) -> str:
    """The published words, then this signup's own links."""
    return (
        f"{change.notice_body}\n\n"
        f"To object to this change: {objection_url(signup, change)}\n"
        f"To stop receiving these notices: {unsubscribe}\n"
    )


def notice_message(delivery: Delivery, change: Change) -> EmailMessage:
    """The Notice as one signup receives it, for any mail backend."""
    unsubscribe = unsubscribe_url(delivery.signup)
    return NoticeMessage(
        subject=change.notice_subject,
        body=notice_body(change, delivery.signup, unsubscribe),
        to=[delivery.signup.email],
        headers={
            "Message-ID": message_id(change, delivery.signup_id),
            # RFC 8058 one-click unsubscribe: mail clients POST to the same endpoint.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


class NoticeMail:
    """One change's Notice, sent to each of its signups; what every signup shares is
    rendered once."""

    def __init__(self, change: Change) -> None:
        self.change = change
        self._envelope_from: str | None = None
        shared = MIMEMessage(policy=_SMTP_POLICY)
        try:
            shared["Subject"] = str(change.notice_subject)
            shared["From"] = settings.DEFAULT_FROM_EMAIL
        except ValueError:
            # A header the email package refuses: Django's path fails each attempt with the
            # reason, recorded on each delivery (S6), rather than the whole fan-out here.
            self._subject_from = b""
            return
        # The email package encodes (RFC 2047) and folds the subject and sender once.
        self._subject_from = shared.as_bytes(policy=_SMTP_POLICY).rstrip(b"\r\n") + b"\r\n"

    def send(
        self,
        delivery: Delivery,
        mailer: BaseEmailBackend,
        *,
        before_data: Callable[[], None] = lambda: None,
    ) -> str:
        """One SMTP exchange (or the backend's equivalent) for the delivery; returns the
        Message-ID sent. ``before_data`` runs once the envelope is accepted and before the
        message is handed over (DATA), the last moment before the server can accept it.
        Raises whatever the backend, the server or ``before_data`` raises."""
        wire = self.wire_bytes(delivery) if isinstance(mailer, SMTPBackend) else None
        if wire is None:
            message = notice_message(delivery, self.change)
            before_data()
            # Through the task's one connection: open() is a no-op while it is up.
            mailer.open()
            if mailer.send_messages([message]) != 1:
                raise RuntimeError("The mail backend did not accept the message.")
            return str(message.extra_headers["Message-ID"])
        assert isinstance(mailer, SMTPBackend)
        mailer.open()
        smtp = mailer.connection
        if smtp is None:
            raise RuntimeError("The mail server connection could not be opened.")
        if self._envelope_from is None:
            self._envelope_from = mailer.prep_address(settings.DEFAULT_FROM_EMAIL)
        # smtplib's sendmail() in its documented steps, with ``before_data`` between the
        # envelope and the message.
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.mail(self._envelope_from)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self._envelope_from)
        recipient = delivery.signup.email
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        before_data()
        code, reply = smtp.data(wire)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return message_id(self.change, delivery.signup_id)

    def wire_bytes(self, delivery: Delivery) -> bytes | None:
        """The message exactly as Django's SMTP backend would send it, or None where the
        email package would have to encode or fold something (then Django builds it)."""
        address = delivery.signup.email
        if not self._subject_from or not _PLAIN_ADDRESS.match(address):
            return None
        unsubscribe = unsubscribe_url(delivery.signup)
        body = notice_body(self.change, delivery.signup, unsubscribe).encode()
        lines = body.splitlines()
        if any(len(line) > MAX_LINE for line in lines):
            return None  # the email package would pick quoted-printable or base64
        listed = f"List-Unsubscribe: <{unsubscribe}>"
        if len(listed) > MAX_LINE or not listed.isascii():
            return None
        zone = get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC
        return b"".join(
            (
                b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ',
                b"7bit" if body.isascii() else b"8bit",
                b"\r\nMIME-Version: 1.0\r\n",
                self._subject_from,
                f"To: {address}\r\n"
                f"Date: {format_datetime(datetime.now(zone))}\r\n"
                f"Message-ID: {message_id(self.change, delivery.signup_id)}\r\n"
                f"{listed}\r\n"
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n".encode(),
                b"\r\n".join(lines),
                b"\r\n",
            )
        )
