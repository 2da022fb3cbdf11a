"""The sub-processors area on the customer page: the Notices delivered to the customer's
addresses, with the 7 days each gave it to object (S4, S6), and its objections (S4, S5).
One query per section."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from harmonyze_portal import customer_page as hub
from harmonyze_portal.dates import legal_date
from subprocessors import deadlines
from subprocessors.models import Delivery, DeliveryStatus, Objection, ObjectionStatus


def notices(customer: Any, today: date) -> list[hub.Entry]:
    """S6: each Notice sent to an address linked to the customer, and its S4 deadline."""
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = (
        Delivery.objects.filter(signup__customer=customer)
        .select_related("change__subprocessor", "change__replaces", "signup")
        .order_by("-queued_at", "-pk")
    )
    entries = []
    for delivery in rows:
        sent = legal_date(delivery.sent_at, zone) if delivery.sent_at else None
        deadline = delivery.objection_deadline
        entries.append(
            hub.Entry(
                what=f"Notice of the {str(delivery.change)[0].lower()}{str(delivery.change)[1:]}"
                f" to {delivery.signup.email}",
                url=reverse("admin:subprocessors_delivery_change", args=[delivery.pk]),
                rule="S4, S6",
                on=sent,
                due=deadline,
                due_label="May object until",
                how=deadlines.objection_deadline_explained(sent) if sent and deadline else None,
                status=delivery.get_status_display(),
                done=deadline is not None and deadline < today,
                record=delivery.pk,
            )
        )
    return entries


def objections(customer: Any, today: date) -> list[hub.Entry]:
    rows = (
        Objection.objects.filter(Q(customer=customer) | Q(signup__customer=customer))
        .select_related("change__subprocessor", "change__replaces", "signup", "customer")
        .order_by("-received_at", "-pk")
    )
    zone = ZoneInfo(settings.TIME_ZONE)
    return [
        hub.Entry(
            what=f"Objection to the {str(objection.change)[0].lower()}"
            f"{str(objection.change)[1:]}" + (" (out of time)" if not objection.in_time else ""),
            url=reverse("admin:subprocessors_objection_change", args=[objection.pk]),
            rule="S4",
            on=objection.received_on or legal_date(objection.received_at, zone),
            due=objection.deadline,
            due_label="In time until",
            how=deadlines.objection_deadline_explained(deadlines.delivered_on(objection.deadline))
            if objection.deadline
            else None,
            status=objection.get_status_display(),
            done=objection.status != ObjectionStatus.OPEN,
            record=objection.pk,
        )
        for objection in rows
    ]


def record_objection(customer: Any) -> list[hub.Action]:
    return [
        hub.Action(
            "Record an objection received by email or letter",
            reverse("admin:subprocessors_objection_add") + f"?customer={customer.pk}",
            "subprocessors.add_objection",
        )
    ]


hub.register(
    "subprocessors",
    [
        hub.Section(
            "notices", "Sub-processor Notices delivered to its addresses", Delivery, notices,
            rules="S4, S6", order=50,
            list_url=lambda customer: reverse("admin:subprocessors_delivery_changelist")
            + f"?signup__customer__id__exact={customer.pk}&status={DeliveryStatus.SENT}",
        ),
        hub.Section(
            "objections", "Objections to sub-processor changes", Objection, objections,
            rules="S4, S5", order=55, actions=record_objection,
        ),
    ],
)  # fmt: skip
