"""The requests area on the desk (T5): R1, R3 and R4 deadlines, and R6's part: demands are
restricted, only counsel exports them, and every showing on the desk is logged."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.dispatch import receiver

from harmonyze_portal import conflicts, desk
from requests import deadlines
from requests.models import DataSubjectRequest, DemandCustomer, DemandView, LawEnforcementDemand
from requests.models.demands import EXPORT_PERMISSION, LegalProcess
from requests.models.dsr import Right


def demand_customers(pks: Collection[int]) -> dict[int, str]:
    """The customers each listed demand concerns, by demand, in one query (no N+1)."""
    names: dict[int, list[str]] = {}
    for demand_id, name in (
        DemandCustomer.objects.filter(demand_id__in=list(pks))
        .values_list("demand_id", "customer__legal_name")
        .order_by("customer__legal_name")
    ):
        names.setdefault(demand_id, []).append(name)
    return {pk: ", ".join(found) for pk, found in names.items()}


@receiver(desk.restricted_items_shown, sender=LawEnforcementDemand)
def log_desk_views(sender: Any, *, user: Any, pks: list[int], path: str, **kwargs: Any) -> None:
    """R6: the desk (page or export) showed these demands: one view row each."""
    DemandView.log(user=user, demand_ids=pks, path=path)


REGIME = (
    "received_on",
    "regime__response_value",
    "regime__response_unit",
    "regime__extension_value",
    "regime__extension_unit",
    "regime__acknowledge_business_days",
    "regime__holiday_country",
)


def _explain_r3(due_field: str) -> Any:
    """The deadline line of an R3 clock (T3, T4), from the row's regime."""

    def explain(row: dict[str, Any]) -> deadlines.Computation | None:
        value, unit = row["regime__response_value"], row["regime__response_unit"]
        if due_field == "acknowledge_by":
            value, unit = row["regime__acknowledge_business_days"], deadlines.BUSINESS_DAYS
        elif due_field == "extended_to":
            if row["regime__extension_unit"] != unit:
                return None
            value += row["regime__extension_value"]
        if row["received_on"] is None or not value:
            return None
        return deadlines.respond_by_explained(
            rule="R3",
            label="received",
            received=row["received_on"],
            value=value,
            unit=unit,
            due=row[due_field],
            calendar=row["regime__holiday_country"],
        )

    return explain


def open_demands(customer: Any) -> list[conflicts.Conflict]:
    """C9 and R4: an open demand concerns the customer. R6: the conflict says only that a
    restricted item exists, never the agency or the process; counsel has the details."""
    demands = LawEnforcementDemand.objects.open().filter(customer_links__customer=customer.pk)
    found = demands.distinct().count()
    if not found:
        return []
    what = (
        "an open law-enforcement demand concerns"
        if found == 1
        else (f"{found} open law-enforcement demands concern")
    )
    return [
        conflicts.Conflict(
            "R4", f"{what} this customer (restricted: privacy counsel has the details)"
        )
    ]


conflicts.register("requests.open_demands", open_demands)


def _right(row: dict[str, Any]) -> str:
    return desk.label(Right, row["right"]).lower()


def _process(row: dict[str, Any]) -> str:
    return desk.label(LegalProcess, row["legal_process"]).lower()


desk.register(
    "requests",
    label="Requests",
    sources=[
        # R1: a customer whose DPA includes the SCCs is notified of each request (Clause 10(a)).
        desk.Source(
            "R1",
            DataSubjectRequest,
            "customer_notice_due",
            "customer_notice_open",
            ("right", "requester_email", "received_on"),
            lambda row: (
                f"Notify the customer of the {_right(row)} request from "
                f"{row['requester_email']} (SCC Clause 10(a))"
            ),
            explain=lambda row: (
                deadlines.dsr_customer_notice_explained(
                    row["received_on"], row["customer_notice_due"]
                )
                if row["received_on"]
                else None
            ),
        ),
        desk.Source(
            "R3",
            DataSubjectRequest,
            "acknowledge_by",
            "acknowledgement_open",
            ("right", "requester_email", *REGIME),
            lambda row: (
                f"Confirm receipt of the {_right(row)} request from {row['requester_email']}"
            ),
            explain=_explain_r3("acknowledge_by"),
        ),
        desk.Source(
            "R3",
            DataSubjectRequest,
            "respond_by",
            "response_open",
            ("right", "requester_email", *REGIME),
            lambda row: f"Answer the {_right(row)} request from {row['requester_email']}",
            explain=_explain_r3("respond_by"),
        ),
        desk.Source(
            "R3",
            DataSubjectRequest,
            "extended_to",
            "extended_response_open",
            ("right", "requester_email", *REGIME),
            lambda row: (
                f"Answer the {_right(row)} request from {row['requester_email']} (extended)"
            ),
            explain=_explain_r3("extended_to"),
        ),
        # R4: a compelled demand's customer is told, unless an order forbids it: then the day
        # after its last binding day, or, for an order without an end date, its review instead.
        desk.Source(
            "R4",
            LawEnforcementDemand,
            "customer_notice_due_on",
            "customer_notice_open",
            ("agency", "legal_process", "nondisclosure_order"),
            lambda row: (
                f"Notify the customer of the {_process(row)} from {row['agency']}"
                + (" (the non-disclosure order has ended)" if row["nondisclosure_order"] else "")
            ),
            customer="customers",
            customer_name=None,
            customer_names=demand_customers,
            restricted=True,  # R6: counsel's alone
            export_permission=EXPORT_PERMISSION,
        ),
        desk.Source(
            "R4",
            LawEnforcementDemand,
            "order_review_due_on",
            "order_review_open",
            ("agency", "legal_process"),
            lambda row: (
                f"Review the non-disclosure order on the {_process(row)} from {row['agency']} "
                "and record the efforts to lift it (SCC 15.1(b))"
            ),
            customer="customers",
            customer_name=None,
            customer_names=demand_customers,
            restricted=True,  # R6: counsel's alone
            export_permission=EXPORT_PERMISSION,
        ),
    ],
)
