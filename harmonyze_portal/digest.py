"""The daily deadline digest: each opted-in staff member is emailed what is overdue and what is
due this week (today and the six days after), once per legal day.

Email leaves the portal, so law-enforcement deadlines are sealed (R6): "1 restricted item —
sign in", with no agency, customer, process or record link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from harmonyze_portal import rules
from harmonyze_portal.desk import DeadlineItem, deadline_items, for_third_parties
from harmonyze_portal.history import acting_as
from harmonyze_portal.mail import queue_email
from harmonyze_portal.models import DigestSent

WEEK_DAYS = 7
DIGEST_LIMIT = 500


@dataclass(frozen=True)
class Digest:
    today: date
    overdue: list[DeadlineItem]
    this_week: list[DeadlineItem]

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.this_week)

    def subject(self) -> str:
        overdue = sum(item.count for item in self.overdue)
        this_week = sum(item.count for item in self.this_week)
        return f"Deadlines {self.today:%Y-%m-%d}: {overdue} overdue, {this_week} due this week"

    def body(self) -> str:
        def line(item: DeadlineItem) -> str:
            if item.restricted:
                return f"- {item.due:%Y-%m-%d} {item.what}\n  {settings.PORTAL_BASE_URL}{item.url}"
            customer = f" — {item.customer}" if item.customer else ""
            return (
                f"- {item.due:%Y-%m-%d} [{item.rule}] {item.what}{customer}\n"
                f"  {settings.PORTAL_BASE_URL}{item.url}"
            )

        overdue = sum(item.count for item in self.overdue)
        this_week = sum(item.count for item in self.this_week)
        parts = [f"Your deadlines on {self.today:%Y-%m-%d}.", ""]
        parts.append(f"Overdue ({overdue}):")
        parts += [line(i) + f" ({i.days_overdue} days overdue)" for i in self.overdue] or ["None."]
        parts += ["", f"Due this week ({this_week}):"]
        parts += [line(i) for i in self.this_week] or ["None."]
        cited = dict.fromkeys(i.rule for i in [*self.overdue, *self.this_week] if i.rule)
        if cited:  # T5: an email has no tooltip; each rule cited is explained once
            parts += ["", "Rules cited:"]
            parts += [f"- {rules.explain(rule)}" for rule in cited]
            parts.append(f"  {settings.PORTAL_BASE_URL}/staff/rules/")
        parts += ["", f"The desk: {settings.PORTAL_BASE_URL}/admin/"]
        return "\n".join(parts) + "\n"


def build_digest(user: Any, today: date) -> Digest:
    desk = deadline_items(
        user, today, end=today + timedelta(days=WEEK_DAYS - 1), limit=DIGEST_LIMIT, count=False
    )
    items = for_third_parties(desk.items)
    return Digest(
        today=today,
        overdue=[i for i in items if i.overdue],
        this_week=[i for i in items if not i.overdue],
    )


def recipients() -> Any:
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, staff_preference__daily_digest=True)
        .exclude(email="")
        .order_by("pk")
    )


def send_digests(today: date) -> int:
    """Queue today's digest for every opted-in active staff member who has not had one today.
    Returns how many were queued; a second run the same legal day queues none."""
    queued = 0
    with acting_as("task: send deadline digest"):
        for user in recipients():
            if DigestSent.objects.filter(user=user, day=today).exists():
                continue
            digest = build_digest(user, today)
            if digest.empty:
                continue
            try:
                with transaction.atomic():
                    DigestSent(user=user, day=today).save()
                    queue_email(to=[user.email], subject=digest.subject(), body=digest.body())
            except IntegrityError:
                continue  # another run got there first
            queued += 1
    return queued
