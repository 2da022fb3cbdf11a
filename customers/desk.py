"""The customers area on the desk (T5): its deadlines C3–C9, the C5 warning, and its part of
the C9 termination conflicts (an active legal hold)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from customers import deadlines
from customers.models import (
    AssistanceRequest,
    BreachMessage,
    BreachNotice,
    Customer,
    InstructionNotice,
    LegalHold,
    ProhibitedDataFinding,
)
from customers.models.assistance import AssistanceKind, ProhibitedCategory
from customers.models.instructions import NoticeKind
from harmonyze_portal import conflicts, desk
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


# A notice still queued after this long did not leave: no notice contact, or mail failing for
# good. Longer than the mail retries' first back-off, so a notice being sent is not flagged.
UNSENT_AFTER = timedelta(hours=1)


def unsent_breach_messages(user: Any, today: date, limit: int) -> list[desk.CoverageWarning]:
    """C5: notices (first, update or closing) queued and never sent. One query."""
    if not user.has_perm("customers.view_breachmessage"):
        return []
    stuck = BreachMessage.objects.unsent().filter(queued_at__lt=timezone.now() - UNSENT_AFTER)
    count = stuck.count()
    if not count:
        return []
    return [
        desk.CoverageWarning(
            "C5",
            f"{count} breach notice(s) queued more than an hour ago and not sent: check the "
            "customer's notice contact, then send again.",
            reverse("admin:customers_breachmessage_changelist") + "?sent_at__isempty=1",
        )
    ]


def active_holds(customer: Any) -> list[conflicts.Conflict]:
    """C9: terminating starts the deletion clock, and these holds keep data."""
    return [
        conflicts.Conflict(
            "C9",
            f"a legal hold keeps data ({hold.legal_basis}; {hold.data_kept}, "
            f"review due {hold.review_on})",
        )
        for hold in LegalHold.objects.active().filter(customer_id=customer.pk)
    ]


def describe_deletion(row: dict[str, Any]) -> str:
    """C3, or C3 held by C9: the deletion stays on the desk, saying why it waits."""
    if row["hold_basis"]:
        return f"Deletion held by a legal hold: {row['hold_basis']} (C9, DPA 9)"
    return describe_deletion_outside(row)


def describe_deletion_outside(row: dict[str, Any]) -> str:
    """The same for a calendar service or a mailbox: a hold's basis (a lawsuit, an
    authority's request) stays in the portal."""
    if row["hold_basis"]:
        return "Deletion held by a legal hold (C9, DPA 9): see the portal"
    return "Delete the customer's personal data (90 days after termination)"


conflicts.register("customers.legal_holds", active_holds)

desk.register(
    "customers",
    label="Customers",
    sources=[
        desk.Source(
            "C3",
            Customer,
            "deletion_due",
            "deletion_open_with_hold",
            ("termination_date", "hold_basis"),
            describe_deletion,
            describe_outside=describe_deletion_outside,
            customer="pk",
            customer_name="legal_name",
            explain=lambda row: deadlines.deletion_due_explained(row["termination_date"]),
        ),
        desk.Source(
            "C4",
            Customer,
            "credential_purge_due",
            "purge_open",
            ("termination_date", "earlier_deletion_requested_on"),
            lambda row: "Purge the customer's data and credentials",
            customer="pk",
            customer_name="legal_name",
            explain=lambda row: deadlines.credential_purge_due_explained(
                row["termination_date"], row["earlier_deletion_requested_on"]
            ),
        ),
        desk.Source(
            "C5",
            BreachNotice,
            "notice_due_at",
            "pending",
            ("breach__title", "breach__aware_at"),
            lambda row: f"Notify the customer of the breach: {row['breach__title']}",
            due_is_datetime=True,
            explain=lambda row: deadlines.breach_notice_due_explained(
                row["breach__aware_at"], row["notice_due_at"], ZoneInfo(settings.TIME_ZONE)
            ),
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
        desk.Source(
            "C8",
            InstructionNotice,
            "due_on",
            "unsent",
            ("kind",),
            lambda row: "Notify the customer the same day: " + desk.label(NoticeKind, row["kind"]),
        ),
        desk.Source(
            "C9",
            LegalHold,
            "review_on",
            "review_open",
            ("legal_basis",),
            lambda row: f"Review the legal hold: {row['legal_basis']}",
            describe_outside=lambda row: "Review a legal hold: see the portal",
        ),
    ],
    warnings=[pending_breach_notices, unsent_breach_messages],
)
