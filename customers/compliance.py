"""The customers area's rule events for the compliance matrix: C3, C4, C5."""

from __future__ import annotations

from django.db.models import Q

from customers.models import BreachNotice, Customer
from harmonyze_portal.compliance import RuleEvents, done_by_due, register

register(
    "customers",
    RuleEvents(
        key="c3-deletion",
        rule="C3",
        clause="DPA 9",
        what="Customer data deleted within 90 days of termination",
        model=Customer,
        date_field="deletion_due",
        customer="pk",
        base=Q(deletion_due__isnull=False),
        outcomes=done_by_due("deletion_completed_on", "deletion_due"),
    ),
    RuleEvents(
        key="c4-credential-purge",
        rule="C4",
        clause="PP 4",
        what="Data and credentials purged within 30 days of account termination",
        model=Customer,
        date_field="credential_purge_due",
        customer="pk",
        base=Q(credential_purge_due__isnull=False),
        outcomes=done_by_due("credential_purge_completed_on", "credential_purge_due"),
    ),
    RuleEvents(
        key="c5-breach-notices",
        rule="C5",
        clause="DPA 7",
        what="Breach notices to each affected customer",
        model=BreachNotice,
        date_field="notice_due_at",
        date_is_datetime=True,
        outcomes=done_by_due("notified_at", "notice_due_at", moment=True),
    ),
)
