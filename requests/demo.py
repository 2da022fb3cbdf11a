"""Demo data for the requests area (used by `manage.py seed_demo`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from customers.models import Customer
from harmonyze_portal.dates import add_months
from requests.models import (
    Channel,
    DataSubjectRequest,
    Disclosure,
    LawEnforcementDemand,
    LegalProcess,
    Regime,
    Right,
    Role,
)

ACME = "Acme Analytics GmbH"
GLOBEX = "Globex Corporation Ltd"


def seed(*, now: datetime, today: date, staff: Mapping[str, Any]) -> str:
    """Four data subject requests — a processor-side one from an Acme user awaiting the
    redirect, with Acme's SCC notice due (R1), a GDPR controller-side one due within days (R2,
    R3), a CCPA one whose acknowledgement is due (R3) and a Swiss FADP one on the Swiss
    calendar (R3, T4) — and two law-enforcement demands: one redirected to the
    customer, one whose non-disclosure order ended last week so the customer notice is now due
    (R4). Looked up by natural keys, so a second run adds nothing; dates relative to today are
    fixed by the first run."""
    customers = {c.legal_name: c for c in Customer.objects.filter(legal_name__in=(ACME, GLOBEX))}
    regimes = {r.code: r for r in Regime.objects.filter(code__in=("gdpr", "ccpa", "fadp"))}
    added = 0
    if "gdpr" in regimes:
        acme = customers.get(ACME)
        added += _dsr(
            "m.schneider@acme-analytics.com",
            requester_name="Maria Schneider",
            channel=Channel.EMAIL,
            right=Right.DELETION,
            regime=regimes["gdpr"],
            role=Role.UNDECIDED,
            customer=acme,
            service_named="Acme Analytics dashboards",
            details="Please delete everything you hold about me in Acme's analytics workspace.",
            received_on=today - timedelta(days=1),
        )
        # Received a month less four days ago: due in about four days (T3, T4).
        added += _dsr(
            "lena.fischer@example.de",
            requester_name="Lena Fischer",
            channel=Channel.LETTER,
            right=Right.ACCESS,
            regime=regimes["gdpr"],
            role=Role.CONTROLLER,
            details="A copy of the marketing data Harmonyze holds about me.",
            received_on=add_months(today, -1) + timedelta(days=4),
        )
    if "ccpa" in regimes:
        added += _dsr(
            "jordan.lee@example.com",
            requester_name="Jordan Lee",
            channel=Channel.EMAIL,
            right=Right.DELETION,
            regime=regimes["ccpa"],
            role=Role.CONTROLLER,
            details="Delete my newsletter subscription data.",
            received_on=today - timedelta(days=5),
        )
    if "fadp" in regimes:
        added += _dsr(
            "luca.meier@example.ch",
            requester_name="Luca Meier",
            channel=Channel.EMAIL,
            right=Right.ACCESS,
            regime=regimes["fadp"],
            role=Role.CONTROLLER,
            details="Welche Daten über mich bearbeitet Harmonyze? (FADP art. 25)",
            received_on=today - timedelta(days=10),
        )
    added += _demand(
        agency="Landeskriminalamt Berlin",
        country="Germany",
        customers=[c for c in (customers.get(ACME),) if c],
        legal_process=LegalProcess.OTHER,
        received_on=today - timedelta(days=20),
        data_sought="Account holder details for one Acme Analytics user.",
        redirect_attempted_on=today - timedelta(days=19),
        redirect_contact="Dana Weber, privacy@acme-analytics.com",
        contact_details_given=True,
        disclosure=Disclosure.NOTHING,
        notes="The agency accepted the redirect and contacted Acme directly.",
    )
    added += _demand(
        agency="U.S. Department of Justice, Criminal Division",
        country="United States",
        customers=[c for c in (customers.get(GLOBEX),) if c],
        legal_process=LegalProcess.COURT_ORDER,
        received_on=today - timedelta(days=130),
        data_sought="Login records of two Globex user accounts.",
        redirect_attempted_on=today - timedelta(days=129),
        redirect_contact="Priya Shah, dpo@globex.co.uk",
        compelled=True,
        # The order has ended: the postponed customer notice is now due (R4).
        nondisclosure_order=True,
        nondisclosure_order_starts=today - timedelta(days=125),
        nondisclosure_order_ends=today - timedelta(days=7),
        disclosure=Disclosure.PART,
        disclosed_on=today - timedelta(days=100),
    )
    return f"{added} privacy requests and demands added"


def _dsr(email: str, **defaults: Any) -> int:
    _, created = DataSubjectRequest.objects.get_or_create(requester_email=email, defaults=defaults)
    return int(created)


def _demand(*, agency: str, country: str, customers: list[Customer], **defaults: Any) -> int:
    demand, created = LawEnforcementDemand.objects.get_or_create(
        agency=agency, country=country, defaults=defaults
    )
    if created:
        demand.customers.set(customers)
    return int(created)
