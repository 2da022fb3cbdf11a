"""A record's history in the admin: who, when, why and a readable diff (DOMAIN.md H1, H2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.models import DPA
from customers.models.dpas import DPAStatus
from harmonyze_portal.history import PUBLIC_FORM, acting_as
from harmonyze_portal.models import PublicHoliday
from tests.customers.builders import make_customer, make_dpa

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]


def diff_row(label: str, old: str, new: str) -> re.Pattern[str]:
    return re.compile(
        rf'<th scope="row">{re.escape(label)}</th>\s*'
        rf'<td class="history-old">{re.escape(old)}</td>\s*'
        rf'<td class="history-new">{re.escape(new)}</td>'
    )


def history_url(obj: Any) -> str:
    opts = obj._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/history/"


def edit(obj: Any, *, user: Any = None, reason: str = "", **values: Any) -> None:
    for name, value in values.items():
        setattr(obj, name, value)
    if user is not None:
        obj._history_user = user
    if reason:
        obj._change_reason = reason
    obj.save()


def test_the_history_shows_who_when_why_and_a_readable_diff(
    counsel: Any, signed_in: SignIn
) -> None:
    counsel.last_name = "Okafor"
    counsel.save()
    acme = make_customer("Acme Analytics GmbH")
    globex = make_customer("Globex Corporation")
    with time_machine.travel("2026-03-02 14:05:00Z", tick=False):
        dpa = make_dpa(acme, version="2024-03")
        edit(
            dpa,
            user=counsel,
            reason="Signed by the group's parent instead",
            customer=globex,
            status=DPAStatus.SUPERSEDED,
            uk_addendum=True,
        )

    page = signed_in(counsel).get(history_url(dpa)).content.decode()

    # The user by full name, the time in the legal time zone, the reason as written.
    assert '<td class="history-actor">Counsel Okafor</td>' in page
    assert "2026-03-02 09:05 EST" in page
    assert '<td class="history-reason">Signed by the group&#x27;s parent instead</td>' in page
    # Field labels from verbose_name, choice labels, foreign keys by name, booleans in words.
    assert diff_row("Customer", "Acme Analytics GmbH", "Globex Corporation").search(page)
    assert diff_row("Status", "In force", "Superseded").search(page)
    assert diff_row("UK Addendum", "No", "Yes").search(page)
    # The edit lists only what changed; the creation lists every field from nothing.
    assert not diff_row("DPA version", "2024-03", "2024-03").search(page)
    assert diff_row("DPA version", "", "2024-03").search(page)
    assert diff_row("Signature date", "", "2024-01-01").search(page)
    assert f'href="/admin/history/export/?model=customers.dpa&amp;record={dpa.pk}"' in page
    # CSP: nothing inline.
    assert "<script>" not in page
    assert "style=" not in page


def test_public_form_and_task_changes_name_their_actor(counsel: Any, signed_in: SignIn) -> None:
    with acting_as(PUBLIC_FORM):
        holiday = PublicHoliday(date=date(2026, 12, 25), name="Christmas")
        holiday.save()
    with acting_as("task: sync holidays", reason="Official calendar"):
        edit(holiday, name="Christmas Day")

    page = signed_in(counsel).get(history_url(holiday)).content.decode()

    assert '<td class="history-actor">public form</td>' in page
    assert '<td class="history-actor">task: sync holidays</td>' in page
    assert '<td class="history-reason">Official calendar</td>' in page
    assert diff_row("Name", "Christmas", "Christmas Day").search(page)


def test_a_long_history_is_paginated_and_each_page_diffs_against_the_row_before_it(
    counsel: Any, signed_in: SignIn
) -> None:
    holiday = PublicHoliday(date=date(2026, 12, 25), name="Name 0")
    holiday.save()
    for n in range(1, 61):
        edit(holiday, name=f"Name {n}")
    client = signed_in(counsel)

    first = client.get(history_url(holiday)).content.decode()
    second = client.get(history_url(holiday) + "?p=2").content.decode()

    assert first.count('class="history-entry"') == 50
    assert second.count('class="history-entry"') == 11
    assert "61 entries" in first
    # The oldest edit of page 1 is compared with the newest row of page 2.
    assert diff_row("Name", "Name 10", "Name 11").search(first)
    assert diff_row("Name", "Name 9", "Name 10").search(second)
    assert diff_row("Name", "", "Name 0").search(second)


def make_dpa_with_history(edits: int) -> DPA:
    acme = make_customer(f"Acme {edits}")
    globex = make_customer(f"Globex {edits}")
    dpa = make_dpa(acme)
    for n in range(edits - 1):
        edit(dpa, customer=globex if n % 2 == 0 else acme, version=f"v{n}")
    return dpa


def test_the_query_count_does_not_grow_with_the_history(counsel: Any, signed_in: SignIn) -> None:
    client = signed_in(counsel)
    short, long = make_dpa_with_history(10), make_dpa_with_history(60)
    assert short.history.count() == 10
    assert long.history.count() == 60
    client.get(history_url(short))  # warm caches (content types, session)

    with CaptureQueriesContext(connection) as on_short:
        assert client.get(history_url(short)).status_code == 200
    with CaptureQueriesContext(connection) as on_long:
        page = client.get(history_url(long))
        assert page.status_code == 200

    assert len(on_long) == len(on_short)
    assert page.content.decode().count('class="history-entry"') == 50


def test_a_staff_change_without_a_reason_names_the_user(counsel: Any, signed_in: SignIn) -> None:
    holiday = PublicHoliday(date=date(2026, 12, 25), name="Christmas Day")
    holiday.save()
    edit(holiday, user=counsel, name="Xmas")

    page = signed_in(counsel).get(history_url(holiday)).content.decode()

    assert page.count('class="history-entry"') == 2
    assert '<td class="history-actor">Counsel</td>' in page
