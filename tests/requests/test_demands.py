"""Law-enforcement demands as records (R4, H1): the stored due dates and the one QuerySet
method each open filter has, every consumer agreeing on them; the customer links and SCC
Clause 15 steps as tracked records on every path that writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from customers.models import Customer
from harmonyze_portal.calendar_feed import build_calendar
from harmonyze_portal.desk import deadline_items
from harmonyze_portal.digest import build_digest
from harmonyze_portal.history import acting_as
from requests.models import DemandCustomer, DemandStep, LawEnforcementDemand, StepKind
from tests.requests.builders import make_demand

pytestmark = pytest.mark.django_db

BASE = "/admin/requests/lawenforcementdemand/"
ORDER_STARTS = date(2026, 1, 5)
LAST_BINDING_DAY = date(2026, 5, 14)


def ordered(acme: Customer, ends: date | None) -> LawEnforcementDemand:
    return make_demand(
        customers=(acme,),
        compelled=True,
        received_on=date(2026, 1, 2),
        nondisclosure_order=True,
        nondisclosure_order_starts=ORDER_STARTS,
        nondisclosure_order_ends=ends,
    )


def record_step(
    demand: LawEnforcementDemand, kind: str, on: date, note: str = "Asked the court to lift it"
) -> DemandStep:
    step = DemandStep(demand=demand, kind=kind, taken_on=on, note=note)
    step.full_clean()
    step.save()
    return step


# --- The stored due dates (R4 revised).


def test_rule_r4_the_due_dates_are_stored_on_every_save(acme: Customer) -> None:
    demand = ordered(acme, ends=None)
    assert (demand.customer_notice_due_on, demand.order_review_due_on) == (None, date(2026, 4, 5))

    demand.nondisclosure_order_ends = LAST_BINDING_DAY
    demand.save()

    demand.refresh_from_db()
    assert (demand.customer_notice_due_on, demand.order_review_due_on) == (
        date(2026, 5, 15),
        None,
    )
    assert demand.history.first().customer_notice_due_on == date(2026, 5, 15)  # H1


def test_rule_r4_an_order_without_an_end_date_no_longer_drops_the_notice(
    counsel: Any, acme: Customer
) -> None:
    """The old filter never listed it; now its review is on the dashboard."""
    ordered(acme, ends=None)

    desk = deadline_items(counsel, date(2026, 4, 5))

    assert [(item.rule, item.due) for item in desk.items] == [("R4", date(2026, 4, 5))]
    assert "Review the non-disclosure order" in desk.items[0].what


def test_the_notice_due_date_follows_a_save_with_update_fields(acme: Customer) -> None:
    demand = ordered(acme, ends=None)
    demand.nondisclosure_order_ends = LAST_BINDING_DAY

    demand.save(update_fields=["nondisclosure_order_ends"])

    demand.refresh_from_db()
    assert demand.customer_notice_due_on == date(2026, 5, 15)


def _notice_filter(client: Client, day: date, value: str) -> set[int]:
    with time_machine.travel(datetime.combine(day, time(15, 0), tzinfo=UTC), tick=False):
        response = client.get(BASE, {"notice": value})
    assert response.status_code == 200
    return {demand.pk for demand in response.context["cl"].result_list}


def _calendar_days(user: Any, today: date) -> list[date]:
    calendar = icalendar.Calendar.from_ical(build_calendar(user, today))
    return [event.decoded("dtstart") for event in calendar.walk("VEVENT")]


def _digest_days(user: Any, today: date) -> list[tuple[date, bool]]:
    digest = build_digest(user, today)
    return [(item.due, item.overdue) for item in digest.overdue + digest.this_week]


@pytest.mark.parametrize(
    ("today", "listed_as_due"),
    [(LAST_BINDING_DAY, False), (LAST_BINDING_DAY + timedelta(days=1), True)],
    ids=["last-binding-day", "day-after"],
)
def test_rule_r4_dashboard_filter_calendar_and_digest_agree_on_the_notice(
    counsel: Any,
    signed_in: Callable[[Any], Client],
    acme: Customer,
    today: date,
    listed_as_due: bool,
) -> None:
    demand = ordered(acme, ends=LAST_BINDING_DAY)
    due = date(2026, 5, 15)

    assert [i.due for i in deadline_items(counsel, today).items] == [due]
    assert (demand.pk in _notice_filter(signed_in(counsel), today, "due")) is listed_as_due
    assert _calendar_days(counsel, today) == [due]
    assert _digest_days(counsel, today) == [(due, False)]


@pytest.mark.parametrize(
    ("today", "listed_as_due"),
    [(date(2026, 4, 4), False), (date(2026, 4, 5), True), (date(2026, 4, 6), True)],
    ids=["day-before", "review-day", "day-after"],
)
def test_rule_r4_dashboard_filter_calendar_and_digest_agree_on_the_review(
    counsel: Any,
    signed_in: Callable[[Any], Client],
    acme: Customer,
    today: date,
    listed_as_due: bool,
) -> None:
    demand = ordered(acme, ends=None)
    review = ORDER_STARTS + timedelta(days=90)
    client = signed_in(counsel)

    assert [i.due for i in deadline_items(counsel, today).items] == [review]
    assert (demand.pk in _notice_filter(client, today, "review")) is listed_as_due
    assert _calendar_days(counsel, today) == [review]
    assert _digest_days(counsel, today) == [(review, today > review)]
    assert demand.pk not in _notice_filter(client, today, "due")


def test_rule_r4_a_recorded_effort_to_lift_the_order_moves_the_next_review(
    counsel: Any, acme: Customer
) -> None:
    demand = ordered(acme, ends=None)

    step = record_step(demand, StepKind.LIFT_ORDER, date(2026, 3, 20))

    demand.refresh_from_db()
    assert demand.order_review_due_on == date(2026, 6, 18)
    assert [i.due for i in deadline_items(counsel, date(2026, 6, 18)).items] == [date(2026, 6, 18)]
    moved = demand.history.first()
    assert moved.order_review_due_on == date(2026, 6, 18)
    assert "SCC 15.1(b)" in moved.history_change_reason

    step.delete()
    demand.refresh_from_db()
    assert demand.order_review_due_on == date(2026, 4, 5)


def test_rule_r4_other_steps_leave_the_review_where_it_is(acme: Customer) -> None:
    demand = ordered(acme, ends=None)
    versions = demand.history.count()

    record_step(demand, StepKind.LEGALITY_REVIEW, date(2026, 3, 20), "Order is valid")

    demand.refresh_from_db()
    assert demand.order_review_due_on == date(2026, 4, 5)
    assert demand.history.count() == versions


def test_rule_r4_the_review_period_is_a_setting(settings: Any, acme: Customer) -> None:
    settings.NDO_REVIEW_DAYS = 30

    assert ordered(acme, ends=None).order_review_due_on == date(2026, 2, 4)


def test_rule_r4_notified_demands_leave_both_open_filters(acme: Customer) -> None:
    ended = ordered(acme, ends=LAST_BINDING_DAY)
    open_ended = ordered(acme, ends=None)
    assert set(LawEnforcementDemand.objects.customer_notice_open()) == {ended}
    assert set(LawEnforcementDemand.objects.order_review_open()) == {open_ended}

    for demand in (ended, open_ended):
        demand.customer_notified_on = date(2026, 5, 20)
        demand.save()

    assert not LawEnforcementDemand.objects.customer_notice_open().exists()
    assert not LawEnforcementDemand.objects.order_review_open().exists()


# --- SCC Clause 15 steps.


def test_rule_r4_a_step_without_a_note_is_refused_by_the_database(acme: Customer) -> None:
    demand = ordered(acme, ends=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        DemandStep(demand=demand, kind=StepKind.CHALLENGE, taken_on=date(2026, 2, 1)).save()
    assert not DemandStep.objects.exists()


@pytest.mark.parametrize(
    ("kind", "taken_on", "field"),
    [
        (StepKind.LIFT_ORDER, date(2026, 3, 5), "kind"),  # there is no order to lift
        (StepKind.LEGALITY_REVIEW, date(2026, 3, 1), "taken_on"),  # before the demand came
    ],
)
def test_rule_r4_bad_steps_are_refused_on_their_field(
    kind: str, taken_on: date, field: str
) -> None:
    demand = make_demand(received_on=date(2026, 3, 2))
    step = DemandStep(demand=demand, kind=kind, taken_on=taken_on, note="Done")

    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert field in refused.value.message_dict


def test_rule_h1_a_step_has_history(acme: Customer) -> None:
    demand = ordered(acme, ends=None)
    with acting_as("task: import", reason="Imported from the case file"):
        step = record_step(demand, StepKind.MINIMAL_DISCLOSURE, date(2026, 2, 1), "Two logins")

    row = step.history.get()
    assert (row.history_type, row.history_actor, row.history_change_reason) == (
        "+",
        "task: import",
        "Imported from the case file",
    )


# --- H1: the Customers a demand concerns are history, whichever side writes them.


def _links(demand: LawEnforcementDemand) -> list[tuple[str, str]]:
    return [
        (row.history_type, row.customer.legal_name)
        for row in DemandCustomer.history.filter(demand_id=demand.pk).order_by("history_id")
    ]


def test_rule_h1_adding_and_removing_a_customer_from_the_shell_is_history(
    acme: Customer, globex: Customer
) -> None:
    demand = make_demand(customers=(acme,))

    demand.customers.add(globex)
    demand.customers.remove(acme)
    globex.demands.remove(demand)  # the reverse side
    acme.demands.add(demand)
    demand.customers.set([globex])
    demand.customers.clear()

    assert _links(demand) == [
        ("+", "Acme Analytics GmbH"),
        ("+", "Globex Corporation Ltd"),
        ("-", "Acme Analytics GmbH"),
        ("-", "Globex Corporation Ltd"),
        ("+", "Acme Analytics GmbH"),
        ("-", "Acme Analytics GmbH"),
        ("+", "Globex Corporation Ltd"),
        ("-", "Globex Corporation Ltd"),
    ]


def test_rule_h1_bulk_created_links_still_get_history(acme: Customer, globex: Customer) -> None:
    demand = make_demand()

    DemandCustomer.objects.bulk_create(
        [DemandCustomer(demand=demand, customer=c) for c in (acme, globex)]
    )

    assert _links(demand) == [("+", "Acme Analytics GmbH"), ("+", "Globex Corporation Ltd")]


def test_rule_h1_a_customer_is_linked_once(acme: Customer) -> None:
    demand = make_demand(customers=(acme,))

    with pytest.raises(IntegrityError), transaction.atomic():
        DemandCustomer(demand=demand, customer=acme).save()
