"""Every register the admin exports (issue 16, P7), with builders that fill each of its
columns, so a test comparing the streamed file with import-export's ``Resource.export()``
fails on a difference in any cell, not only in the cells a thin row happens to fill."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from audits.exports import AuditRegisterResource
from audits.models import AuditGround, AuditRequest, AuditStatus
from customers.exports import (
    BreachLogResource,
    BreachMessageResource,
    BreachRemediationResource,
    DPARegisterResource,
    InstructionNoticeResource,
    InstructionResource,
    LegalHoldResource,
)
from customers.models import (
    DPA,
    BreachMessage,
    BreachNotice,
    BreachRemediation,
    Instruction,
    InstructionNotice,
    InstructionResponse,
    LegalHold,
)
from customers.services import customer_terminate
from requests.models import DataSubjectRequest, DSRStatus, Outcome
from requests.models.dsr import Role, VerificationMethod
from requests.reports import DSRLogResource
from subprocessors.agreements import AgreementRegisterResource, TransferRegisterResource
from subprocessors.locations import ProcessingLocation
from subprocessors.models import SubProcessor
from tests.audits.builders import make_audit_request, make_report
from tests.customers.builders import (
    make_breach,
    make_customer,
    make_dpa,
    make_hold,
    make_instruction,
    make_instruction_notice,
    make_message,
    make_notice,
    make_step,
)
from tests.requests.builders import make_dsr
from tests.subprocessors.builders import make_subprocessor

# Text a spreadsheet would run as a formula: every register shows it in its first row.
FORMULA = '=HYPERLINK("http://evil.example")'
AT = datetime(2026, 2, 1, 14, 30, tzinfo=UTC)


def _name(n: int, what: str = "Customer") -> str:
    return FORMULA if n == 0 else f"{what} {n} GmbH"


def _customer(n: int) -> Any:
    return make_customer(_name(n))


def add_dpas(first: int, last: int) -> None:
    """C2, C3, C9: the transfer terms vary, every customer but the first has an active hold,
    and the deletion clock is open, running or done."""
    for n in range(first, last):
        customer = _customer(n)
        make_dpa(
            customer,
            supervisory_authority="BfDI",
            supervisory_authority_country="Germany",
            uk_addendum=n % 2 == 0,
            swiss_fadp=n % 3 == 0,
        )
        if n == 0:
            continue
        customer_terminate(customer=customer, on=date(2026, 1, 31), by="customer", reason="Left")
        if n % 2 == 0:
            customer.deletion_completed_on = date(2026, 4, 1)
            customer.save()
        make_hold(customer, legal_basis=f"Litigation hold {n}")


def add_breach_notices(first: int, last: int) -> None:
    breach = make_breach(title=f"Breach {first}")
    make_step(breach, taken_at=AT, action="Closed the bucket")
    for n in range(first, last):
        notice = make_notice(
            breach, _customer(n), notified_at=AT, notified_to="dpo@example.com\nlegal@example.com"
        )
        make_message(notice, sent_at=AT, sent_to="dpo@example.com")


def add_breach_messages(first: int, last: int) -> None:
    breach = make_breach(title=f"Breach {first}")
    for n in range(first, last):
        notice = make_notice(breach, _customer(n))
        make_message(
            notice,
            sent_at=AT if n % 2 else None,
            sent_to="dpo@example.com\nlegal@example.com",
            message_id=f"<notice-{n}@harmonyze.com>",
        )


def add_breach_steps(first: int, last: int) -> None:
    for n in range(first, last):
        breach = make_breach(title=_name(n, "Breach"))
        make_step(breach, taken_at=AT + timedelta(hours=n), action=f"Rotated key {n}")


def add_holds(first: int, last: int) -> None:
    for n in range(first, last):
        customer = _customer(n)
        if n % 2:
            customer_terminate(customer=customer, on=date(2026, 1, 31), by="customer", reason="")
        make_hold(customer, released=date(2026, 5, 1) if n % 2 else None)


def add_instructions(first: int, last: int) -> None:
    for n in range(first, last):
        customer = _customer(n)
        instruction = make_instruction(customer, withdrawn_on=date(2026, 4, 1) if n % 2 else None)
        make_instruction_notice(customer, instruction=instruction)


def add_instruction_notices(first: int, last: int) -> None:
    for n in range(first, last):
        notice = make_instruction_notice(
            _customer(n),
            subject="Your instruction infringes the GDPR",
            body="We cannot follow it.",
            sent_at=datetime(2026, 3, 3, 16, 0, tzinfo=UTC),
            sent_to="dpo@example.com",
        )
        InstructionResponse(
            notice=notice, received_on=date(2026, 3, 10), kind="withdrawn", description="Dropped"
        ).save()


def add_dsrs(first: int, last: int) -> None:
    """R1, R2, R3: a denied request verified by a named person, an extended one, and one
    redirected to its customer and answered."""
    user, _ = get_user_model().objects.get_or_create(username="verifier")
    for n in range(first, last):
        customer = _customer(n)
        if n % 2 == 0:
            make_dsr(
                email=f"person{n}@example.org",
                customer=customer,
                role=Role.CONTROLLER,
                status=DSRStatus.CLOSED,
                outcome=Outcome.DENIED,
                denial_reason="Not an account holder",
                verification_method=VerificationMethod.GOVERNMENT_ID,
                verified_on=date(2026, 3, 4),
                verified_by=user,
                acknowledged_on=date(2026, 3, 3),
                extension_told_on=date(2026, 3, 20),
                reply_sent_on=date(2026, 3, 30),
            )
        else:
            make_dsr(
                email=f"person{n}@example.org",
                customer=customer,
                regime_code="ccpa",  # R3: a receipt to confirm
                role=Role.PROCESSOR,
                redirected_on=date(2026, 3, 5),
            )


def add_audit_requests(first: int, last: int) -> None:
    report = make_report()
    for n in range(first, last):
        request = make_audit_request(
            _customer(n),
            ground=AuditGround.ANNUAL,
            offered_report=report,
            offered_at=AT,
            offer_answer="accepted_some" if n % 2 else "declined",
            offer_answered_on=date(2026, 3, 20),
            controls_accepted="Logging" if n % 2 else "",
            auditor_objection="competitor",
            replacement_auditor="Other & Co",
        )
        if n % 2 == 0:
            request.status = AuditStatus.PLAN_AGREED
            request.final_plan_agreed_on = date(2026, 3, 25)
            request.save()


def add_subprocessors(first: int, last: int) -> None:
    for n in range(first, last):
        sp = make_subprocessor(_name(n, "Vendor"), locations="Ireland")
        ProcessingLocation(
            subprocessor=sp, country="IE", transfer_mechanism="sccs", details="Dublin"
        ).save()
        sp.agreement_copy.name = "subprocessor-agreements/copy.pdf"
        sp.save()


@dataclass(frozen=True)
class Register:
    url: str
    model: type[Any]
    resource: type[Any]
    add: Callable[[int, int], None]
    formats: tuple[str, ...] = ("0", "1")  # 0 = CSV, 1 = XLSX
    # Read as values_list() tuples: no model instance per row. A register with a column of
    # many related rows (the notices of a breach) reads instances with their prefetch.
    tuples: bool = True


REGISTERS: dict[str, Register] = {
    "DPA register": Register("/admin/customers/dpa/export/", DPA, DPARegisterResource, add_dpas),
    "breach log": Register(
        "/admin/customers/breachnotice/export/",
        BreachNotice,
        BreachLogResource,
        add_breach_notices,
        tuples=False,
    ),
    "breach notices": Register(
        "/admin/customers/breachmessage/export/",
        BreachMessage,
        BreachMessageResource,
        add_breach_messages,
    ),
    "remediation log": Register(
        "/admin/customers/breachremediation/export/",
        BreachRemediation,
        BreachRemediationResource,
        add_breach_steps,
    ),
    "legal holds": Register(
        "/admin/customers/legalhold/export/", LegalHold, LegalHoldResource, add_holds
    ),
    "instructions": Register(
        "/admin/customers/instruction/export/",
        Instruction,
        InstructionResource,
        add_instructions,
        tuples=False,
    ),
    "instruction notices": Register(
        "/admin/customers/instructionnotice/export/",
        InstructionNotice,
        InstructionNoticeResource,
        add_instruction_notices,
        tuples=False,
    ),
    "DSR log": Register(
        "/admin/requests/datasubjectrequest/export/", DataSubjectRequest, DSRLogResource, add_dsrs
    ),
    "audit register": Register(
        "/admin/audits/auditrequest/export/",
        AuditRequest,
        AuditRegisterResource,
        add_audit_requests,
    ),
    "sub-processor agreements": Register(
        "/admin/subprocessors/subprocessor/export/",
        SubProcessor,
        AgreementRegisterResource,
        add_subprocessors,
        tuples=False,
    ),
    "transfers": Register(
        "/admin/subprocessors/processinglocation/export/",
        ProcessingLocation,
        TransferRegisterResource,
        add_subprocessors,
    ),
}
