"""The requests area's rule events for the compliance matrix: R1, R3 and (counsel's alone) R4."""

from __future__ import annotations

from datetime import date

from django.db.models import F, Q

from harmonyze_portal.compliance import RuleEvents, done_by_due, register
from requests.models import DataSubjectRequest, LawEnforcementDemand


def _answered(today: date) -> tuple[Q, Q, Q]:
    """R3: answered by the extended date when there is one, else by ``respond_by``."""
    due_on = Q(extended_to__isnull=True) & Q(reply_sent_on__lte=F("respond_by"))
    due_extended = Q(extended_to__isnull=False) & Q(reply_sent_on__lte=F("extended_to"))
    unanswered = Q(reply_sent_on__isnull=True)
    past = Q(extended_to__isnull=True, respond_by__lt=today) | Q(extended_to__lt=today)
    on_time = due_on | due_extended
    return on_time, ~unanswered & ~on_time | (unanswered & past), unanswered & ~past


register(
    "requests",
    RuleEvents(
        key="r1-customer-notice",
        rule="R1",
        clause="SCC Clause 10(a)",
        what="Customers notified of data subject requests about their Service Data",
        model=DataSubjectRequest,
        date_field="received_on",
        base=Q(customer_notice_due__isnull=False),
        outcomes=done_by_due("customer_informed_on", "customer_notice_due"),
    ),
    RuleEvents(
        key="r3-answers",
        rule="R3",
        clause="PP 10, 11",
        what="Data subject requests answered within the statutory period",
        model=DataSubjectRequest,
        date_field="received_on",
        base=Q(respond_by__isnull=False),
        outcomes=_answered,
    ),
    RuleEvents(
        key="r4-customer-notice",
        rule="R4",
        clause="PP 5; SCC Clause 15.1",
        what="Customers notified of a law-enforcement demand (unless an order forbids it)",
        model=LawEnforcementDemand,
        date_field="received_on",
        customer="customers",
        base=Q(customer_notice_due_on__isnull=False),
        outcomes=done_by_due("customer_notified_on", "customer_notice_due_on"),
        restricted=True,
    ),
)
