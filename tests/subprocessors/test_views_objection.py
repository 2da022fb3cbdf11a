"""Objections from the Notice's link (S4): in time on day 7, out of time on day 8, measured
from each signup's own delivery; the legal inbox is told at once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client

from subprocessors import services, tokens
from subprocessors.models import (
    ChangeStatus,
    Objection,
    SignupStatus,
    SubProcessorStatus,
)
from tests.subprocessors.builders import (
    make_change,
    make_delivery,
    make_signup,
    make_subprocessor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def change():
    stripe = make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED)
    return make_change(
        stripe,
        summary="Stripe takes over card payments.",
        published_at=datetime(2026, 3, 2, 14, tzinfo=UTC),
        notice_date=date(2026, 3, 2),
    )


def object_path(change, signup, token: str | None = None) -> str:
    token = token or tokens.objection_token(signup.pk, change.pk)
    return f"/sub-processors/changes/{change.pk}/object/{token}/"


def at_noon_new_york(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 17, tzinfo=UTC), tick=False)


def test_the_form_shows_the_change_and_the_signups_own_deadline(client: Client, change) -> None:
    signup = make_signup(status=SignupStatus.ACTIVE)
    make_delivery(change, signup, delivered_on=date(2026, 3, 2))
    with at_noon_new_york(date(2026, 3, 5)):
        response = client.get(object_path(change, signup))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Stripe takes over card payments." in page
    assert "You may object until 9 March 2026" in page
    assert "<textarea" in page
    assert not Objection.objects.exists()


@pytest.mark.parametrize(
    ("received", "in_time"),
    [(date(2026, 3, 9), True), (date(2026, 3, 10), False)],
    ids=["day 7 in time", "day 8 out of time"],
)
def test_rule_s4_day_7_in_time_day_8_out_of_time(
    client: Client, change, django_capture_on_commit_callbacks, received: date, in_time: bool
) -> None:
    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_delivery(change, alice, delivered_on=date(2026, 3, 2))
    with at_noon_new_york(received), django_capture_on_commit_callbacks(execute=True):
        response = client.post(object_path(change, alice), {"reason": "Not in the EU."})
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    objection = Objection.objects.get()
    assert objection.in_time is in_time
    assert objection.deadline == date(2026, 3, 9)
    assert objection.signup == alice
    if in_time:
        # Sent on the last day: the deadline is today, not past (issue 15).
        assert "In time: the deadline is 9 March 2026" in page
    else:
        assert "Out of time: the 7 days ended on 9 March 2026" in page
        assert "we recorded it and counsel will still read it" in page
    [message] = mail.outbox
    assert message.to == ["legal@harmonyze.com"]
    assert ("Late objection" in message.subject) is not in_time
    assert "Not in the EU." in message.body


def test_rule_s4_each_signup_counts_from_its_own_delivery(client: Client, change) -> None:
    """Bob's Notice went out a day after Alice's (a retry): on March 10 he is still in time."""
    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    bob = make_signup("bob@acme.com", status=SignupStatus.ACTIVE)
    make_delivery(change, alice, delivered_on=date(2026, 3, 2))
    make_delivery(change, bob, delivered_on=date(2026, 3, 3))
    with at_noon_new_york(date(2026, 3, 10)):
        assert "out of time" in client.get(object_path(change, alice)).content.decode().lower()
        client.post(object_path(change, alice), {"reason": "Late."})
        client.post(object_path(change, bob), {"reason": "Not late."})
    assert Objection.objects.get(signup=alice).in_time is False
    assert Objection.objects.get(signup=bob).in_time is True


def test_an_empty_reason_is_refused(client: Client, change) -> None:
    signup = make_signup(status=SignupStatus.ACTIVE)
    response = client.post(object_path(change, signup), {"reason": "  "})
    assert response.status_code == 400
    assert not Objection.objects.exists()


def test_a_forged_or_mismatched_token_gets_400(client: Client, change) -> None:
    signup = make_signup(status=SignupStatus.ACTIVE)
    other = make_change(
        make_subprocessor("Other", status=SubProcessorStatus.ANNOUNCED),
        published_at=datetime(2026, 3, 2, 14, tzinfo=UTC),
    )
    mismatched = (
        f"/sub-processors/changes/{change.pk}/object/{tokens.objection_token(signup.pk, other.pk)}/"
    )
    wrong_purpose = (
        f"/sub-processors/changes/{change.pk}/object/{tokens.unsubscribe_token(signup.pk)}/"
    )
    forged = object_path(change, signup)[:-4] + "xx/"
    for path in (mismatched, wrong_purpose, forged):
        assert client.get(path).status_code == 400
        assert client.post(path, {"reason": "x"}).status_code == 400
    assert not Objection.objects.exists()


def test_an_unpublished_change_is_not_found(client: Client) -> None:
    draft = make_change(make_subprocessor("Drafty", status=SubProcessorStatus.ANNOUNCED))
    signup = make_signup(status=SignupStatus.ACTIVE)
    assert client.get(object_path(draft, signup)).status_code == 404
    assert client.post(object_path(draft, signup), {"reason": "x"}).status_code == 404
    assert not Objection.objects.exists()


def test_objections_are_rate_limited(client: Client, change, settings) -> None:
    settings.PUBLIC_POST_RATE = "1/h"
    signup = make_signup(status=SignupStatus.ACTIVE)
    assert client.post(object_path(change, signup), {"reason": "One."}).status_code == 200
    assert client.post(object_path(change, signup), {"reason": "Two."}).status_code == 429
    assert Objection.objects.count() == 1


def test_a_refusal_about_the_change_is_shown_on_the_form_not_a_500(
    client: Client, change, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service names the change, a field the form does not have: the refusal used to
    raise ValueError in the view (a 500); now the person reads it, with a 400."""
    signup = make_signup(status=SignupStatus.ACTIVE)
    record = services.objection_record

    def record_on_a_change_no_longer_published(**kwargs):
        kwargs["change"].status = ChangeStatus.DRAFT
        return record(**kwargs)

    monkeypatch.setattr(services, "objection_record", record_on_a_change_no_longer_published)
    response = client.post(object_path(change, signup), {"reason": "We object."})
    assert response.status_code == 400
    assert "Only a published change can be objected to." in response.content.decode()
    assert not Objection.objects.exists()
    assert not mail.outbox


def test_rule_s4_one_link_posted_three_times_is_one_objection_and_one_email(
    client: Client, change, django_capture_on_commit_callbacks
) -> None:
    """The first post is the objection on record; the later ones are refused with a 409 that
    says it was received and where to write more; the legal inbox hears once."""
    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_delivery(change, alice, delivered_on=date(2026, 3, 2))
    with at_noon_new_york(date(2026, 3, 5)), django_capture_on_commit_callbacks(execute=True):
        first = client.post(object_path(change, alice), {"reason": "Not in the EU."})
        again = [client.post(object_path(change, alice), {"reason": f"Try {n}."}) for n in (2, 3)]
    assert first.status_code == 200
    assert [r.status_code for r in again] == [409, 409]
    page = " ".join(again[0].content.decode().split())
    assert "already received on 2026-03-05" in page
    assert "legal@harmonyze.com" in page
    assert Objection.objects.get().reason == "Not in the EU."
    assert len(mail.outbox) == 1


def test_rule_s4_the_database_refuses_a_second_link_objection(change) -> None:
    """A save from the shell or any other path meets the unique constraint; staff may still
    enter a letter from the same address."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from subprocessors.models import ObjectionChannel

    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    first = services.objection_record(change=change, signup=alice, reason="No.")
    duplicate = Objection(
        change=change,
        signup=alice,
        channel=ObjectionChannel.NOTICE_LINK,
        received_at=first.received_at,
        in_time=True,
        reason="Again.",
    )
    with pytest.raises(ValidationError, match="already objected"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    with pytest.raises(ValidationError, match="already received"):
        services.objection_record(change=change, signup=alice, reason="Again.")
    services.objection_enter(
        change=change,
        channel=ObjectionChannel.LETTER,
        received_on=first.received_on,
        reason="By letter too.",
        signup=alice,
    )
    assert Objection.objects.count() == 2


def test_the_link_opened_again_says_the_objection_was_received(client: Client, change) -> None:
    """Issue 15: after objecting, the same link does not offer the form again as if nothing
    had been sent; it says what was received, and once the deadline has passed, in the past."""
    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_delivery(change, alice, delivered_on=date(2026, 3, 2))
    with at_noon_new_york(date(2026, 3, 4)):
        client.post(object_path(change, alice), {"reason": "Not in the EU."})
        again = " ".join(client.get(object_path(change, alice)).content.decode().split())
    with at_noon_new_york(date(2026, 3, 20)):
        later = " ".join(client.get(object_path(change, alice)).content.decode().split())

    assert "Your objection to this change was already received" in again
    assert "<textarea" not in again
    assert "the deadline is 9 March 2026" in again
    assert "the deadline was 9 March 2026" in later
    assert Objection.objects.count() == 1
