"""Instructions (C8, DPA 2.2–2.4): the register, the same-legal-day notice (flagged when late,
on the desk while unsent), drafted from the template, sent through the task queue with each
send recorded, the customer's response, and the export that honours the filters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from customers import services
from customers.models import Customer, InstructionNotice, InstructionResponse
from customers.models.instructions import NoticeKind, ResponseKind
from harmonyze_portal import desk
from tests.customers.builders import make_customer, make_instruction, make_instruction_notice
from tests.downloads import body

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# 23:59 in New York on 2026-03-03 (04:59 UTC on the 4th): due that same legal day.
LATE_EVENING = datetime(2026, 3, 3, 23, 59, tzinfo=NEW_YORK)
JUST_AFTER_MIDNIGHT = datetime(2026, 3, 4, 0, 1, tzinfo=NEW_YORK)


def notices_url(query: str = "") -> str:
    return "/admin/customers/instructionnotice/" + (f"?{query}" if query else "")


# --- The record.


@pytest.mark.parametrize(
    ("identified", "due"),
    [(LATE_EVENING, date(2026, 3, 3)), (JUST_AFTER_MIDNIGHT, date(2026, 3, 4))],
)
def test_rule_c8_the_notice_is_due_the_legal_day_it_is_identified(
    acme: Customer, identified: datetime, due: date
) -> None:
    notice = make_instruction_notice(acme, identified_at=identified)

    assert InstructionNotice.objects.get(pk=notice.pk).due_on == due


def test_rule_c8_a_notice_sent_the_next_legal_day_is_flagged_late(acme: Customer) -> None:
    notice = make_instruction_notice(acme, identified_at=LATE_EVENING)
    notice.sent_at = datetime(2026, 3, 4, 0, 1, tzinfo=NEW_YORK)

    assert notice.is_late

    notice.sent_at = datetime(2026, 3, 3, 23, 59, 59, tzinfo=NEW_YORK)
    assert not notice.is_late


def test_rule_c8_the_database_refuses_a_dpa_2_3_notice_without_its_instruction(
    acme: Customer,
) -> None:
    refused = pytest.raises(IntegrityError, match="instruction_notice_names_instruction")
    with refused, transaction.atomic():
        InstructionNotice(
            customer=acme,
            kind=NoticeKind.INFRINGEMENT,
            identified_at=LATE_EVENING,
            reasons="Unlawful",
        ).save()
    # DPA 2.4 is about Harmonyze itself: no instruction needed.
    make_instruction_notice(acme, kind=NoticeKind.CANNOT_MEET_OBLIGATIONS)


def test_rule_c8_a_notice_cannot_name_another_customers_instruction(
    acme: Customer, globex: Customer
) -> None:
    notice = InstructionNotice(
        customer=acme,
        instruction=make_instruction(globex),
        kind=NoticeKind.INFRINGEMENT,
        identified_at=LATE_EVENING,
        reasons="Unlawful",
    )

    with pytest.raises(ValidationError) as caught:
        notice.full_clean()

    assert "instruction" in caught.value.message_dict


# --- On the desk while unsent.


def test_rule_c8_an_unsent_notice_is_on_the_desk_until_it_is_sent(
    acme: Customer, counsel: Any
) -> None:
    notice = make_instruction_notice(acme, identified_at=LATE_EVENING)

    def c8(today: date) -> list[tuple[date, int]]:
        items = desk.deadline_items(counsel, today, rule="C8").items
        return [(item.due, item.days_left) for item in items]

    assert c8(date(2026, 3, 3)) == [(date(2026, 3, 3), 0)]
    assert c8(date(2026, 3, 4)) == [(date(2026, 3, 3), -1)]  # overdue the next legal day
    notice.sent_at = datetime(2026, 3, 4, 9, 0, tzinfo=NEW_YORK)
    notice.save()
    assert c8(date(2026, 3, 4)) == []


# --- Drafted from the template, sent through the task queue, each send recorded.


def send(client: Client, pk: int, **confirm: str) -> Any:
    data: dict[str, Any] = {"action": "send_notice", "_selected_action": [pk], **confirm}
    return client.post(notices_url(), data)


@time_machine.travel(datetime(2026, 3, 3, 16, 0, tzinfo=UTC), tick=False)
def test_rule_c8_send_shows_the_draft_then_sends_and_records_it(
    acme: Customer,
    analyst: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    notice = make_instruction_notice(acme, identified_at=datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    client = signed_in(analyst)

    draft = send(client, notice.pk)

    page = draft.content.decode()
    assert draft.status_code == 200
    assert "Under section 2.3 of our Data Processing Addendum" in page
    assert "Keep call recordings of EU users for ten years" in page
    assert "privacy@acme.com" in page
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        done = send(client, notice.pk, confirm="Send", subject="DPA 2.3 notice", body="Text")

    assert done.status_code == 302
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["privacy@acme.com"], "DPA 2.3 notice", "Text")
    ]
    notice = InstructionNotice.objects.get(pk=notice.pk)
    assert notice.sent_to == "privacy@acme.com"
    assert notice.message_id == mail.outbox[0].extra_headers["Message-ID"]
    assert (notice.subject, notice.body) == ("DPA 2.3 notice", "Text")  # kept as sent
    assert not notice.is_late
    record = notice.history.first()
    assert (record.history_user, record.history_actor) == (
        analyst,
        "task: send instruction notices for staff: analyst",
    )

    with django_capture_on_commit_callbacks(execute=True):
        send(client, notice.pk, confirm="Send", subject="Again", body="Again")
    assert len(mail.outbox) == 1  # each notice is sent once


def test_rule_c8_a_customer_without_a_notice_contact_is_refused_before_queueing(
    analyst: Any,
) -> None:
    initech = make_customer("Initech AG")
    notice = make_instruction_notice(initech)

    with pytest.raises(ValidationError, match="no notice contact"):
        services.instruction_notice_queue(notice=notice, subject="S", body="B")

    assert InstructionNotice.objects.get(pk=notice.pk).body == ""


def test_rule_c8_the_viewer_cannot_send(
    acme: Customer,
    viewer: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    notice = make_instruction_notice(acme)

    with django_capture_on_commit_callbacks(execute=True):
        send(signed_in(viewer), notice.pk, confirm="Send", subject="S", body="B")

    assert mail.outbox == []
    assert InstructionNotice.objects.get(pk=notice.pk).sent_at is None


def test_rule_c8_the_dpa_2_4_draft_says_harmonyze_cannot_meet_its_obligations(
    acme: Customer,
) -> None:
    notice = make_instruction_notice(acme, kind=NoticeKind.CANNOT_MEET_OBLIGATIONS)

    subject, body = services.instruction_notice_draft(notice)

    assert "Harmonyze cannot meet its obligations (DPA 2.4)" in subject
    assert "section 2.4 of our Data Processing Addendum" in body
    assert "1798.100(d)" in body


# --- The customer's response, and the export honouring the filters.


@time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False)
def test_rule_c8_the_export_honours_the_filter_and_carries_the_response(
    acme: Customer, globex: Customer, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    sent = make_instruction_notice(acme, identified_at=LATE_EVENING)
    sent.sent_at = JUST_AFTER_MIDNIGHT
    sent.sent_to = "privacy@acme.com"
    sent.save()
    response = InstructionResponse(
        notice=sent,
        received_on=date(2026, 3, 5),
        kind=ResponseKind.WITHDRAWN,
        description="Withdrawn by letter",
    )
    response.full_clean()
    response.save()
    make_instruction_notice(globex)  # unsent: filtered out below

    export = signed_in(viewer).post(f"{notices_url()}export/?state=sent", {"format": "0"})

    rows = list(csv.DictReader(io.StringIO(body(export).decode())))
    assert [row["Customer"] for row in rows] == ["Acme Analytics GmbH"]
    assert rows[0]["On time / late"] == "late by 1 day"
    assert rows[0]["Due (C8)"] == "2026-03-03"
    assert (
        rows[0]["Customer's response"] == "2026-03-05 Withdrew the instruction: Withdrawn by letter"
    )


def test_rule_c8_a_response_cannot_predate_the_notice(acme: Customer) -> None:
    notice = make_instruction_notice(acme, identified_at=LATE_EVENING)
    response = InstructionResponse(
        notice=notice, received_on=date(2026, 3, 2), kind=ResponseKind.AMENDED, description="x"
    )

    with pytest.raises(ValidationError) as caught:
        response.full_clean()

    assert "received_on" in caught.value.message_dict


@time_machine.travel(datetime(2026, 3, 3, 16, 0, tzinfo=UTC), tick=False)
def test_rule_c8_an_identification_time_in_the_future_is_refused(acme: Customer) -> None:
    notice = InstructionNotice(
        customer=acme,
        kind=NoticeKind.CANNOT_MEET_OBLIGATIONS,
        identified_at=datetime(2026, 3, 3, 16, 1, tzinfo=UTC),
        reasons="Backup region withdrawn",
    )

    with pytest.raises(ValidationError) as caught:
        notice.full_clean()

    assert "identified_at" in caught.value.message_dict


def test_rule_c8_the_instruction_register_exports_with_its_filter(
    acme: Customer, globex: Customer, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_instruction_notice(acme, identified_at=LATE_EVENING)
    make_instruction(globex, withdrawn_on=date(2026, 3, 9))

    export = signed_in(viewer).post(
        "/admin/customers/instruction/export/?withdrawn_on__isempty=1", {"format": "0"}
    )

    rows = list(csv.DictReader(io.StringIO(body(export).decode())))
    assert [row["Customer"] for row in rows] == ["Acme Analytics GmbH"]
    assert rows[0]["Notices about it (C8)"] == (
        "Instruction infringes data protection law (DPA 2.3), due 2026-03-03, not sent"
    )
