"""The requests area on the customer page: data subject requests redirected to the customer
(R1, R3) and, for counsel alone, the law-enforcement demands that concern it (R4, R6).
One query per section; every demand shown is logged (``desk.restricted_items_shown``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from harmonyze_portal import customer_page as hub
from requests import deadlines
from requests.models import DataSubjectRequest, DSRStatus, LawEnforcementDemand


def dsrs(customer: Any, today: date) -> list[hub.Entry]:
    """R1: requests about the customer's Service Data, sent on to it; the SCC Clause 10(a)
    notice when it is owed, else the statutory response (R3)."""
    rows = (
        DataSubjectRequest.objects.filter(customer=customer)
        .exclude(status=DSRStatus.UNVERIFIED)
        .select_related("regime")
        .order_by("-received_on", "-pk")
    )
    entries = []
    for dsr in rows:
        due: date | None
        url = reverse("admin:requests_datasubjectrequest_change", args=[dsr.pk])
        what = f"{dsr.get_right_display()} request from {dsr.requester_email}"
        if dsr.customer_notice_due and dsr.received_on:
            due, label, rule, done = (
                dsr.customer_notice_due,
                "Notify the customer by",
                "R1",
                dsr.customer_informed_on is not None,
            )
            how: Any = deadlines.dsr_customer_notice_explained(dsr.received_on, due)
        else:
            due, label, rule = dsr.respond_by, "Answer by", "R3"
            done = dsr.status != DSRStatus.OPEN
            how = (
                deadlines.respond_by_explained(
                    rule="R3",
                    label="received",
                    received=dsr.received_on,
                    value=dsr.regime.response_value,
                    unit=dsr.regime.response_unit,
                    due=due,
                    calendar=dsr.regime.holiday_country,
                )
                if due and dsr.received_on
                else None
            )
        redirected = f"redirected {dsr.redirected_on}" if dsr.redirected_on else "not redirected"
        entries.append(
            hub.Entry(
                what=what,
                url=url,
                rule=f"R1/{rule}" if rule == "R3" else "R1",
                on=dsr.received_on,
                due=due,
                due_label=label,
                how=how,
                status=f"{dsr.get_status_display()}, {redirected}",
                done=done,
                record=dsr.pk,
            )
        )
    return entries


def demands(customer: Any, today: date) -> list[hub.Entry]:
    """R4: counsel's alone (the section needs the demand's view permission, R6)."""
    rows = LawEnforcementDemand.objects.filter(customers=customer).order_by("-received_on", "-pk")
    return [
        hub.Entry(
            what=f"{demand.get_legal_process_display()} from {demand.agency} ({demand.country})",
            url=reverse("admin:requests_lawenforcementdemand_change", args=[demand.pk]),
            rule="R4",
            on=demand.received_on,
            due=demand.customer_notice_due_on or demand.order_review_due_on,
            due_label="Notify the customer from"
            if demand.customer_notice_due_on
            else "Review the order by",
            status=f"Customer notified {demand.customer_notified_on}"
            if demand.customer_notified_on
            else "Customer not notified",
            done=demand.customer_notified_on is not None,
            record=demand.pk,
        )
        for demand in rows
    ]


hub.register(
    "requests",
    [
        hub.Section(
            "dsrs", "Data subject requests redirected to it", DataSubjectRequest, dsrs,
            rules="R1, R3", order=60,
            list_url=lambda customer: reverse("admin:requests_datasubjectrequest_changelist")
            + f"?customer__id__exact={customer.pk}",
        ),
        hub.Section(
            "demands", "Law-enforcement demands", LawEnforcementDemand, demands,
            rules="R4, R6", order=65, restricted=True,
        ),
    ],
)  # fmt: skip
