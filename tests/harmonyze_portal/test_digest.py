"""The daily deadline digest: content, who gets it, once per legal day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from customers.models import Customer
from harmonyze_portal.models import DigestSent, StaffPreference
from tests.harmonyze_portal.test_desk import NOW, TODAY, c6, r4

WEEK_END = TODAY + timedelta(days=6)


def _opt_in(user: Any, on: bool = True) -> None:
    StaffPreference(user=user, daily_digest=on).save()


def _run(capture: Any, when: str = NOW) -> str:
    out = StringIO()
    with capture(execute=True), time_machine.travel(when, tick=False):
        call_command("send_deadline_digest", stdout=out)
    return out.getvalue()


def _to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def test_an_opted_in_user_gets_overdue_and_this_week(
    counsel: Any, acme: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    _opt_in(counsel)
    c6(acme, TODAY - timedelta(days=3), False)
    r4(acme, WEEK_END, False)
    c6(acme, WEEK_END + timedelta(days=1), False)  # next week: not in the digest

    assert "1 digest queued for 2026-03-10" in _run(django_capture_on_commit_callbacks)

    [message] = _to(counsel.email)
    assert message.subject == "Deadlines 2026-03-10: 1 overdue, 1 due this week"
    overdue, _, week = message.body.partition("Due this week (1):")
    assert "Overdue (1):" in overdue
    assert "2026-03-07 [C6] Assist the customer" in overdue
    assert "3 days overdue" in overdue
    assert "Acme Analytics GmbH" in overdue
    assert "2026-03-16 1 restricted item — sign in" in week
    assert "2026-03-17" not in message.body
    assert "http://" in week or "https://" in week


def test_opted_out_inactive_and_unset_users_get_nothing(
    counsel: Any, analyst: Any, viewer: Any, acme: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    c6(acme, TODAY, False)
    _opt_in(counsel, on=False)
    _opt_in(analyst)
    analyst.is_active = False
    analyst.save()
    # viewer never chose

    _run(django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert not DigestSent.objects.exists()


def test_law_enforcement_items_stay_out_of_other_digests(
    counsel: Any, viewer: Any, acme: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    _opt_in(counsel)
    _opt_in(viewer)
    r4(acme, TODAY, False)
    c6(acme, TODAY, False)

    _run(django_capture_on_commit_callbacks)

    assert "1 restricted item — sign in" in _to(counsel.email)[0].body
    assert "restricted" not in _to(viewer.email)[0].body


def test_twice_the_same_day_sends_nothing_new_the_next_day_again(
    counsel: Any, acme: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    _opt_in(counsel)
    c6(acme, TODAY, False)

    _run(django_capture_on_commit_callbacks)
    assert "0 digests" in _run(django_capture_on_commit_callbacks, "2026-03-11 03:00:00Z")
    assert len(mail.outbox) == 1  # 03:00Z is still 2026-03-10 in New York (T1)

    _run(django_capture_on_commit_callbacks, "2026-03-11 15:00:00Z")
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith("Deadlines 2026-03-11: 1 overdue")
    assert [d.day for d in DigestSent.objects.order_by("day")] == [TODAY, TODAY + timedelta(1)]
    assert {h.history_actor for h in DigestSent.history.all()} == {"task: send deadline digest"}


def test_staff_opt_in_on_their_calendar_page(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(counsel)
    client.post("/staff/calendar/", {"action": "digest_on"})
    assert StaffPreference.objects.get(user=counsel).daily_digest is True
    client.post("/staff/calendar/", {"action": "digest_off"})
    assert StaffPreference.objects.get(user=counsel).daily_digest is False


def test_rule_r6_counsels_digest_carries_only_restricted_items(
    counsel: Any, acme: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    """Email leaves the portal: each demand is counted, never named (no agency, customer,
    process, country or record link)."""
    from requests.models import LegalProcess
    from tests.requests.builders import make_demand

    _opt_in(counsel)
    doj = {
        "agency": "U.S. Department of Justice",
        "country": "Ruritania",
        "legal_process": LegalProcess.COURT_ORDER,
        "customers": (acme,),
        "compelled": True,
    }
    make_demand(received_on=TODAY - timedelta(days=2), **doj)
    make_demand(received_on=TODAY - timedelta(days=2), **doj)
    make_demand(received_on=TODAY + timedelta(days=1), **doj)

    _run(django_capture_on_commit_callbacks)

    [message] = _to(counsel.email)
    assert message.subject == "Deadlines 2026-03-10: 2 overdue, 1 due this week"
    assert "- 2026-03-08 2 restricted items — sign in" in message.body
    assert "- 2026-03-11 1 restricted item — sign in" in message.body
    for secret in ("Department", "Ruritania", "Acme", "court order", "R4", "lawenforcement"):
        assert secret.lower() not in message.body.lower(), secret
