"""The deadline calendar feed (``/staff/calendar.ics?token=…``) and the page that issues it.

A calendar app subscribes with a personal token and no session: every open deadline the user
may see on the desk (T5), overdue ones included, as an all-day event on its due date.

The events land in a third-party calendar service, so law-enforcement deadlines are sealed
(R6): one event per day, "2 restricted items — sign in", whose UID, URL and description name
no demand.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import icalendar
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from harmonyze_portal import rules
from harmonyze_portal.clock import legal_today
from harmonyze_portal.desk import DeadlineItem, deadline_items, for_third_parties
from harmonyze_portal.models import CalendarFeed, StaffPreference

FEED_DAYS_AHEAD = 90
FEED_LIMIT = 2000


def event_uid(item: DeadlineItem) -> str:
    """Stable across refreshes: the same deadline of the same record keeps its UID; a sealed
    day keeps one made of its date alone (R6)."""
    key = f"restricted|{item.due}" if item.restricted else f"{item.rule}|{item.url}|{item.what}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{digest}@harmonyze-portal"


def build_calendar(user: Any, today: date) -> bytes:
    desk = deadline_items(
        user, today, end=today + timedelta(days=FEED_DAYS_AHEAD), limit=FEED_LIMIT, count=False
    )
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Harmonyze//Harmonyze Portal deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Harmonyze deadlines")
    stamp = timezone.now()
    for item in for_third_parties(desk.items):
        link = settings.PORTAL_BASE_URL + item.url
        event = icalendar.Event()
        event.add("uid", event_uid(item))
        event.add("dtstamp", stamp)
        if item.restricted:
            event.add("summary", item.what)
        else:
            event.add("summary", f"[{item.rule}] {item.what} — {item.customer or 'no customer'}")
        event.add("dtstart", item.due)
        event.add("dtend", item.due + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        event.add("url", link)
        if item.restricted:
            event.add("description", f"{item.what}.\n{link}")
        else:
            event.add("description", f"{item.area_label}, rule {rules.explain(item.rule)}.\n{link}")
        event.add("categories", [item.area_label])
        calendar.add_component(event)
    return calendar.to_ical()


@require_safe
def feed(request: HttpRequest) -> HttpResponse:
    """The feed itself; the token is the credential, a session is neither needed nor enough."""
    token = request.GET.get("token", "")
    user = CalendarFeed.active_user(token) if token else None
    if user is None:
        raise Http404("Unknown or revoked calendar feed.")
    response = HttpResponse(
        build_calendar(user, legal_today()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="harmonyze-deadlines.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


def _active_feed(user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own feed (create, or revoke and renew) and daily digest opt-in."""
    user: Any = request.user
    new_url = None
    preference = StaffPreference.objects.filter(user=user).first()
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("digest_on", "digest_off"):
            preference = preference or StaffPreference(user=user)
            preference.daily_digest = action == "digest_on"
            preference.save()
            return redirect("calendar_manage")
        if action not in ("create", "revoke"):
            return redirect("calendar_manage")
        with transaction.atomic():
            active = (
                CalendarFeed.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
            ).first()
            if active is not None:
                active.revoked_at = timezone.now()
                active.save()
            if action == "create":
                _, token = CalendarFeed.issue(user)
                new_url = f"{settings.PORTAL_BASE_URL}{reverse('calendar_feed')}?token={token}"
        if action == "revoke":
            messages.success(request, "Your calendar feed is revoked; its address no longer works.")
            return redirect("calendar_manage")
    response = render(
        request,
        "staff/calendar_feed.html",
        {
            **admin.site.each_context(request),
            "title": "Calendar feed",
            "feed": _active_feed(user),
            "new_url": new_url,
            "days_ahead": FEED_DAYS_AHEAD,
            "daily_digest": bool(preference and preference.daily_digest),
        },
    )
    response["Cache-Control"] = "private, no-store"  # the page may show a new token
    return response
