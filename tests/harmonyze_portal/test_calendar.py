"""The deadline calendar feed: parse-back, visibility per role, token revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import icalendar
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from customers.models import Customer
from harmonyze_portal.models import CalendarFeed, feed_token_hash
from tests.harmonyze_portal.test_desk import NOW, TODAY, c6, r4

FEED = "/staff/calendar.ics"


def _events(client: Client, token: str) -> list[Any]:
    with time_machine.travel(NOW, tick=False):
        response = client.get(FEED, {"token": token})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_feed_lists_open_deadlines_as_all_day_events(counsel: Any, acme: Customer) -> None:
    c6(acme, TODAY - timedelta(days=5), False)  # overdue
    c6(acme, TODAY + timedelta(days=60), False)  # beyond the desk's horizon, within the feed's
    c6(acme, TODAY + timedelta(days=120), False)  # beyond the feed
    _, token = CalendarFeed.issue(counsel)

    events = _events(Client(), token)

    assert [e.decoded("dtstart") for e in events] == [
        TODAY - timedelta(days=5),
        TODAY + timedelta(days=60),
    ]
    first = events[0]
    start = first.decoded("dtstart")
    assert type(start) is date  # a DATE value: all-day
    assert first["DTSTART"].params.get("VALUE") == "DATE"
    assert str(first["summary"]).startswith("[C6] Assist the customer")
    assert str(first["summary"]).endswith("— Acme Analytics GmbH")
    assert str(first["url"]).startswith(settings.PORTAL_BASE_URL + "/admin/customers/")
    assert str(first["url"]) in str(first["description"])
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == 2
    assert [str(e["uid"]) for e in _events(Client(), token)] == uids  # stable


def test_law_enforcement_only_in_counsels_feed(
    counsel: Any, analyst: Any, viewer: Any, acme: Customer
) -> None:
    r4(acme, TODAY, False)
    c6(acme, TODAY, False)

    rules = {}
    for user in (counsel, analyst, viewer):
        _, token = CalendarFeed.issue(user)
        rules[user.username] = [str(e["summary"])[:4] for e in _events(Client(), token)]

    assert rules == {"counsel": ["[C6]", "1 re"], "analyst": ["[C6]"], "viewer": ["[C6]"]}


def test_unknown_and_revoked_tokens_get_404(counsel: Any) -> None:
    feed, token = CalendarFeed.issue(counsel)
    client = Client()
    assert client.get(FEED, {"token": token}).status_code == 200
    assert client.get(FEED, {"token": "not-a-token"}).status_code == 404
    assert client.get(FEED).status_code == 404

    feed.revoked_at = timezone.now()
    feed.save()

    assert client.get(FEED, {"token": token}).status_code == 404


def test_inactive_or_former_staff_lose_the_feed(counsel: Any) -> None:
    _, token = CalendarFeed.issue(counsel)
    counsel.is_staff = False
    counsel.save()
    assert Client().get(FEED, {"token": token}).status_code == 404
    counsel.is_staff = True
    counsel.is_active = False
    counsel.save()
    assert Client().get(FEED, {"token": token}).status_code == 404


def test_a_session_alone_gives_no_feed(counsel: Any, signed_in: Callable[[Any], Client]) -> None:
    CalendarFeed.issue(counsel)
    client = signed_in(counsel)

    assert client.get(FEED).status_code == 404


def test_the_token_itself_is_not_stored(counsel: Any) -> None:
    feed, token = CalendarFeed.issue(counsel)

    assert token not in feed.token_hash
    assert feed.token_hash == feed_token_hash(token)
    assert all(token not in h.token_hash for h in feed.history.all())


def test_the_page_creates_shows_once_and_revokes(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(counsel)
    assert "no active calendar feed" in client.get("/staff/calendar/").content.decode()

    response = client.post("/staff/calendar/", {"action": "create"})
    url = response.context["new_url"]
    assert url.startswith(settings.PORTAL_BASE_URL + FEED + "?token=")
    token = url.partition("token=")[2]
    assert Client().get(FEED, {"token": token}).status_code == 200
    assert token not in client.get("/staff/calendar/").content.decode()

    renewed = client.post("/staff/calendar/", {"action": "create"}).context["new_url"]
    new_token = renewed.partition("token=")[2]
    assert Client().get(FEED, {"token": token}).status_code == 404
    assert Client().get(FEED, {"token": new_token}).status_code == 200

    client.post("/staff/calendar/", {"action": "revoke"})
    assert Client().get(FEED, {"token": new_token}).status_code == 404
    assert CalendarFeed.objects.filter(user=counsel, revoked_at__isnull=True).count() == 0
    assert CalendarFeed.objects.filter(user=counsel).count() == 2


def test_the_page_needs_a_signed_in_staff_member(db: None) -> None:
    response = Client().get("/staff/calendar/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_rule_r6_counsels_feed_carries_only_restricted_items(counsel: Any, acme: Customer) -> None:
    """The feed lands in a third-party calendar service: a demand there is only "1 restricted
    item — sign in", counted per day, with nothing in its UID, URL or description that names
    the agency, customer, process, country or record."""
    from requests.models import LegalProcess
    from tests.requests.builders import make_demand

    doj = {
        "agency": "U.S. Department of Justice",
        "country": "Ruritania",
        "legal_process": LegalProcess.COURT_ORDER,
        "customers": (acme,),
        "compelled": True,
    }
    first = make_demand(received_on=TODAY, **doj)
    second = make_demand(received_on=TODAY, **{**doj, "agency": "Another Agency"})
    third = make_demand(received_on=TODAY + timedelta(days=3), **doj)
    _, token = CalendarFeed.issue(counsel)

    with time_machine.travel(NOW, tick=False):
        ics = Client().get(FEED, {"token": token}).content.decode()
    events = _events(Client(), token)

    assert [(e.decoded("dtstart"), str(e["summary"])) for e in events] == [
        (TODAY, "2 restricted items — sign in"),
        (TODAY + timedelta(days=3), "1 restricted item — sign in"),
    ]
    for event in events:
        assert str(event["url"]) == settings.PORTAL_BASE_URL + "/admin/"
    unfolded = ics.replace("\r\n ", "")
    for secret in (
        "Department",
        "Another Agency",
        "Ruritania",
        "Acme",
        "court order",
        "R4",
        "lawenforcementdemand",
        *(f"/{demand.pk}/" for demand in (first, second, third)),
    ):
        assert secret.lower() not in unfolded.lower(), secret
