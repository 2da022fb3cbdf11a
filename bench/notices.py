"""S6 at scale: publishing a change to 10,000 active signups through a real SMTP server.

Baseline: the same number of messages sent with plain ``smtplib`` over one connection to the
same local server (aiosmtpd on loopback), in the same run. Target: at most 1.5x the baseline.

What the portal pays on top (S6, issue 13): the claim of each 50 deliveries in one commit (one
bulk UPDATE, one history INSERT), then one commit per accepted message (its UPDATE and history
INSERT), the minimum that records every accepted message whatever fails afterwards. The
messages themselves cost less than the baseline's: what every signup shares is rendered once
per change (``subprocessors/notice_mail.py``), each the bytes Django's SMTP backend would send.
"""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage

from bench.setup import django_with_fresh_database

SIGNUPS = int(os.environ.get("BENCH_SIGNUPS", "10000"))
TARGET = 1.5


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the benchmark SMTP server did not start on port {port}")


def smtplib_baseline(port: int, messages: list[dict[str, str]]) -> float:
    """The same messages (same headers, same per-recipient bodies), built with the standard
    library and sent with plain smtplib over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for fields in messages:
            message = EmailMessage()
            for name, value in fields.items():
                if name != "body":
                    message[name] = value
            message.set_content(fields["body"])
            smtp.send_message(message)
    return time.perf_counter() - started


def main() -> int:
    django_with_fresh_database()
    from django.conf import settings
    from django.db import transaction

    from harmonyze_portal.history import acting_as, bulk_create_with_history
    from subprocessors import services
    from subprocessors.models import (
        Change,
        ChangeKind,
        Delivery,
        DeliveryStatus,
        Signup,
        SignupStatus,
        SubProcessor,
    )
    from subprocessors.notice_mail import notice_message

    # The SMTP server runs in its own process, so it does not compete with the code under test
    # for this process's GIL; it accepts and discards every message.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(port)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 30},
        }
    }
    try:
        from django.utils import timezone

        now = timezone.now()
        with acting_as("task: benchmark setup"):
            bulk_create_with_history(
                [
                    Signup(
                        email=f"dpo{n}@customer{n % 500}.example",
                        status=SignupStatus.ACTIVE,
                        confirmed_at=now,
                    )
                    for n in range(SIGNUPS)
                ],
                Signup,
            )
            vendor = SubProcessor.objects.create(
                name="Example Cloud, Inc.",
                purpose="Hosting",
                locations="United States",
                data_categories="All Service Data",
            )
            change = Change.objects.create(
                kind=ChangeKind.ADDITION, subprocessor=vendor, summary="New hosting provider."
            )
        started = time.perf_counter()
        with transaction.atomic():
            services.change_publish(change=change)
        # The ImmediateBackend runs the send job when the publishing transaction commits.
        publish = time.perf_counter() - started

        sent = Delivery.objects.filter(change=change, status=DeliveryStatus.SENT).count()

        # The baseline sends exactly the messages the portal sent.
        change.refresh_from_db()
        messages = []
        for delivery in Delivery.objects.filter(change=change).select_related("signup"):
            django_message = notice_message(delivery, change)
            messages.append(
                {
                    "From": django_message.from_email,
                    "To": delivery.signup.email,
                    "Subject": django_message.subject,
                    **django_message.extra_headers,
                    "body": django_message.body,
                }
            )
        baseline = smtplib_baseline(port, messages)
    finally:
        server.terminate()
        server.wait(timeout=10)

    ratio = publish / baseline
    ok = ratio <= TARGET and sent == SIGNUPS
    print(
        f"notices: publish to {SIGNUPS} signups {publish:.2f}s, smtplib baseline {baseline:.2f}s, "
        f"ratio {ratio:.2f} (target <= {TARGET}); recorded sent {sent} -> "
        f"{'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1
