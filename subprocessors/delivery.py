"""Sending the Notice: exactly once to every active signup, each outcome recorded (S3, S4, S6).

Both the task and the services call this module; it imports neither. The services ask for a
sending with :func:`request_sending`, whose signal ``tasks.py`` answers by enqueuing the task,
so the task module is the only one that knows the task queue.

Exactly once (S6), and the crash window. The state of each delivery is committed around its
own SMTP exchange, never one transaction around a batch: claimed ("sending", the attempt
counted) before the exchange, in commits of up to CLAIM_SIZE; "sent" in its own commit after
the server's 250, finished before the next message is handed over (see ``_Outcomes``); queued
again or failed for good in its own commit after a failure,
including a failed reconnect, which happens outside any transaction. So an accepted message is
recorded and every attempt counted, whatever fails afterwards. The one window: a worker killed
(SIGKILL, a lost machine or database) after the 250 and before the "sent" commit. That delivery
stays "sending" until its lease (NOTICE_LEASE_MINUTES) runs out; the cron's ``retry_notices``
then has it sent again, once, with the same Message-ID, as a further attempt, so
NOTICE_MAX_ATTEMPTS still ends it: at most one duplicate per delivery per crash, never a loop.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.dispatch import Signal
from django.utils import timezone

from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import (
    bulk_create_with_history,
    record_history,
)
from harmonyze_portal.history_rows import update_all, update_with_history
from subprocessors import deadlines
from subprocessors.models import Change, Delivery, DeliveryStatus, Signup
from subprocessors.notice_mail import NoticeMail

# Sent once the transaction that queued deliveries commits, with ``change_id`` and
# ``staff_id`` (whose work the sending is, H1). ``subprocessors.tasks`` enqueues the task.
sending_requested = Signal()


def request_sending(*, change_id: int, staff_id: int | None) -> None:
    """Send the change's queued deliveries once the current transaction commits (at once
    outside one), so a rolled-back publication never sends a Notice."""
    transaction.on_commit(
        partial(sending_requested.send, sender=Change, change_id=change_id, staff_id=staff_id)
    )


def deliveries_queue(*, change: Change, signups: Iterable[Signup]) -> list[Delivery]:
    """S6: one queued delivery per signup, each due for its first attempt; the caller
    requests the sending."""
    deliveries = [Delivery(change=change, signup=signup) for signup in signups]
    for delivery in deliveries:
        # bulk_create skips save(), which derives the next attempt time on every other path.
        delivery.next_attempt_at = delivery.scheduled_attempt()
    return bulk_create_with_history(deliveries, Delivery, reason="Notice queued")


def _record_sent(delivery: Delivery, message_id: str, now: datetime) -> None:
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = now
    delivery.message_id = message_id
    delivery.last_error = ""
    # S4: this signup's 7 days run from the legal date its Notice was delivered.
    delivery.objection_deadline = deadlines.objection_deadline(legal_date(now, settings.TIME_ZONE))


def _record_failure(delivery: Delivery, error: str) -> None:
    delivery.last_error = error[:2000]
    # Out of attempts: failed for good, for the team (S3). Otherwise queued again; save()
    # stores its next attempt after the back-off (S6).
    if delivery.attempts >= settings.NOTICE_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.QUEUED


# The crash window (S6). A worker claims CLAIM_SIZE deliveries in one commit: each is marked
# "sending" with its attempt counted, before any SMTP exchange. Each accepted message is then
# recorded "sent" in its own commit, right after the server's 250. A worker killed between the
# server's 250 and that commit leaves exactly one delivery that the server accepted but the
# portal does not know about; when its lease (NOTICE_LEASE_MINUTES) runs out it is claimed again
# and re-sent with the same Message-ID (receiving servers and clients treat it as the same
# message): at most one duplicate per delivery per crash, and the attempt cap ends it. The other
# claimed deliveries of the batch were never sent; they wait for the lease, then go out once.
CLAIM_SIZE = 50
_RECORDED = [
    "status",
    "attempts",
    "last_attempt_at",
    "sent_at",
    "message_id",
    "last_error",
    "objection_deadline",
]
_LOST_CLAIM = (
    "The worker stopped during this attempt (its claim ran out): the message may have been "
    "sent; attempt {attempts} of {maximum}."
)


def _write_outcome(delivery: Delivery) -> None:
    """The outcome of one SMTP exchange, in its own commit (S6): the row and its history row
    (H1) in one statement where the database allows it. ``save()`` would derive the next
    attempt time from the status; so does this."""
    delivery.next_attempt_at = delivery.scheduled_attempt()
    update_with_history(delivery, [*_RECORDED, "next_attempt_at"])


class OutcomeNotRecorded(Exception):
    """An outcome could not be committed: the fan-out stops before the next message."""


class _Outcomes:
    """Where the fan-out's outcomes are committed (S6), one commit each.

    On PostgreSQL (outside a transaction) a writer thread on a second connection commits
    the outcome of message N while message N+1 is built and its envelope (MAIL FROM, RCPT TO)
    exchanged, and :meth:`settle` waits for that commit before N+1's DATA: the server never
    accepts a message while the previous one's outcome is uncommitted, so the crash window
    stays the one message described at CLAIM_SIZE. That connection commits asynchronously
    (``synchronous_commit = off``): a worker killed at any point loses nothing by it, the
    database has the commit; only a crash of the database server itself within its WAL
    writer delay (a fraction of a second) can lose the last outcomes, and those deliveries
    are still "sending" with their attempt counted, so they go out once more when their
    lease runs out, with the same Message-ID — the same window, no wider. Claims stay on
    the task's own connection and wait for the disk. Elsewhere (SQLite, or inside a
    transaction) each outcome is written in place.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notice-outcomes")
            self._pool.submit(self._asynchronous_commits).result()

    @staticmethod
    def _asynchronous_commits() -> None:
        with connection.cursor() as cursor:  # the writer thread's own connection
            cursor.execute("SET synchronous_commit = off")

    @staticmethod
    def _close_connection() -> None:
        connection.close()  # the writer thread's own connection

    def write(self, delivery: Delivery) -> None:
        if self._pool is None:
            _write_outcome(delivery)
            return
        self.settle()  # one outcome in flight at most
        # The task's actor and reason (H1) go with it: contextvars do not cross threads.
        self._pending = self._pool.submit(copy_context().run, _write_outcome, delivery)

    def settle(self) -> None:
        """Wait until the last outcome is committed; raise if it was not."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.result()
        except Exception as exc:
            raise OutcomeNotRecorded(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._pool is None:
            return
        try:
            self.settle()
        finally:
            self._pool.submit(self._close_connection).result()
            self._pool.shutdown()


def deliveries_claim(
    *, change: Change, after_pk: int, now: datetime
) -> tuple[list[Delivery], int | None]:
    """S6: claim the change's next deliveries for sending, in one commit: queued ones, and
    claimed ones whose worker died (lease run out). Each attempt is counted here, before the
    SMTP exchange, so no failure afterwards can lose it; a claim that was already the last
    allowed attempt fails for good instead of sending again (never a loop).

    ``after_pk`` keeps one run moving forward: a delivery that fails in this run waits for its
    back-off rather than being claimed again at once. A second worker skips rows being claimed
    and finds the rest "sending" under an unexpired lease. Returns the claimed deliveries and
    the last primary key looked at (None when there was none left).
    """
    with transaction.atomic():
        claimable = Q(status=DeliveryStatus.QUEUED) | Q(
            status=DeliveryStatus.SENDING, next_attempt_at__lte=now
        )
        deliveries = list(
            Delivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("signup")
            .filter(claimable, change=change, pk__gt=after_pk)
            .order_by("pk")[:CLAIM_SIZE]
        )
        fresh, lost = [], []
        for delivery in deliveries:
            delivery.change = change  # already loaded: its history row names it without a query
            if delivery.status == DeliveryStatus.SENDING:
                lost.append(delivery)
                delivery.last_error = _LOST_CLAIM.format(
                    attempts=delivery.attempts, maximum=settings.NOTICE_MAX_ATTEMPTS
                )
                if delivery.attempts >= settings.NOTICE_MAX_ATTEMPTS:
                    delivery.status = DeliveryStatus.FAILED
                    continue
            else:
                fresh.append(delivery)
            delivery.status = DeliveryStatus.SENDING
            delivery.attempts += 1
            delivery.last_attempt_at = now
        if fresh:
            # Queued rows (locked above) all take the same claim: one UPDATE for the batch,
            # with the values set on each object above; the lease as save() derives it.
            lease = fresh[0].scheduled_attempt()
            for delivery in fresh:
                delivery.next_attempt_at = lease
            update_all(
                fresh,
                status=DeliveryStatus.SENDING,
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                next_attempt_at=lease,
            )
        for delivery in lost:  # rare: a worker died; each row keeps its own error
            delivery.save_without_historical_record(update_fields=_RECORDED)  # type: ignore[attr-defined]
        if deliveries:
            record_history(deliveries, Delivery)  # one INSERT of their history rows (H1)
    claimed = [d for d in deliveries if d.status == DeliveryStatus.SENDING]
    return claimed, deliveries[-1].pk if deliveries else None


def _close_quietly(mailer: BaseEmailBackend) -> None:
    # A broken connection may fail to say QUIT; the next send opens a new one.
    with contextlib.suppress(OSError, smtplib.SMTPException):
        mailer.close()


def _send_one(
    delivery: Delivery, mail: NoticeMail, mailer: BaseEmailBackend, outcomes: _Outcomes
) -> bool:
    """One SMTP exchange for a claimed delivery, then its outcome in its own commit. The
    (re)opening of a broken connection is part of the exchange: outside any transaction, and
    its failure is this attempt's failure, never a rollback of what was recorded. The
    message is handed over only once the previous outcome is committed."""
    try:
        sent_id = mail.send(delivery, mailer, before_data=outcomes.settle)
    except OutcomeNotRecorded:
        raise  # not this attempt's failure: the fan-out stops, the claim's lease ends it
    except Exception as exc:  # any SMTP or network failure is retried
        _close_quietly(mailer)
        _record_failure(delivery, f"{type(exc).__name__}: {exc}")
        outcomes.write(delivery)
        return False
    _record_sent(delivery, sent_id, timezone.now())
    outcomes.write(delivery)
    return True


def send_notices(*, change_id: int) -> tuple[int, int]:
    """Send every queued delivery of the change over one SMTP connection, then refresh its
    Notice date (S3). Returns how many were sent and how many attempts failed.

    Exactly once (S6): each delivery is claimed (attempt counted, committed) before its SMTP
    exchange and recorded sent in its own commit right after the server accepts it, so a
    re-run, a second worker or a retry never re-sends a recorded delivery; the one window a
    crash leaves is described at CLAIM_SIZE. A failure leaves the delivery queued (with its
    error and its next attempt time) up to NOTICE_MAX_ATTEMPTS, then marks it failed for the
    team. Must not run inside a transaction. The caller names the actor (H1).
    """
    sent = failed = 0
    change = Change.objects.get(pk=change_id)
    mail = NoticeMail(change)
    # The task's one connection: get_connection() is deprecated in Django 6.1.
    mailer = mailers.default
    after_pk: int | None = 0
    outcomes = _Outcomes()
    try:
        while after_pk is not None:
            claimed, after_pk = deliveries_claim(
                change=change, after_pk=after_pk, now=timezone.now()
            )
            for delivery in claimed:
                if _send_one(delivery, mail, mailer, outcomes):
                    sent += 1
                else:
                    failed += 1
    finally:
        try:
            outcomes.close()
        finally:
            _close_quietly(mailer)
    with transaction.atomic():
        change_refresh_notice_date(Change.objects.select_for_update().get(pk=change_id))
    return sent, failed


def retry_at(*, change_id: int) -> datetime | None:
    """S6: when the change's failed-and-still-queued deliveries have all waited out their
    back-off; None when none is waiting for a retry."""
    waiting = Delivery.objects.awaiting_attempt().filter(change_id=change_id, attempts__gt=0)
    latest: datetime | None = waiting.aggregate(latest=Max("next_attempt_at"))["latest"]
    return latest


@transaction.atomic
def deliveries_retry(*, delivery_ids: Iterable[int], staff_id: int | None) -> tuple[int, int]:
    """S6: queue again the deliveries that failed for good and send every unsent one of their
    changes now, as ``staff_id``'s work (H1). Returns how many were queued again and for how
    many changes the sending was requested."""
    ids = list(delivery_ids)
    requeued = 0
    for delivery in Delivery.objects.select_for_update(of=("self",)).filter(
        pk__in=ids, status=DeliveryStatus.FAILED
    ):
        delivery.status = DeliveryStatus.QUEUED
        delivery._change_reason = "Queued again by staff for a retry"  # type: ignore[attr-defined]
        delivery.save()
        requeued += 1
    change_ids = sorted(
        set(
            Delivery.objects.awaiting_attempt()
            .filter(pk__in=ids)
            .values_list("change_id", flat=True)
        )
    )
    for change_id in change_ids:
        request_sending(change_id=change_id, staff_id=staff_id)
    return requeued, len(change_ids)


def change_refresh_notice_date(change: Change) -> None:
    """S3: the Notice date from the deliveries, and the earliest access date with it, on the
    change and its sub-processor (the rule is ``Change.refresh_notice_date``)."""
    change.refresh_notice_date()
