"""The customers area on the customer page: DPAs and transfer terms (C2), termination and the
C3/C4 clocks, certificates of deletion (C3), breach notices (C5), assistance requests (C6) and
prohibited-data findings (C7). One query per section."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from customers import deadlines
from customers.models import (
    DPA,
    AssistanceRequest,
    BreachNotice,
    Customer,
    DeletionCertificate,
    ProhibitedDataFinding,
)
from customers.models.accounts import TerminationRoute
from customers.models.assistance import AssistanceStatus
from customers.models.dpas import DPAStatus
from harmonyze_portal import customer_page as hub
from harmonyze_portal.dates import legal_date, period_explained, unit_text


def admin_url(model: type[Any], view: str, *args: Any) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def dpas(customer: Any, today: date) -> list[hub.Entry]:
    """C2: the DPA in force first, then the earlier ones, each with its transfer terms."""
    rows = sorted(
        DPA.objects.filter(customer=customer),
        key=lambda dpa: (dpa.status != DPAStatus.IN_FORCE, -dpa.effective_on.toordinal()),
    )
    return [
        hub.Entry(
            what=f"DPA {dpa.version}: {', '.join(dpa.transfer_terms) or 'no transfer terms'}; "
            f"law and courts of {dpa.governing_law}",
            url=admin_url(DPA, "change", dpa.pk),
            rule="C2",
            on=dpa.effective_on,
            status=dpa.get_status_display(),
            record=dpa.pk,
        )
        for dpa in rows
    ]


def clocks(customer: Any, today: date) -> list[hub.Entry]:
    """Termination, and the C3 deletion and C4 purge it starts (S5 when an objection ended)."""
    if customer.termination_date is None:
        return []
    url = admin_url(Customer, "change", customer.pk)
    route = customer.get_termination_route_display() if customer.termination_route else ""
    return [
        hub.Entry(
            what=f"Agreement terminated{f' ({route})' if route else ''}",
            url=url,
            rule="S5" if customer.termination_route == TerminationRoute.OBJECTION else "",
            on=customer.termination_date,
            status=customer.get_terminated_by_display() if customer.terminated_by else "",
        ),
        hub.Entry(
            what="Delete the customer's personal data",
            url=url,
            rule="C3",
            due=customer.deletion_due,
            due_label="Delete by",
            how=deadlines.deletion_due_explained(customer.termination_date),
            status=f"Done {customer.deletion_completed_on}"
            if customer.deletion_completed_on
            else "Open",
            done=customer.deletion_completed_on is not None,
        ),
        hub.Entry(
            what="Purge the customer's data and credentials",
            url=url,
            rule="C4",
            due=customer.credential_purge_due,
            due_label="Purge by",
            how=deadlines.credential_purge_due_explained(
                customer.termination_date, customer.earlier_deletion_requested_on
            ),
            status=f"Done {customer.credential_purge_completed_on}"
            if customer.credential_purge_completed_on
            else "Open",
            done=customer.credential_purge_completed_on is not None,
        ),
    ]


def terminate(customer: Any) -> list[hub.Action]:
    if customer.termination_date is not None:
        return []
    return [
        hub.Action(
            "Terminate the agreement",
            admin_url(Customer, "change", customer.pk),
            "customers.change_customer",
        )
    ]


def certificates(customer: Any, today: date) -> list[hub.Entry]:
    return [
        hub.Entry(
            what=f"Written request by {certificate.requested_by}",
            url=admin_url(DeletionCertificate, "change", certificate.pk),
            rule="C3",
            on=certificate.requested_on,
            status=f"Issued {certificate.issued_on}" if certificate.issued_on else "Not issued",
            done=certificate.issued_on is not None,
            record=certificate.pk,
        )
        for certificate in DeletionCertificate.objects.filter(customer=customer).order_by(
            "-requested_on", "-pk"
        )
    ]


def certificate_actions(customer: Any) -> list[hub.Action]:
    listing = admin_url(DeletionCertificate, "changelist")
    return [
        hub.Action(
            "Record a written request",
            admin_url(DeletionCertificate, "add") + f"?customer={customer.pk}",
            "customers.add_deletioncertificate",
        ),
        hub.Action(
            "Issue a certificate",
            f"{listing}?customer__id__exact={customer.pk}&issued_on__isempty=1",
            "customers.change_deletioncertificate",
        ),
    ]


def breach_notices(customer: Any, today: date) -> list[hub.Entry]:
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = (
        BreachNotice.objects.filter(customer=customer)
        .select_related("breach")
        .order_by("-breach__aware_at", "-pk")
    )
    entries = []
    for notice in rows:
        status = "Not yet notified"
        if notice.notified_at:
            status = f"Notified {legal_date(notice.notified_at, zone)}"
            status += " (late)" if notice.is_late else ""
        entries.append(
            hub.Entry(
                what=f"Breach: {notice.breach.title}",
                url=admin_url(BreachNotice, "change", notice.pk),
                rule="C5",
                on=legal_date(notice.breach.aware_at, zone),
                due=legal_date(notice.notice_due_at, zone),
                due_label="Notify by",
                how=deadlines.breach_notice_due_explained(
                    notice.breach.aware_at, notice.notice_due_at, zone
                ),
                status=status,
                done=notice.notified_at is not None,
                record=notice.pk,
            )
        )
    return entries


def assistance(customer: Any, today: date) -> list[hub.Entry]:
    return [
        hub.Entry(
            what=f"{request.get_kind_display()}",
            url=admin_url(AssistanceRequest, "change", request.pk),
            rule="C6",
            on=request.received_on,
            due=request.due_on,
            due_label="Service target",
            how=period_explained(
                "C6",
                start_label="received",
                start=request.received_on,
                amount=unit_text((request.due_on - request.received_on).days, "days"),
                result=request.due_on,
                note="house target",
            ),
            status=request.get_status_display(),
            done=request.status not in (AssistanceStatus.OPEN, AssistanceStatus.IN_PROGRESS),
            record=request.pk,
        )
        for request in AssistanceRequest.objects.filter(customer=customer).order_by(
            "-received_on", "-pk"
        )
    ]


def findings(customer: Any, today: date) -> list[hub.Entry]:
    return [
        hub.Entry(
            what=f"{finding.get_category_display()}: {finding.location}",
            url=admin_url(ProhibitedDataFinding, "change", finding.pk),
            rule="C7",
            on=finding.learned_on,
            status=f"Deletion confirmed {finding.deletion_confirmed_on}"
            if finding.deletion_confirmed_on
            else "Open",
            done=finding.deletion_confirmed_on is not None,
            record=finding.pk,
        )
        for finding in ProhibitedDataFinding.objects.filter(customer=customer).order_by(
            "-learned_on", "-pk"
        )
    ]


def _add(model: type[Any], label: str) -> Any:
    meta = model._meta

    def actions(customer: Any) -> list[hub.Action]:
        return [
            hub.Action(
                label,
                admin_url(model, "add") + f"?customer={customer.pk}",
                f"{meta.app_label}.add_{meta.model_name}",
            )
        ]

    return actions


def _listed(model: type[Any]) -> Any:
    return lambda customer: admin_url(model, "changelist") + f"?customer__id__exact={customer.pk}"


hub.register(
    "customers",
    [
        hub.Section(
            "dpas", "DPAs and transfer terms", DPA, dpas, rules="C2", order=10,
            actions=_add(DPA, "Record a DPA"), list_url=_listed(DPA),
        ),
        hub.Section(
            "termination", "Termination, deletion and purge", Customer, clocks,
            rules="C3, C4", order=20, actions=terminate,
        ),
        hub.Section(
            "certificates", "Certificates of deletion", DeletionCertificate, certificates,
            rules="C3", order=30, actions=certificate_actions,
            list_url=_listed(DeletionCertificate),
        ),
        hub.Section(
            "breach-notices", "Breach notices", BreachNotice, breach_notices, rules="C5",
            order=40, list_url=_listed(BreachNotice),
        ),
        hub.Section(
            "assistance", "Assistance requests", AssistanceRequest, assistance, rules="C6",
            order=70, actions=_add(AssistanceRequest, "Record an assistance request"),
            list_url=_listed(AssistanceRequest),
        ),
        hub.Section(
            "prohibited-data", "Prohibited data found", ProhibitedDataFinding, findings,
            rules="C7", order=80, actions=_add(ProhibitedDataFinding, "Record a finding"),
            list_url=_listed(ProhibitedDataFinding),
        ),
    ],
)  # fmt: skip
