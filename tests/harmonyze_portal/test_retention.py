"""PP 4: the hourly purge of public submissions whose confirmation link expired unused, one
command for every area, and a history that keeps that they were purged, not the personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from harmonyze_portal import retention
from requests.models import DataSubjectRequest
from subprocessors import services as signup_services
from subprocessors.models import Signup, SignupStatus
from subprocessors.retention import PURGE_ACTOR
from tests.requests.builders import make_submission
from tests.subprocessors.builders import make_signup

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def purge() -> list[str]:
    out = StringIO()
    call_command("purge_unconfirmed", stdout=out)
    return out.getvalue().splitlines()


def signup_request(email: str) -> Signup:
    return signup_services.signup_request(email=email, ip="203.0.113.7")


def test_rule_pp4_one_command_purges_every_area_at_the_link_s_last_second(settings: Any) -> None:
    with time_machine.travel(SENT, tick=False):
        signup = signup_request("never@example.org")
        dsr = make_submission(email="never@example.org")
    expiry = SENT + timedelta(hours=settings.NOTICE_CONFIRM_HOURS)

    with time_machine.travel(expiry, tick=False):
        at_expiry = purge()
    with time_machine.travel(expiry + timedelta(seconds=1), tick=False):
        after = purge()
        again = purge()

    assert at_expiry == [
        "0 unconfirmed Notice Form signup(s) purged.",
        "0 unconfirmed privacy request(s) purged.",
        "0 unconfirmed audit plan(s) purged.",
    ]
    assert after[:2] == [
        "1 unconfirmed Notice Form signup(s) purged.",
        "1 unconfirmed privacy request(s) purged.",
    ]
    assert again[:2] == [
        "0 unconfirmed Notice Form signup(s) purged.",
        "0 unconfirmed privacy request(s) purged.",
    ]
    assert not Signup.objects.filter(pk=signup.pk).exists()
    assert not DataSubjectRequest.objects.filter(pk=dsr.pk).exists()


def test_rule_pp4_the_history_keeps_that_a_signup_was_purged_not_the_address(
    settings: Any,
) -> None:
    with time_machine.travel(SENT, tick=False):
        signup = signup_request("Never@Example.org")
    with time_machine.travel(SENT + timedelta(hours=settings.NOTICE_CONFIRM_HOURS, minutes=1)):
        purge()

    rows = list(Signup.history.filter(id=signup.pk).order_by("history_date"))
    assert [row.history_type for row in rows] == ["+", "-"]
    for row in rows:
        assert (row.email, row.signup_ip) == ("", None)
        assert row.history_record == f"Notice Form signup #{signup.pk}, purged (PP 4)"
        assert row.status == SignupStatus.PENDING
    assert (rows[-1].history_actor, rows[-1].history_change_reason) == (
        PURGE_ACTOR,
        "Email never confirmed: the link expired (S2, PP 4)",
    )
    assert (
        "never@example.org" not in str(list(Signup.history.filter(id=signup.pk).values())).lower()
    )


def test_rule_pp4_a_signup_that_asks_again_waits_for_its_newest_link(settings: Any) -> None:
    hours = settings.NOTICE_CONFIRM_HOURS
    with time_machine.travel(SENT, tick=False):
        signup = signup_request("late@example.org")
    with time_machine.travel(SENT + timedelta(hours=hours - 1), tick=False):
        signup_request("late@example.org")

    with time_machine.travel(SENT + timedelta(hours=hours, minutes=1), tick=False):
        purge()
    assert Signup.objects.filter(pk=signup.pk).exists()

    with time_machine.travel(SENT + timedelta(hours=2 * hours - 1, seconds=1), tick=False):
        purge()
    assert not Signup.objects.filter(pk=signup.pk).exists()


def test_rule_pp4_confirmed_and_once_active_signups_are_kept(settings: Any) -> None:
    with time_machine.travel(SENT, tick=False):
        active = make_signup("active@example.org", status=SignupStatus.ACTIVE)
        again = make_signup("again@example.org", status=SignupStatus.ACTIVE)
        signup_services.signup_unsubscribe(signup=again)
        signup_request("again@example.org")  # pending once more, after receiving notices

    with time_machine.travel(SENT + timedelta(days=30), tick=False):
        purge()

    assert set(Signup.objects.all()) == {active, again}
    assert Signup.objects.get(pk=again.pk).email == "again@example.org"


def test_every_area_with_a_public_form_registers_its_purge() -> None:
    assert {purge.area for purge in retention.purges()} == {
        "subprocessors",
        "requests",
        "audits",
    }


def test_rule_pp4_forget_blanks_free_text_but_keeps_status_and_dates() -> None:
    names = {field.name for field in retention.redactable_fields(DataSubjectRequest)}

    assert {"requester_email", "requester_name", "details", "agent_proof"} <= names
    assert not {"status", "channel", "right", "received_on", "created_at"} & names
