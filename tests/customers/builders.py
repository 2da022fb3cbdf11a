"""Small builders for the customers area's rows: each saves through ``save()`` (H1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from customers.models import (
    DPA,
    AssistanceRequest,
    Breach,
    BreachMessage,
    BreachNotice,
    BreachRemediation,
    Contact,
    Customer,
    CustomerDomain,
    DeletionCertificate,
    Instruction,
    InstructionNotice,
    LegalHold,
    ProhibitedDataFinding,
)
from customers.models.assistance import AssistanceKind, ProhibitedCategory
from customers.models.breach_log import NO_FAULT_STATEMENT
from customers.models.dpas import DPAStatus
from customers.models.holds import HoldRequester
from customers.models.instructions import InstructionChannel, NoticeKind


def make_customer(
    legal_name: str = "Acme Analytics GmbH",
    *,
    effective: date = date(2024, 1, 1),
    domains: tuple[str, ...] = (),
    notice_email: str | None = None,
    **fields: Any,
) -> Customer:
    customer = Customer(legal_name=legal_name, agreement_effective_on=effective, **fields)
    customer.save()
    for domain in domains:
        make_domain(customer, domain)
    if notice_email:
        make_contact(customer, email=notice_email, is_notice_contact=True)
    return customer


def make_domain(customer: Customer, domain: str) -> CustomerDomain:
    row = CustomerDomain(customer=customer, domain=domain)
    row.save()
    return row


def make_contact(
    customer: Customer,
    *,
    email: str,
    name: str = "Dana Privacy",
    role: str = "privacy",
    is_notice_contact: bool = False,
) -> Contact:
    contact = Contact(
        customer=customer, name=name, email=email, role=role, is_notice_contact=is_notice_contact
    )
    contact.save()
    return contact


def make_dpa(
    customer: Customer,
    *,
    version: str = "2024-03",
    status: str = DPAStatus.IN_FORCE,
    effective: date | None = None,
    **fields: Any,
) -> DPA:
    effective = effective or customer.agreement_effective_on
    dpa = DPA(
        customer=customer,
        version=version,
        status=status,
        signed_on=effective,
        effective_on=effective,
        **fields,
    )
    dpa.save()
    return dpa


def make_breach(
    *,
    aware_at: datetime = datetime(2026, 1, 31, 15, 0, tzinfo=UTC),
    customers: tuple[Customer, ...] = (),
    title: str = "Misconfigured export bucket",
) -> Breach:
    breach = Breach(
        title=title,
        aware_at=aware_at,
        description="An export bucket was readable without authentication for six hours.",
        data_categories="Names and work email addresses",
    )
    breach.save()
    for customer in customers:
        make_notice(breach, customer)
    return breach


def make_notice(breach: Breach, customer: Customer, **fields: Any) -> BreachNotice:
    notice = BreachNotice(breach=breach, customer=customer, **fields)
    notice.save()
    return notice


def make_assistance(
    customer: Customer,
    *,
    kind: str = AssistanceKind.DPIA,
    received: date = date(2026, 1, 31),
    **fields: Any,
) -> AssistanceRequest:
    request = AssistanceRequest(customer=customer, kind=kind, received_on=received, **fields)
    request.save()
    return request


def make_finding(
    customer: Customer | None,
    *,
    learned: date = date(2026, 1, 31),
    category: str = ProhibitedCategory.PHI,
    **fields: Any,
) -> ProhibitedDataFinding:
    finding = ProhibitedDataFinding(
        customer=customer,
        category=category,
        location="Support ticket attachment",
        learned_on=learned,
        **fields,
    )
    finding.save()
    return finding


def make_certificate(
    customer: Customer, *, requested: date = date(2026, 5, 4), **fields: Any
) -> DeletionCertificate:
    certificate = DeletionCertificate(
        customer=customer, requested_on=requested, requested_by="Dana Privacy", **fields
    )
    certificate.save()
    return certificate


def make_message(
    affected: BreachNotice,
    *,
    kind: str = "first",
    body: str = "A breach affected your data.\n\n" + NO_FAULT_STATEMENT,
    **fields: Any,
) -> BreachMessage:
    message = BreachMessage(
        affected=affected, kind=kind, subject="Notice of a breach", body=body, **fields
    )
    message.save()
    return message


def make_step(
    breach: Breach, *, taken_at: datetime, action: str, taken_by: str = "SRE"
) -> BreachRemediation:
    step = BreachRemediation(breach=breach, taken_at=taken_at, action=action, taken_by=taken_by)
    step.save()
    return step


def make_hold(
    customer: Customer,
    *,
    started: date = date(2026, 3, 1),
    review: date = date(2026, 6, 1),
    released: date | None = None,
    **fields: Any,
) -> LegalHold:
    hold = LegalHold(
        customer=customer,
        legal_basis=fields.pop("legal_basis", "Litigation hold, Smith v. Acme"),
        requested_by=fields.pop("requested_by", HoldRequester.LITIGATION),
        requester=fields.pop("requester", "Opposing counsel, Smith & Partners LLP"),
        data_kept=fields.pop("data_kept", "Support tickets of 2025"),
        started_on=started,
        review_on=review,
        released_on=released,
        release_reason=fields.pop("release_reason", "Case settled" if released else ""),
        **fields,
    )
    hold.save()
    return hold


def make_instruction(
    customer: Customer, *, received: date = date(2026, 3, 2), **fields: Any
) -> Instruction:
    instruction = Instruction(
        customer=customer,
        received_on=received,
        given_by=fields.pop("given_by", "Dana Privacy, DPO"),
        channel=fields.pop("channel", InstructionChannel.WRITTEN),
        instruction=fields.pop(
            "instruction", "Keep call recordings of EU users for ten years for training."
        ),
        **fields,
    )
    instruction.save()
    return instruction


def make_instruction_notice(
    customer: Customer,
    *,
    identified_at: datetime = datetime(2026, 3, 3, 15, 0, tzinfo=UTC),
    kind: str = NoticeKind.INFRINGEMENT,
    instruction: Instruction | None = None,
    **fields: Any,
) -> InstructionNotice:
    if instruction is None and kind != NoticeKind.CANNOT_MEET_OBLIGATIONS:
        instruction = make_instruction(customer)
    notice = InstructionNotice(
        customer=customer,
        instruction=instruction,
        kind=kind,
        identified_at=identified_at,
        reasons=fields.pop("reasons", "Ten years exceeds any purpose the customer named."),
        **fields,
    )
    notice.save()
    return notice
