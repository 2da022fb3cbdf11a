"""Several notices per affected customer and the remediation log (C5, DPA 7): the model and
database rules, the queue service and the sending task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers import services
from customers.models import BreachMessage, BreachNotice, BreachRemediation, Customer
from customers.models.breach_log import NO_FAULT_PHRASE, NO_FAULT_STATEMENT, NoticeKind
from customers.tasks import send_breach_message, send_breach_notice
from tests.customers.builders import make_breach, make_message, make_step

pytestmark = pytest.mark.django_db

AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)
TARGET = AWARE + timedelta(hours=72)
KINDS = [NoticeKind.FIRST, NoticeKind.UPDATE, NoticeKind.CLOSING]


def send(breach: object, kind: str, body: str = "Details of the breach.") -> list[BreachMessage]:
    queued, missing = services.breach_notices_queue(
        breach=breach,  # type: ignore[arg-type]
        kind=kind,
        subject=f"{kind} notice",
        body=body,
    )
    assert missing == []
    return queued


# --- DPA 7: every notice says it admits no fault or liability.


@pytest.mark.parametrize("kind", KINDS)
def test_rule_c5_the_database_refuses_a_notice_that_does_not_disclaim_fault(
    acme: Customer, kind: str
) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    if kind != NoticeKind.FIRST:
        make_message(affected)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_message(affected, kind=kind, body="We regret our error, which caused the breach.")


@pytest.mark.parametrize("kind", KINDS)
def test_rule_c5_each_kind_of_draft_disclaims_fault(acme: Customer, kind: str) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    subject, body = services.breach_notice_draft(breach, kind)

    assert NO_FAULT_STATEMENT in body
    assert "section 7" in body
    assert subject.endswith(": Misconfigured export bucket")


@pytest.mark.parametrize("kind", KINDS)
def test_rule_c5_each_kind_of_notice_is_sent_with_the_statement_even_if_edited_out(
    acme: Customer, kind: str, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    if kind != NoticeKind.FIRST:
        with django_capture_on_commit_callbacks(execute=True):
            send(breach, NoticeKind.FIRST)
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = send(breach, kind, body="Our mistake; we apologise for the breach.")

    message.refresh_from_db()
    assert message.kind == kind
    assert NO_FAULT_PHRASE in message.body
    assert NO_FAULT_PHRASE in mail.outbox[-1].body
    assert mail.outbox[-1].body == message.body


def test_rule_c5_the_statement_is_not_added_twice(acme: Customer) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    _, body = services.breach_notice_draft(breach)

    (message,) = send(breach, NoticeKind.FIRST, body=body)

    assert message.body.count(NO_FAULT_PHRASE) == 1


# --- Several notices per customer.


@time_machine.travel(AWARE + timedelta(hours=5), tick=False)
def test_rule_c5_a_second_and_a_third_notice_are_each_recorded_with_time_and_recipients(
    acme: Customer, globex: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme, globex))
    with django_capture_on_commit_callbacks(execute=True):
        send(breach, NoticeKind.FIRST)
    with (
        time_machine.travel(AWARE + timedelta(hours=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        second = send(breach, NoticeKind.UPDATE)
    with (
        time_machine.travel(AWARE + timedelta(hours=100), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        third = send(breach, NoticeKind.UPDATE)

    assert len(second) == len(third) == 2
    assert len(mail.outbox) == 6
    acme_notices = BreachMessage.objects.filter(affected__customer=acme).order_by("queued_at")
    assert [(m.kind, m.sent_at, m.sent_to) for m in acme_notices] == [
        ("first", AWARE + timedelta(hours=5), "privacy@acme.com"),
        ("update", AWARE + timedelta(hours=30), "privacy@acme.com"),
        ("update", AWARE + timedelta(hours=100), "privacy@acme.com"),
    ]
    assert len({m.message_id for m in acme_notices}) == 3, "each notice has its own Message-ID"
    # The target is judged on the first notice only: an update at 100 hours is not late.
    affected = BreachNotice.objects.get(breach=breach, customer=acme)
    assert affected.notified_at == AWARE + timedelta(hours=5)
    assert affected.is_late is False
    history = affected.messages.get(kind="update", sent_at=AWARE + timedelta(hours=100)).history
    assert history.first().history_actor == "task: send breach notices"


def test_rule_c5_an_update_goes_only_to_customers_already_notified(
    acme: Customer, globex: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    with django_capture_on_commit_callbacks(execute=True):
        send(breach, NoticeKind.FIRST)
    late_addition = BreachNotice(breach=breach, customer=globex)
    late_addition.save()

    with django_capture_on_commit_callbacks(execute=True):
        update = send(breach, NoticeKind.UPDATE)

    assert [m.affected.customer for m in update] == [acme]
    assert services.breach_notice_recipients(breach, NoticeKind.FIRST).get() == late_addition


def test_rule_c5_an_update_before_the_first_notice_is_refused(acme: Customer) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    message = BreachMessage(
        affected=affected, kind=NoticeKind.UPDATE, subject="Update", body=NO_FAULT_STATEMENT
    )

    with pytest.raises(ValidationError, match="first notice before an update"):
        message.full_clean()


def test_rule_c5_a_closing_notice_is_sent_once(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    with django_capture_on_commit_callbacks(execute=True):
        send(breach, NoticeKind.FIRST)
    with django_capture_on_commit_callbacks(execute=True):
        send(breach, NoticeKind.CLOSING)

    with django_capture_on_commit_callbacks(execute=True):
        again = send(breach, NoticeKind.CLOSING)

    assert again == []
    affected = breach.notices.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_message(affected, kind=NoticeKind.CLOSING)


def test_rule_c5_the_database_refuses_a_second_first_notice(acme: Customer) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    make_message(affected)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_message(affected)


def test_rule_c5_the_database_refuses_a_sent_notice_without_recipients(acme: Customer) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        make_message(affected, sent_at=AWARE + timedelta(hours=1), sent_to="")


# --- The target (72 hours, BREACH_NOTICE_TARGET_HOURS) is judged on the first notice sent.


@pytest.mark.parametrize(
    ("sent_at", "late"),
    [
        (TARGET - timedelta(minutes=1), False),
        (TARGET, False),
        (TARGET + timedelta(minutes=1), True),
    ],
)
def test_rule_c5_the_first_notice_at_the_target_edges(
    acme: Customer, sent_at: datetime, late: bool, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    with (
        time_machine.travel(sent_at, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        (message,) = send(breach, NoticeKind.FIRST)

    message.refresh_from_db()
    affected = breach.notices.get()
    assert (affected.notified_at, affected.is_late, message.is_late) == (sent_at, late, late)
    assert list(BreachNotice.objects.late()) == ([affected] if late else [])
    assert not BreachNotice.objects.pending().exists()


def test_rule_c5_a_first_notice_queued_but_not_sent_leaves_the_customer_pending(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    with django_capture_on_commit_callbacks(execute=False):
        send(breach, NoticeKind.FIRST)

    assert list(BreachNotice.objects.pending()) == [breach.notices.get()]
    assert BreachMessage.objects.unsent().count() == 1


def test_rule_c5_an_edit_cannot_move_the_first_notice_time(acme: Customer) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    make_message(affected, sent_at=TARGET + timedelta(hours=5), sent_to="privacy@acme.com")

    affected.refresh_from_db()
    affected.notified_at = AWARE + timedelta(hours=1)
    affected.save()

    affected.refresh_from_db()
    assert affected.notified_at == TARGET + timedelta(hours=5)
    assert affected.is_late is True


def test_rule_c5_a_notice_cannot_be_sent_before_awareness(acme: Customer) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    message = BreachMessage(
        affected=affected,
        kind=NoticeKind.FIRST,
        subject="Notice",
        body=NO_FAULT_STATEMENT,
        sent_at=AWARE - timedelta(minutes=1),
        sent_to="privacy@acme.com",
    )

    with pytest.raises(ValidationError, match="before Harmonyze became aware"):
        message.full_clean()


# --- The task.


def test_rule_c5_the_task_sends_a_notice_once(acme: Customer) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    message = make_message(affected)

    first = send_breach_message.call(message_id=message.pk)
    second = send_breach_message.call(message_id=message.pk)

    assert second == "already sent"
    assert first == BreachMessage.objects.get(pk=message.pk).message_id
    assert len(mail.outbox) == 1


def test_rule_c5_a_job_queued_before_the_upgrade_still_sends_a_disclaiming_first_notice(
    acme: Customer,
) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()

    send_breach_notice.call(notice_id=affected.pk, subject="Breach", body="Details follow.")

    message = affected.messages.get()
    assert (message.kind, message.sent_to) == ("first", "privacy@acme.com")
    assert NO_FAULT_PHRASE in mail.outbox[0].body
    assert message.message_id == f"<breach-notice-{affected.pk}@harmonyze.com>"


# --- The remediation log.


@pytest.mark.parametrize(("action", "taken_by"), [("", "SRE"), ("Rotated the keys.", "")])
def test_rule_c5_the_database_refuses_a_step_without_what_or_who(
    acme: Customer, action: str, taken_by: str
) -> None:
    breach = make_breach(aware_at=AWARE)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_step(breach, taken_at=AWARE, action=action, taken_by=taken_by)


def test_rule_c5_the_next_draft_lists_the_steps_taken(acme: Customer) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    make_step(breach, taken_at=AWARE + timedelta(hours=2), action="Made the bucket private.")

    _, body = services.breach_notice_draft(breach, NoticeKind.UPDATE)

    assert "Made the bucket private." in body
    assert BreachRemediation.objects.get().history.get().history_type == "+"


# --- The dashboard (T5).


def test_rule_c5_a_notice_queued_an_hour_ago_and_not_sent_is_flagged(
    acme: Customer, counsel: object
) -> None:
    from customers.desk import unsent_breach_messages

    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()
    with time_machine.travel(AWARE + timedelta(hours=2), tick=False):
        make_message(affected)

    with time_machine.travel(AWARE + timedelta(hours=3), tick=False):
        at_the_hour = unsent_breach_messages(counsel, AWARE.date(), 10)
    with time_machine.travel(AWARE + timedelta(hours=3, seconds=1), tick=False):
        (warning,) = unsent_breach_messages(counsel, AWARE.date(), 10)

    assert at_the_hour == []
    assert warning.rule == "C5"
    assert warning.text.startswith("1 breach notice(s) queued more than an hour ago")
    assert warning.url == "/admin/customers/breachmessage/?sent_at__isempty=1"
