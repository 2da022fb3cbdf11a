"""Small builders for the requests area's rows: each saves through ``save()`` (H1)."""

from __future__ import annotations

from datetime import date
from typing import Any

from customers.models import Customer
from requests.models import (
    Channel,
    DataSubjectRequest,
    DSRStatus,
    LawEnforcementDemand,
    LegalProcess,
    Outcome,
    Regime,
    Right,
    VerificationMethod,
)


def regime(code: str = "gdpr") -> Regime:
    """One of the regimes the data migrations seed (gdpr, uk-gdpr, ccpa, us-state, lgpd,
    fadp)."""
    return Regime.objects.get(code=code)


def make_dsr(
    *,
    email: str = "jane@example.org",
    regime_code: str = "gdpr",
    received: date | None = date(2026, 3, 2),
    right: str = Right.ACCESS,
    status: str | None = None,
    **fields: Any,
) -> DataSubjectRequest:
    """A request received on ``received``; ``received=None`` leaves it awaiting the email
    verification (status unverified, no clocks). A request closed as fulfilled gets the
    identity check R2 requires, unless the test gives its own."""
    if status == DSRStatus.CLOSED and fields.get("outcome") in (Outcome.FULFILLED, Outcome.PARTLY):
        fields.setdefault("verification_method", VerificationMethod.ACCOUNT_EMAIL)
        fields.setdefault("verified_on", received)
    dsr = DataSubjectRequest(
        requester_name=fields.pop("requester_name", "Jane Subject"),
        requester_email=email,
        right=right,
        regime=regime(regime_code),
        received_on=received,
        status=status or (DSRStatus.OPEN if received else DSRStatus.UNVERIFIED),
        **fields,
    )
    dsr.save()
    return dsr


def make_submission(
    *, email: str = "jane@example.org", submitted: date = date(2026, 3, 2), **fields: Any
) -> DataSubjectRequest:
    """A public form submission awaiting its email confirmation: received (R3) on the legal
    date it was submitted, but not a request, nor open, until confirmed."""
    return make_dsr(
        email=email,
        received=submitted,
        status=DSRStatus.UNVERIFIED,
        channel=Channel.PUBLIC_FORM,
        **fields,
    )


def make_demand(
    *,
    agency: str = "FBI Seattle Field Office",
    country: str = "United States",
    legal_process: str = LegalProcess.SUBPOENA,
    received_on: date = date(2026, 3, 2),
    customers: tuple[Customer, ...] = (),
    **fields: Any,
) -> LawEnforcementDemand:
    """A law-enforcement demand (R4), saved without ``full_clean()`` so tests can build any
    state the database allows."""
    demand = LawEnforcementDemand(
        agency=agency,
        country=country,
        legal_process=legal_process,
        received_on=received_on,
        data_sought=fields.pop("data_sought", "Account records of the named users"),
        **fields,
    )
    demand.save()
    if customers:
        demand.customers.set(customers)
    return demand
