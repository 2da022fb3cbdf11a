"""The sub-processor services at their edges: the held gate and counsel's waiver (S3), the
Notice's words and staff-entered objections (S4), and whose work the history records (H1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from customers.models import Customer
from customers.models.accounts import TerminationRoute
from harmonyze_portal.desk import coverage_warnings, deadline_items
from subprocessors.models import (
    Change,
    Delivery,
    DeliveryStatus,
    Objection,
    Signup,
    SignupStatus,
    SubProcessorStatus,
)
from subprocessors.services import (
    change_refresh_notice_date,
    delivery_waive,
    notice_content,
    objection_enter,
    objection_record,
)
from subprocessors.tasks import ACTOR
from tests.subprocessors.builders import (
    make_change,
    make_delivery,
    make_signup,
    make_subprocessor,
)

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, 2 March
SignIn = Callable[[Any], Client]


@pytest.fixture
def held(acme: Customer) -> Delivery:
    """Stripe announced on 2 March: alice's Notice went out that day; the one to
    gone@example.org failed for good."""
    change = make_change(
        make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED), published_at=PUBLISHED
    )
    make_delivery(change, make_signup("alice@acme.com", status=SignupStatus.ACTIVE))
    gone = Delivery(
        change=change,
        signup=make_signup("gone@example.org", status=SignupStatus.ACTIVE),
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="SMTPRecipientsRefused: 550 no such user",
    )
    gone.save()
    change_refresh_notice_date(change)
    return gone


def waive(client: Client, delivery: Delivery, reason: str) -> Any:
    return client.post(
        "/admin/subprocessors/delivery/",
        {
            "action": "waive",
            "_selected_action": [delivery.pk],
            "confirm": "yes",
            "reason": reason,
        },
    )


# --- S3: the held gate and counsel's decision to proceed without an address.


def test_rule_s3_a_delivery_failed_for_good_holds_the_gate_on_the_dashboard(
    held: Delivery, counsel: Any
) -> None:
    change = held.change
    change.refresh_from_db()
    assert (change.notice_date, change.earliest_access_on) == (None, None)

    [warning] = [w for w in coverage_warnings(counsel, date(2026, 3, 10)) if w.rule == "S3"]

    assert str(change) in warning.text
    assert "held by 1 delivery that failed for good" in warning.text
    assert warning.url == (
        f"/admin/subprocessors/delivery/?change__id__exact={change.pk}&status=failed"
    )


def test_rule_s3_counsel_proceeds_without_the_address_with_a_reason(
    held: Delivery, counsel: Any, signed_in: SignIn
) -> None:
    client = signed_in(counsel)

    response = waive(client, held, "Mailbox closed; the customer confirmed by phone.")

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.waived_by == counsel
    assert held.waived_at is not None
    assert held.waiver_reason == "Mailbox closed; the customer confirmed by phone."
    record = held.history.first()
    assert record.history_user == counsel
    assert record.history_actor == "staff: counsel"
    assert "Mailbox closed" in record.history_change_reason
    change = Change.objects.get()
    # The Notice date is the last successful delivery's: alice's, on 2 March.
    assert (change.notice_date, change.earliest_access_on) == (date(2026, 3, 2), date(2026, 3, 17))
    assert change.subprocessor.earliest_access_on == date(2026, 3, 17)
    assert not [w for w in coverage_warnings(counsel, date(2026, 3, 10)) if w.rule == "S3"]


def test_rule_s3_a_waiver_needs_a_reason(held: Delivery, counsel: Any, signed_in: SignIn) -> None:
    response = waive(signed_in(counsel), held, "")

    assert response.status_code == 200
    held.refresh_from_db()
    assert held.waived_at is None
    with pytest.raises(ValidationError):
        delivery_waive(delivery=held, by=counsel, reason="  ")


@pytest.mark.parametrize("person", ["analyst", "viewer"])
def test_rule_s3_only_counsel_may_proceed_without_an_address(
    held: Delivery, analyst: Any, viewer: Any, signed_in: SignIn, person: str
) -> None:
    user = {"analyst": analyst, "viewer": viewer}[person]
    client = signed_in(user)

    changelist = client.get("/admin/subprocessors/delivery/")
    assert 'value="waive"' not in changelist.content.decode()
    waive(client, held, "I would like to")
    with pytest.raises(PermissionDenied):
        delivery_waive(delivery=held, by=user, reason="I would like to")

    held.refresh_from_db()
    assert held.waived_at is None
    assert Change.objects.get().notice_date is None


def test_rule_s3_a_sent_delivery_cannot_be_waived(held: Delivery, counsel: Any) -> None:
    sent = Delivery.objects.get(status=DeliveryStatus.SENT)

    with pytest.raises(ValidationError, match="has not failed for good"):
        delivery_waive(delivery=sent, by=counsel, reason="No")


# --- S4: the Notice states the right as it is; one deadline for every route.


def test_rule_s4_the_notice_states_the_dpa_right_without_added_conditions() -> None:
    change = make_change(make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED))

    _, body = notice_content(change)

    assert "reasonable" not in body.lower()
    assert "within 7 days of receiving this Notice (DPA 5.1)" in " ".join(body.split())


def test_rule_s5_the_objection_termination_route_cites_dpa_5_1() -> None:
    assert "DPA 5.1" in TerminationRoute.OBJECTION.label
    assert "5.2" not in TerminationRoute.OBJECTION.label


@pytest.fixture
def notified(acme: Customer) -> Change:
    """Stripe's Notice reached alice@acme.com on 2 March: Acme may object until 9 March."""
    change = make_change(
        make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED),
        published_at=PUBLISHED,
        notice_date=date(2026, 3, 2),
    )
    make_delivery(change, make_signup("alice@acme.com", status=SignupStatus.ACTIVE))
    return change


def entry(change: Change, **fields: Any) -> dict[str, Any]:
    return {
        "change": change.pk,
        "channel": "letter",
        "received_on": "2026-03-09",
        "signup": "",
        "customer": "",
        "reason": "Our works council objects.",
        "change_reason": "",
        **fields,
    }


@pytest.mark.parametrize(
    ("received_on", "in_time"),
    [("2026-03-09", True), ("2026-03-10", False)],
    ids=["day 7", "day 8"],
)
def test_rule_s4_staff_enter_a_letter_judged_by_the_same_rule(
    notified: Change,
    acme: Customer,
    analyst: Any,
    signed_in: SignIn,
    received_on: str,
    in_time: bool,
) -> None:
    with time_machine.travel(datetime(2026, 3, 12, 15, tzinfo=UTC), tick=False):
        response = signed_in(analyst).post(
            "/admin/subprocessors/objection/add/",
            entry(notified, customer=acme.pk, received_on=received_on),
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    objection = Objection.objects.get()
    assert (objection.customer, objection.signup, objection.channel) == (acme, None, "letter")
    assert objection.received_on == date.fromisoformat(received_on)
    assert (objection.deadline, objection.in_time) == (date(2026, 3, 9), in_time)
    record = objection.history.get()
    assert (record.history_user, record.history_actor) == (analyst, "staff: analyst")
    desk = deadline_items(analyst, date(2026, 3, 12), rule="S4")
    assert [item.what for item in desk.items] == ["Resolve the objection from Acme Analytics GmbH"]


def test_rule_s4_a_date_received_in_the_future_is_refused(
    notified: Change, acme: Customer, counsel: Any, signed_in: SignIn
) -> None:
    with time_machine.travel(datetime(2026, 3, 8, 15, tzinfo=UTC), tick=False):
        response = signed_in(counsel).post(
            "/admin/subprocessors/objection/add/",
            entry(notified, customer=acme.pk, received_on="2026-03-09"),
        )
        with pytest.raises(ValidationError):
            objection_enter(
                change=notified,
                channel="email",
                received_on=date(2026, 3, 9),
                reason="Tomorrow",
                customer=acme,
            )

    assert response.status_code == 200
    assert "cannot be in the future" in str(response.context["adminform"].form.errors)
    assert not Objection.objects.exists()


def test_rule_s4_an_entered_objection_names_who_objects(
    notified: Change, counsel: Any, signed_in: SignIn
) -> None:
    response = signed_in(counsel).post("/admin/subprocessors/objection/add/", entry(notified))

    assert response.status_code == 200
    assert "Name the signup or the customer" in str(response.context["adminform"].form.errors)
    assert not Objection.objects.exists()


def test_rule_s4_the_viewer_cannot_enter_an_objection(
    notified: Change, acme: Customer, viewer: Any, signed_in: SignIn
) -> None:
    response = signed_in(viewer).post(
        "/admin/subprocessors/objection/add/", entry(notified, customer=acme.pk)
    )

    assert response.status_code == 403
    assert not Objection.objects.exists()


def test_rule_s4_an_address_the_notice_missed_counts_from_its_customers_delivery(
    notified: Change, client: Client
) -> None:
    """bob@acme.com signed up after publication: Acme received the Notice on 2 March."""
    from tests.subprocessors.test_views_objection import object_path

    bob = make_signup("bob@acme.com", status=SignupStatus.ACTIVE)
    assert notified.objection_deadline_for(signup=bob) == date(2026, 3, 9)

    with time_machine.travel(datetime(2026, 3, 10, 17, tzinfo=UTC), tick=False):
        page = client.get(object_path(notified, bob)).content.decode()
        objection = objection_record(change=notified, signup=bob, reason="Late")

    assert "The 7 days to object ended on 9 March 2026" in page
    assert (objection.deadline, objection.in_time) == (date(2026, 3, 9), False)


def test_rule_s4_an_address_the_notice_never_reached_is_in_time(
    notified: Change, client: Client
) -> None:
    """Nobody at example.org received the Notice: the 7 days have not started. The page and
    the service agree (before, the service judged from the Notice date)."""
    from tests.subprocessors.test_views_objection import object_path

    carol = make_signup("carol@example.org", status=SignupStatus.ACTIVE)

    with time_machine.travel(datetime(2026, 3, 20, 17, tzinfo=UTC), tick=False):
        page = client.get(object_path(notified, carol)).content.decode()
        objection = objection_record(change=notified, signup=carol, reason="We never got it")

    assert "You may object until" not in page
    assert "ended on" not in page
    assert (objection.deadline, objection.in_time) == (None, True)


# --- H1: the deliveries of a Notice counsel publishes are counsel's work.


def test_h1_every_delivery_history_row_of_a_published_notice_names_counsel(
    counsel: Any, signed_in: SignIn, django_capture_on_commit_callbacks: Any
) -> None:
    make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_signup("bob@example.org", status=SignupStatus.ACTIVE)
    change = make_change(make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED))
    client = signed_in(counsel)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/subprocessors/change/",
            {"action": "publish", "_selected_action": [change.pk], "confirm": "Publish"},
        )

    assert response.status_code == 302
    rows = Delivery.history.order_by("history_id")
    # Queued, claimed ("sending", the attempt counted before the SMTP exchange), sent (S6).
    assert [row.history_type for row in rows] == ["+", "+", "~", "~", "~", "~"]
    assert {row.history_user for row in rows} == {counsel}
    assert [row.history_actor for row in rows] == [
        "staff: counsel",
        "staff: counsel",
        *[f"{ACTOR} for staff: counsel"] * 4,
    ]
    assert {d.status for d in Delivery.objects.all()} == {DeliveryStatus.SENT}
    export = client.get("/admin/history/export/", {"model": "subprocessors.delivery"})
    lines = b"".join(export.streaming_content).decode().splitlines()[1:]
    assert lines
    assert all("staff: counsel" in line for line in lines)
    assert not any(",system," in line for line in lines)


def test_h1_a_retry_asked_by_the_analyst_is_the_analysts(
    analyst: Any, signed_in: SignIn, django_capture_on_commit_callbacks: Any
) -> None:
    change = make_change(
        make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED), published_at=PUBLISHED
    )
    failed = Delivery(
        change=change,
        signup=make_signup("alice@acme.com", status=SignupStatus.ACTIVE),
        status=DeliveryStatus.FAILED,
        attempts=5,
    )
    failed.save()

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(analyst).post(
            "/admin/subprocessors/delivery/", {"action": "retry", "_selected_action": [failed.pk]}
        )

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    sent = failed.history.first()
    assert (sent.history_user, sent.history_actor) == (analyst, f"{ACTOR} for staff: analyst")


@pytest.mark.django_db(transaction=True)
def test_six_concurrent_signups_of_one_new_address_make_one_row() -> None:
    """S2, the race from the fuzzing: six threads, six connections, one new address. Each
    gets the signup; one row exists. Needs a database with concurrent writers."""
    import threading

    from django.db import connection, connections

    from subprocessors import services

    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite serialises writers, so no race happens; "
            "test_six_posts_of_one_new_address_racing_get_the_same_answer simulates it"
        )
    barrier = threading.Barrier(6)
    results: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            results.append(services.signup_request(email="race@acme.com", ip=None).pk)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 6
    assert len(set(results)) == 1
    assert Signup.objects.filter(email="race@acme.com").count() == 1
