"""Multi-step writes of the customers area."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string

from customers.models import (
    Breach,
    BreachMessage,
    BreachNotice,
    Customer,
    DeletionCertificate,
    InstructionNotice,
    LegalHold,
)
from customers.models.accounts import TerminatedBy, TerminationRoute
from customers.models.breach_log import NO_FAULT_STATEMENT, NoticeKind, with_no_fault_statement
from harmonyze_portal.conflicts import TerminationConflictError, termination_conflicts
from harmonyze_portal.history import acting_staff_id
from harmonyze_portal.pdf import render_pdf


@transaction.atomic
def customer_terminate(
    *,
    customer: Customer,
    on: date,
    by: TerminatedBy | str,
    reason: str,
    route: TerminationRoute | str = TerminationRoute.ORDINARY,
    earlier_deletion_requested_on: date | None = None,
    confirm_conflicts: bool = False,
) -> Customer:
    """Record the Agreement's termination, which starts the C3 and C4 clocks.

    The subprocessors area calls this with ``route=OBJECTION`` when an objection cannot be
    resolved (S5). An active legal hold or an open law-enforcement demand refuses it
    (``TerminationConflictError``, which lists them) unless ``confirm_conflicts`` (C9); the
    confirmed conflicts are written into the history reason.
    """
    if customer.termination_date is not None:
        raise ValidationError(
            {"termination_date": f"{customer} was terminated on {customer.termination_date}."}
        )
    found = termination_conflicts(customer)
    if found and not confirm_conflicts:
        raise TerminationConflictError(found, field="termination_date")
    customer.termination_date = on
    customer.terminated_by = by
    customer.termination_route = route
    customer.termination_reason = reason
    customer.earlier_deletion_requested_on = earlier_deletion_requested_on
    customer.confirm_termination_conflicts = confirm_conflicts
    try:
        customer.full_clean()
    except ValidationError:
        # Leave the caller's object as stored, so a later save() cannot write the refused state.
        customer.refresh_from_db()
        customer.confirm_termination_conflicts = False
        raise
    customer._change_reason = f"Terminated: {reason}"
    customer.save()
    return customer


@transaction.atomic
def customer_reopen(*, customer: Customer, reason: str) -> Customer:
    """Undo a termination recorded in error or reversed: the clocks are cleared, and the
    history keeps what they were."""
    if customer.termination_date is None:
        raise ValidationError(f"{customer} is not terminated.")
    if not reason.strip():
        raise ValidationError("Say why the customer is reopened.")
    customer.termination_date = None
    customer.terminated_by = ""
    customer.termination_route = ""
    customer.termination_reason = ""
    customer._change_reason = f"Reopened: {reason}"
    customer.save()
    return customer


def breach_notice_draft(breach: Breach, kind: str = NoticeKind.FIRST) -> tuple[str, str]:
    """The default subject and body of a notice to affected customers (C5, DPA 7): the first
    notice, an update or the closing notice, each with the remediation steps logged so far and
    the statement that it admits no fault or liability."""
    titles = {
        NoticeKind.FIRST: "Notice of a Personal Data Breach",
        NoticeKind.UPDATE: "Update on a Personal Data Breach",
        NoticeKind.CLOSING: "Closing notice on a Personal Data Breach",
    }
    subject = f"{titles[NoticeKind(kind)]}: {breach.title}"
    body = render_to_string(
        "customers/emails/breach_notice.txt",
        {
            "breach": breach,
            "kind": kind,
            "steps": list(breach.remediation_steps.all()),
            "no_fault": NO_FAULT_STATEMENT,
        },
    )
    return subject, body


def breach_notice_recipients(breach: Breach, kind: str) -> QuerySet[BreachNotice]:
    """Who a notice of this kind goes to: a first notice to each affected customer not yet
    sent one; an update or a closing notice to each customer that had its first notice (a
    closing notice once)."""
    affected = breach.notices.select_related("customer")
    sent = BreachMessage.objects.sent()
    if kind == NoticeKind.FIRST:
        return affected.exclude(pk__in=sent.filter(kind=kind).values("affected"))
    told = affected.filter(pk__in=sent.filter(kind=NoticeKind.FIRST).values("affected"))
    if kind == NoticeKind.CLOSING:
        return told.exclude(pk__in=sent.filter(kind=kind).values("affected"))
    return told


def _message(affected: BreachNotice, kind: str) -> BreachMessage:
    """The notice to record: a first or closing notice queued earlier and never sent (its
    customer had no notice contact, say) is queued again with the new text, not doubled."""
    if kind != NoticeKind.UPDATE:
        unsent = affected.messages.unsent().filter(kind=kind).first()
        if unsent is not None:
            return unsent
    return BreachMessage(affected=affected, kind=kind)


@transaction.atomic
def breach_notices_queue(
    *, breach: Breach, subject: str, body: str, kind: str = NoticeKind.FIRST
) -> tuple[list[BreachMessage], list[Customer]]:
    """Record a notice of ``kind`` for each affected customer it is due to and queue it
    (C5). Returns the notices queued and the customers that have no notice contact (nothing
    is recorded or sent for those). The body is sent with the DPA 7 statement that the
    notice admits no fault or liability, added when the text lacks it."""
    from customers.tasks import send_breach_message

    if kind not in NoticeKind.values:
        raise ValidationError(f"Unknown kind of notice: {kind!r}.")
    if not subject.strip() or not body.strip():
        raise ValidationError("The notice needs a subject and a body.")
    body = with_no_fault_statement(body)
    queued: list[BreachMessage] = []
    missing: list[Customer] = []
    staff_id = acting_staff_id()  # the task's rows are the queuing staff member's (H1)
    for affected in breach_notice_recipients(breach, kind).order_by("customer__legal_name", "pk"):
        if affected.customer.notice_contact is None:
            missing.append(affected.customer)
            continue
        message = _message(affected, kind)
        message.subject, message.body = subject, body
        message.full_clean()
        message.save()
        queued.append(message)
        transaction.on_commit(
            partial(send_breach_message.enqueue, message_id=message.pk, staff_id=staff_id)
        )
    return queued, missing


@transaction.atomic
def certificate_issue(
    *,
    certificate: DeletionCertificate,
    signatory_name: str,
    signatory_title: str,
    issued_on: date,
) -> DeletionCertificate:
    """Produce the certificate of deletion as a PDF and keep the exact document (C3).

    Only on the customer's written request (the certificate row records it) and only once
    the deletion itself is recorded.
    """
    customer = certificate.customer
    errors = {}
    if certificate.refused_on is not None:
        errors["refused_on"] = f"This certificate was refused on {certificate.refused_on}."
    if customer.deletion_completed_on is None:
        errors["customer"] = f"Record the deletion for {customer} before issuing a certificate."
    if certificate.pdf:
        errors["pdf"] = "This certificate was already issued; its PDF is kept as sent."
    if not signatory_name.strip():
        errors["signatory_name"] = "Name the person who signs the certificate."
    if issued_on < certificate.requested_on:
        errors["issued_on"] = "A certificate cannot be issued before it was requested."
    if errors:
        raise ValidationError(errors)
    certificate.signatory_name = signatory_name
    certificate.signatory_title = signatory_title
    certificate.issued_on = issued_on
    # C9 (DPA 9): what a legal hold keeps is named on the certificate, never certified deleted.
    certificate.data_retained = retained_text(list(certificate.holds_on_issue()))
    if certificate.dpa_id is None:
        certificate.dpa = customer.dpas.order_by("-effective_on").first()
    pdf = render_pdf(
        "customers/deletion_certificate.html", {"certificate": certificate, "customer": customer}
    )
    name = f"deletion-certificate-{customer.pk}-{issued_on:%Y%m%d}.pdf"
    certificate.pdf.save(name, ContentFile(pdf), save=False)
    certificate._change_reason = "Certificate of deletion issued"  # type: ignore[attr-defined]
    certificate.save()
    return certificate


def retained_text(holds: list[LegalHold]) -> str:
    """What the holds keep, one line each, as the certificate names it (C9)."""
    return "\n".join(
        f"{hold.data_kept} — kept under {hold.legal_basis} (legal hold since "
        f"{hold.started_on:%Y-%m-%d})"
        for hold in holds
    )


@transaction.atomic
def certificate_refuse(
    *, certificate: DeletionCertificate, refused_on: date, reason: str = ""
) -> DeletionCertificate:
    """C9: refuse a certificate of deletion because a legal hold keeps the data on
    ``refused_on``; the reason names the holds unless one is given."""
    errors = {}
    if certificate.issued_on is not None:
        errors["issued_on"] = "This certificate was already issued."
    if certificate.refused_on is not None:
        errors["refused_on"] = f"This certificate was refused on {certificate.refused_on}."
    if refused_on < certificate.requested_on:
        errors["refused_on"] = "A certificate cannot be refused before it was requested."
    holds = list(LegalHold.objects.active_on(refused_on).filter(customer=certificate.customer))
    if not holds:
        errors["refused_on"] = (
            f"No legal hold keeps {certificate.customer}'s data on {refused_on}: "
            "issue the certificate instead (C9)."
        )
    if errors:
        raise ValidationError(errors)
    held = "; ".join(f"{hold.legal_basis} ({hold.data_kept})" for hold in holds)
    certificate.refused_on = refused_on
    certificate.refusal_reason = reason.strip() or f"Data is kept under a legal hold: {held}"
    certificate._change_reason = "Certificate of deletion refused (C9)"  # type: ignore[attr-defined]
    certificate.save()
    return certificate


def instruction_notice_draft(notice: InstructionNotice) -> tuple[str, str]:
    """The subject and body of a C8 notice, from the template (DPA 2.3, 2.4)."""
    subject = f"Notice under the Data Processing Addendum: {notice.get_kind_display()}"
    body = render_to_string("customers/emails/instruction_notice.txt", {"notice": notice})
    return subject, body


@transaction.atomic
def instruction_notice_queue(
    *, notice: InstructionNotice, subject: str, body: str
) -> InstructionNotice:
    """Keep the text as it will be sent and queue the notice to the customer's notice
    contact (C8). The task records when and to whom; a notice already sent is refused."""
    from customers.tasks import send_instruction_notice

    errors = {}
    if notice.sent_at is not None:
        errors["sent_at"] = f"This notice was sent on {notice.sent_at:%Y-%m-%d %H:%M}."
    if not subject.strip() or not body.strip():
        errors["body"] = "The notice needs a subject and a body."
    if notice.customer.notice_contact is None:
        errors["customer"] = f"{notice.customer} has no notice contact: add one, then send."
    if errors:
        raise ValidationError(errors)
    notice.subject = subject
    notice.body = body
    notice._change_reason = "Notice text drafted and queued for sending"  # type: ignore[attr-defined]
    notice.save()
    staff_id = acting_staff_id()  # the task's rows are the queuing staff member's (H1)
    notice_id = notice.pk
    transaction.on_commit(
        lambda: send_instruction_notice.enqueue(notice_id=notice_id, staff_id=staff_id)
    )
    return notice
