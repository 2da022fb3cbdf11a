"""Multi-step writes of the customers area."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string

from customers.models import Breach, BreachNotice, Customer, DeletionCertificate
from customers.models.accounts import TerminatedBy, TerminationRoute
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


def breach_notice_draft(breach: Breach) -> tuple[str, str]:
    """The default subject and body of the notice to affected customers (DPA 7)."""
    subject = f"Notice of a Personal Data Breach: {breach.title}"
    body = render_to_string("customers/emails/breach_notice.txt", {"breach": breach})
    return subject, body


@transaction.atomic
def breach_notices_queue(
    *, breach: Breach, subject: str, body: str
) -> tuple[list[BreachNotice], list[Customer]]:
    """Queue the notice to every affected customer not yet notified. Returns the notices
    queued and the customers that have no notice contact (nothing is sent to those)."""
    from customers.tasks import send_breach_notice

    if not subject.strip() or not body.strip():
        raise ValidationError("The notice needs a subject and a body.")
    queued: list[BreachNotice] = []
    missing: list[Customer] = []
    staff_id = acting_staff_id()  # the task's rows are the queuing staff member's (H1)
    for notice in breach.notices.pending().select_related("customer"):
        if notice.customer.notice_contact is None:
            missing.append(notice.customer)
            continue
        queued.append(notice)
        notice_id = notice.pk
        transaction.on_commit(
            lambda notice_id=notice_id: send_breach_notice.enqueue(  # type: ignore[misc]
                notice_id=notice_id, subject=subject, body=body, staff_id=staff_id
            )
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
