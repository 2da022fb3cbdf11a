"""The customers area on the desk (T5): its deadlines C3–C7 and the C5 warning."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min
from django.urls import reverse

from customers.models import AssistanceRequest, BreachNotice, Customer, ProhibitedDataFinding
from customers.models.assistance import AssistanceKind, ProhibitedCategory
from harmonyze_portal import desk
from harmonyze_portal.dates import legal_date
from harmonyze_portal.wording import counted


def pending_breach_notices(user: Any, today: date, limit: int) -> list[desk.CoverageWarning]:
    """C5: breach notices not yet sent, and the first one's target. One query."""
    if not user.has_perm("customers.view_breachnotice"):
        return []
    pending = BreachNotice.objects.pending().aggregate(
        count=Count("pk"), first=Min("notice_due_at")
    )
    if not pending["count"]:
        return []
    first = legal_date(pending["first"], ZoneInfo(settings.TIME_ZONE))
    return [
        desk.CoverageWarning(
            "C5",
            f"{counted(pending['count'], 'breach notice')} pending, the first due {first}.",
            reverse("admin:customers_breachnotice_changelist") + "?notified_at__isempty=1",
        )
    ]


desk.register(
    "customers",
    label="Customers",
    sources=[
        desk.Source(
            "C3",
            Customer,
            "deletion_due",
            "deletion_open",
            (),
            lambda row: "Delete the customer's personal data (90 days after termination)",
            customer="pk",
            customer_name="legal_name",
        ),
        desk.Source(
            "C4",
            Customer,
            "credential_purge_due",
            "purge_open",
            (),
            lambda row: "Purge the customer's data and credentials",
            customer="pk",
            customer_name="legal_name",
        ),
        desk.Source(
            "C5",
            BreachNotice,
            "notice_due_at",
            "pending",
            ("breach__title",),
            lambda row: f"Notify the customer of the breach: {row['breach__title']}",
            due_is_datetime=True,
        ),
        desk.Source(
            "C6",
            AssistanceRequest,
            "due_on",
            "open",
            ("kind",),
            lambda row: f"Assist the customer: {desk.label(AssistanceKind, row['kind'])}",
        ),
        desk.Source(
            "C7",
            ProhibitedDataFinding,
            "learned_on",
            "open",
            ("category",),
            lambda row: (
                f"Delete prohibited data: {desk.label(ProhibitedCategory, row['category'])}"
            ),
        ),
    ],
    warnings=[pending_breach_notices],
)
