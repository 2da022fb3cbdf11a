"""Where each deadline of the desk comes from: one source per stored due column (DOMAIN.md
T5). Adding a deadline to the dashboard is adding a row here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.urls import reverse

from audits.models import AuditRequest, AuditStatus
from customers.models import (
    AssistanceRequest,
    BreachNotice,
    Customer,
    ProhibitedDataFinding,
)
from customers.models.assistance import AssistanceKind, AssistanceStatus, ProhibitedCategory
from requests.models import DataSubjectRequest, DSRStatus, LawEnforcementDemand, LegalProcess
from requests.models.dsr import CUSTOMER_NOTICE_OPEN, Right
from subprocessors.models import (
    Change,
    ChangeStatus,
    Objection,
    ObjectionStatus,
    SubProcessorStatus,
)

AREAS = {
    "customers": "Customers",
    "subprocessors": "Sub-processors",
    "requests": "Requests",
    "audits": "Audits",
}
# A4: the final plan is agreed at least two weeks before the start.
FINAL_PLAN_LEAD_DAYS = 14
# Audit requests still heading for an agreed plan (A2, A4).
AUDIT_PLANNING = (
    AuditStatus.RECEIVED,
    AuditStatus.UNDER_REVIEW,
    AuditStatus.REPORT_OFFERED,
    AuditStatus.NEGOTIATION,
)


@dataclass(frozen=True)
class Source:
    """One kind of deadline: its model, stored due column and the filter that keeps it open.

    Most due columns are indexed (C3–C6, S3, R3, R4); C7's ``learned_on``, S4's ``deadline`` and
    the audit plan dates (A2, A4) are not, on tables that stay small (findings, objections, audit
    requests), so their ``ORDER BY … LIMIT`` sorts the open rows.
    """

    area: str
    rule: str
    model: type[Model]
    due_field: str
    # What keeps the deadline open: a filter, or the area's own QuerySet method, which every
    # other consumer (the admin list filter, tests) calls too.
    open_filter: Q | Callable[[], QuerySet[Any]]
    fields: tuple[str, ...]
    describe: Callable[[dict[str, Any]], str]
    customer_field: str | None = "customer"
    link_field: str = "pk"  # the pk of the record the link opens
    link_model: type[Model] | None = None
    # The due date is the column's date plus this many days (A4: start − 14).
    offset_days: int = 0
    many_customers: bool = False  # law-enforcement demands name several customers
    # R6: counsel's alone. Outside the portal (calendar feed, digest, exports for others) an
    # item of this source is only "1 restricted item — sign in"; inside, each showing is logged.
    restricted: bool = False

    def open_queryset(self) -> QuerySet[Any]:
        if isinstance(self.open_filter, Q):
            return self.model._default_manager.filter(self.open_filter)
        return self.open_filter()

    @property
    def permission(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"

    def url(self, row: dict[str, Any]) -> str:
        meta = (self.link_model or self.model)._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row["link"]])


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


SOURCES: tuple[Source, ...] = (
    Source(
        "customers",
        "C3",
        Customer,
        "deletion_due",
        Q(deletion_due__isnull=False, deletion_completed_on__isnull=True),
        (),
        lambda row: "Delete the customer's personal data (90 days after termination)",
        customer_field=None,
    ),
    Source(
        "customers",
        "C4",
        Customer,
        "credential_purge_due",
        Q(credential_purge_due__isnull=False, credential_purge_completed_on__isnull=True),
        (),
        lambda row: "Purge the customer's data and credentials",
        customer_field=None,
    ),
    Source(
        "customers",
        "C5",
        BreachNotice,
        "notice_due_at",
        Q(notified_at__isnull=True),
        ("breach__title",),
        lambda row: f"Notify the customer of the breach: {row['breach__title']}",
    ),
    Source(
        "customers",
        "C6",
        AssistanceRequest,
        "due_on",
        Q(status__in=[AssistanceStatus.OPEN, AssistanceStatus.IN_PROGRESS]),
        ("kind",),
        lambda row: f"Assist the customer: {_label(AssistanceKind, row['kind'])}",
    ),
    Source(
        "customers",
        "C7",
        ProhibitedDataFinding,
        "learned_on",
        Q(deletion_confirmed_on__isnull=True),
        ("category",),
        lambda row: f"Delete prohibited data: {_label(ProhibitedCategory, row['category'])}",
    ),
    Source(
        "subprocessors",
        "S3",
        Change,
        "earliest_access_on",
        # Announced, not yet active nor withdrawn (S1, S3).
        Q(
            status=ChangeStatus.PUBLISHED,
            earliest_access_on__isnull=False,
            subprocessor__status=SubProcessorStatus.ANNOUNCED,
        ),
        ("subprocessor__name",),
        lambda row: f"{row['subprocessor__name']} may access customer data from this date",
        customer_field=None,
    ),
    Source(
        "subprocessors",
        "S4",
        Objection,
        "deadline",
        Q(status=ObjectionStatus.OPEN, deadline__isnull=False),
        ("signup__email",),
        # Staff-entered objections may name only the customer (S4).
        lambda row: f"Resolve the objection from {row['signup__email'] or row['customer']}",
        link_field="change_id",
        link_model=Change,
    ),
    # R1: a customer whose DPA includes the SCCs is notified of each request (Clause 10(a)).
    Source(
        "requests",
        "R1",
        DataSubjectRequest,
        "customer_notice_due",
        CUSTOMER_NOTICE_OPEN,
        ("right", "requester_email"),
        lambda row: (
            f"Notify the customer of the {_label(Right, row['right']).lower()} request from "
            f"{row['requester_email']} (SCC Clause 10(a))"
        ),
    ),
    Source(
        "requests",
        "R3",
        DataSubjectRequest,
        "acknowledge_by",
        Q(status=DSRStatus.OPEN, acknowledge_by__isnull=False, acknowledged_on__isnull=True),
        ("right", "requester_email"),
        lambda row: (
            f"Confirm receipt of the {_label(Right, row['right']).lower()} request "
            f"from {row['requester_email']}"
        ),
    ),
    Source(
        "requests",
        "R3",
        DataSubjectRequest,
        "respond_by",
        Q(status=DSRStatus.OPEN, respond_by__isnull=False, extended_to__isnull=True),
        ("right", "requester_email"),
        lambda row: (
            f"Answer the {_label(Right, row['right']).lower()} request from "
            f"{row['requester_email']}"
        ),
    ),
    Source(
        "requests",
        "R3",
        DataSubjectRequest,
        "extended_to",
        Q(status=DSRStatus.OPEN, extended_to__isnull=False),
        ("right", "requester_email"),
        lambda row: (
            f"Answer the {_label(Right, row['right']).lower()} request from "
            f"{row['requester_email']} (extended)"
        ),
    ),
    # R4: a compelled demand's customer is told, unless an order forbids it: then the day after
    # its last binding day, or, for an order without an end date, its review comes up instead.
    Source(
        "requests",
        "R4",
        LawEnforcementDemand,
        "customer_notice_due_on",
        LawEnforcementDemand.objects.customer_notice_open,
        ("agency", "legal_process", "nondisclosure_order"),
        lambda row: (
            f"Notify the customer of the {_label(LegalProcess, row['legal_process']).lower()} "
            f"from {row['agency']}"
            + (" (the non-disclosure order has ended)" if row["nondisclosure_order"] else "")
        ),
        customer_field=None,
        many_customers=True,
        restricted=True,
    ),
    Source(
        "requests",
        "R4",
        LawEnforcementDemand,
        "order_review_due_on",
        LawEnforcementDemand.objects.order_review_open,
        ("agency", "legal_process"),
        lambda row: (
            "Review the non-disclosure order on the "
            f"{_label(LegalProcess, row['legal_process']).lower()} from {row['agency']} and "
            "record the efforts to lift it (SCC 15.1(b))"
        ),
        customer_field=None,
        many_customers=True,
        restricted=True,
    ),
    Source(
        "audits",
        "A2",
        AuditRequest,
        "earliest_compliant_start",
        Q(status__in=AUDIT_PLANNING, lead_time_met=False, earliest_compliant_start__isnull=False),
        ("proposed_start",),
        lambda row: (
            f"The plan missed the one-month lead time: proposed start {row['proposed_start']}, "
            "earliest compliant start this date"
        ),
    ),
    Source(
        "audits",
        "A4",
        AuditRequest,
        "proposed_start",
        Q(status__in=AUDIT_PLANNING, final_plan_agreed_on__isnull=True),
        ("proposed_start",),
        lambda row: f"Agree the final audit plan (start {row['proposed_start']})",
        offset_days=-FINAL_PLAN_LEAD_DAYS,
    ),
)
RULES = tuple(dict.fromkeys(source.rule for source in SOURCES))
