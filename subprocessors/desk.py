"""The sub-processors area on the desk (T5): its deadlines S3, S4 and the S3 gate warning."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from harmonyze_portal import desk
from harmonyze_portal.wording import counted
from subprocessors.models import Change, DeliveryStatus, Objection


def held_gates(user: Any, today: date, limit: int) -> list[desk.CoverageWarning]:
    """S3: a delivery failed for good holds the Notice date, and the earliest access date,
    until it is sent or counsel records the decision to proceed without the address."""
    if not (
        user.has_perm("subprocessors.view_delivery") and user.has_perm("subprocessors.view_change")
    ):
        return []
    warnings = []
    for change in (
        Change.objects.gate_held()
        .select_related("subprocessor", "replaces")
        .order_by("-published_at", "-pk")[:limit]
    ):
        holding = change.holding_deliveries  # type: ignore[attr-defined]
        warnings.append(
            desk.CoverageWarning(
                "S3",
                f"{change}: the gate is held by "
                f"{counted(holding, 'delivery', 'deliveries')} that failed for good; "
                "no Notice date or earliest access date until they are sent or counsel "
                "proceeds without them.",
                reverse("admin:subprocessors_delivery_changelist")
                + f"?change__id__exact={change.pk}&status={DeliveryStatus.FAILED}",
            )
        )
    return warnings


desk.register(
    "subprocessors",
    label="Sub-processors",
    sources=[
        desk.Source(
            "S3",
            Change,
            "earliest_access_on",
            "access_pending",
            ("subprocessor__name",),
            lambda row: f"{row['subprocessor__name']} may access customer data from this date",
            customer=None,
            customer_name=None,
        ),
        desk.Source(
            "S4",
            Objection,
            "deadline",
            "awaiting_resolution",
            ("signup__email",),
            # Staff-entered objections may name only the customer (S4).
            lambda row: f"Resolve the objection from {row['signup__email'] or row['customer']}",
            link_field="change_id",
            link_model=Change,
        ),
    ],
    warnings=[held_gates],
)
