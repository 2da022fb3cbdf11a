"""The sub-processors area on the desk (T5): its deadlines S3, S4 and S7 (flow-down terms
checked by the earliest access date), the S3 gate warning and the S7 location warnings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse

from harmonyze_portal import desk
from harmonyze_portal.wording import counted
from subprocessors import deadlines
from subprocessors.locations import ProcessingLocation
from subprocessors.models import (
    Change,
    ChangeStatus,
    DeliveryStatus,
    Objection,
    SubProcessor,
    SubProcessorStatus,
)


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


def unlocated(user: Any, today: date, limit: int) -> list[desk.CoverageWarning]:
    """S7: a sub-processor on the list (or announced) with no processing country recorded:
    its transfers cannot be checked, nor a change naming it flagged (PP 5)."""
    if not user.has_perm("subprocessors.view_subprocessor"):
        return []
    rows = SubProcessor.objects.filter(
        status__in=[SubProcessorStatus.ANNOUNCED, SubProcessorStatus.ACTIVE],
        processing_locations__isnull=True,
    ).order_by("name")[:limit]
    return [
        desk.CoverageWarning(
            "S7",
            f'{sp}: no processing country recorded (only "{sp.locations}"); add its '
            "countries, and a transfer mechanism for each outside the United States.",
            reverse("admin:subprocessors_subprocessor_change", args=[sp.pk]),
        )
        for sp in rows
    ]


def drafts_outside_us(user: Any, today: date, limit: int) -> list[desk.CoverageWarning]:
    """S7, PP 5: a draft change naming processing outside the United States, flagged before
    it is published: publishing needs counsel's acknowledgement with a reason."""
    if not user.has_perm("subprocessors.view_change"):
        return []
    abroad = ProcessingLocation.objects.outside_us().filter(subprocessor=OuterRef("subprocessor"))
    flagged = (
        Change.objects.filter(status=ChangeStatus.DRAFT)
        .filter(Exists(abroad))
        .select_related("subprocessor")
        .order_by("pk")[:limit]
    )
    return [
        desk.CoverageWarning(
            "S7",
            change.transfer_flag(),
            reverse("admin:subprocessors_change_change", args=[change.pk]),
        )
        for change in flagged
    ]


desk.register(
    "subprocessors",
    label="Sub-processors",
    sources=[
        desk.Source(
            "S3",
            Change,
            "earliest_access_on",
            "access_pending",
            ("subprocessor__name", "notice_date"),
            lambda row: f"{row['subprocessor__name']} may access customer data from this date",
            customer=None,
            customer_name=None,
            explain=lambda row: (
                deadlines.earliest_access_explained(row["notice_date"])
                if row["notice_date"]
                else None
            ),
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
            explain=lambda row: (
                deadlines.objection_deadline_explained(deadlines.delivered_on(row["deadline"]))
                if row["deadline"]
                else None
            ),
        ),
        desk.Source(
            "S7",
            SubProcessor,
            "earliest_access_on",
            "flowdown_unchecked",
            ("name",),
            lambda row: f"Check the flow-down terms of {row['name']}'s agreement (DPA 5.2)",
            customer=None,
            customer_name=None,
        ),
    ],
    warnings=[held_gates, unlocated, drafts_outside_us],
)
