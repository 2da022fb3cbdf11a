"""Multi-step writes of the customers area."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string

from customers.models import Breach, BreachMessage, BreachNotice, Customer, DeletionCertificate
from customers.models.accounts import TerminatedBy, TerminationRoute
from customers.models.breach_log import NO_FAULT_STATEMENT, NoticeKind, with_no_fault_statement
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
) -> Customer:
    """Record the Agreement's termination, which starts the C3 and C4 clocks.

    The subprocessors area calls this with ``route=OBJECTION`` when an objection cannot be
    resolved (S5).
    """
    if customer.termination_date is not None:
        raise ValidationError(
            {"termination_date": f"{customer} was terminated on {customer.termination_date}."}
        )
    customer.termination_date = on
    customer.terminated_by = by
    customer.termination_route = route
    customer.termination_reason = reason
    customer.earlier_deletion_requested_on = earlier_deletion_requested_on
    try:
        customer.full_clean()
    except ValidationError:
        # Leave the caller's object as stored, so a later save() cannot write the refused state.
        customer.refresh_from_db()
        raise
    customer._change_reason = f"Terminated: {reason}"  # type: ignore[attr-defined]
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
    customer._change_reason = f"Reopened: {reason}"  # type: ignore[attr-defined]
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
