"""S6 at scale: publishing a change to 10,000 active signups through a real SMTP server.

Baseline: the same number of messages sent with plain ``smtplib`` over one connection to the
same local server (aiosmtpd on loopback), in the same run. Target: at most 1.5x the baseline.
"""

from __future__ import annotations

import os
import smtplib
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from bench.setup import django_with_fresh_database

SIGNUPS = int(os.environ.get("BENCH_SIGNUPS", "10000"))
TARGET = 1.5


class CountingHandler:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages += 1
        return "250 OK"


def smtplib_baseline(port: int, bodies: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for address, body in bodies:
            message = EmailMessage()
            message["From"] = "Harmonyze Privacy <privacy@harmonyze.com>"
            message["To"] = address
            message["Subject"] = "Notice of a sub-processor change"
            message.set_content(body)
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

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=0)
    controller.start()
    port = controller.server.sockets[0].getsockname()[1]
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
        _, body = services.notice_content(change)
        bodies = [(f"dpo{n}@customer{n % 500}.example", body) for n in range(SIGNUPS)]

        baseline = smtplib_baseline(port, bodies)
        handler.messages = 0

        started = time.perf_counter()
        with transaction.atomic():
            services.change_publish(change=change)
        # The ImmediateBackend runs the send job when the publishing transaction commits.
        publish = time.perf_counter() - started

        sent = Delivery.objects.filter(change=change, status=DeliveryStatus.SENT).count()
    finally:
        controller.stop()

    ratio = publish / baseline
    ok = ratio <= TARGET and sent == SIGNUPS and handler.messages == SIGNUPS
    print(
        f"notices: publish to {SIGNUPS} signups {publish:.2f}s, smtplib baseline {baseline:.2f}s, "
        f"ratio {ratio:.2f} (target <= {TARGET}); delivered {handler.messages}, recorded sent "
        f"{sent} -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1
