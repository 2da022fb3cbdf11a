"""Multi-step writes of the requests area (R1–R3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from customers.models import Customer
from harmonyze_portal.clock import legal_today
from harmonyze_portal.history import PUBLIC_FORM, acting_as
from harmonyze_portal.links import make_link_token, read_link_token
from harmonyze_portal.mail import queue_email
from harmonyze_portal.public_flow import absolute_url, email_link, record_submission
from harmonyze_portal.retention import forget
from requests.models import Channel, DataSubjectRequest, DSRStatus, Role

VERIFY_SALT = "requests.dsr.verify"
PURGE_ACTOR = "task: purge unconfirmed requests"
RECOMPUTE_ACTOR = "task: recompute deadlines"


def verification_token(dsr: DataSubjectRequest) -> str:
    return make_link_token({"d": dsr.pk, "e": dsr.requester_email.lower()}, salt=VERIFY_SALT)


def read_verification_token(token: str) -> tuple[int, str]:
    return read_link_token(
        token,
        salt=VERIFY_SALT,
        parse=lambda data: (int(data["d"]), str(data["e"])),
        max_age=settings.NOTICE_CONFIRM_HOURS * 3600,
        expired="This verification link has expired. Send your request again to get a new one.",
        invalid="This verification link is not valid. Copy the whole link from the email.",
    )


@transaction.atomic
def dsr_submit(*, dsr: DataSubjectRequest) -> DataSubjectRequest:
    """A request from the public form counts from the legal date it was submitted (R3: CCPA
    counts "regardless of time required to verify"), but is a request only once its email is
    confirmed; until then it waits, unverified, off every list of open requests, and is purged
    when its link expires (:func:`dsr_purge_unconfirmed`)."""
    dsr.channel = Channel.PUBLIC_FORM
    dsr.status = DSRStatus.UNVERIFIED
    dsr.received_on = legal_today()
    record_submission(dsr, reason="Privacy request submitted")
    email_link(
        to=dsr.requester_email,
        subject="Confirm your privacy request to Harmonyze",
        template="requests/emails/verify.txt",
        dsr=dsr,
        verify_url=absolute_url("requests:verify", verification_token(dsr)),
    )
    return dsr


@transaction.atomic
def dsr_verify(*, dsr: DataSubjectRequest) -> DataSubjectRequest:
    """The requester confirmed the email: the request is open, its clocks still counting from
    the day it was submitted (R3), and the customer is suggested from the email domain or the
    service named (R1)."""
    dsr = DataSubjectRequest.objects.select_for_update(of=("self",)).get(pk=dsr.pk)
    if dsr.status != DSRStatus.UNVERIFIED:
        raise ValidationError("This request was already verified.", code="used")
    with acting_as(PUBLIC_FORM, reason="Email verified"):
        dsr.status = DSRStatus.OPEN
        dsr.verified_email_at = timezone.now()
        if dsr.customer is None:
            dsr.customer = dsr.suggested_customer()
        dsr.save()
    return dsr


def redirect_draft(dsr: DataSubjectRequest, customer: Customer) -> str:
    """R1 (DPA 6): the templated reply telling the data subject to go to the customer."""
    return render_to_string("requests/emails/redirect.txt", {"dsr": dsr, "customer": customer})


def unconfirmed_expired(now: datetime) -> QuerySet[DataSubjectRequest]:
    """Public submissions whose confirmation link has expired unused (R3, PP 4)."""
    cutoff = now - timedelta(hours=settings.NOTICE_CONFIRM_HOURS)
    return DataSubjectRequest.objects.filter(
        status=DSRStatus.UNVERIFIED, channel=Channel.PUBLIC_FORM, created_at__lt=cutoff
    )


def dsr_purge_unconfirmed(*, now: datetime) -> int:
    """R3, PP 4: a submission whose email was never confirmed is not a request; once its link
    has expired it is deleted, with its uploaded proof. Its history keeps that it was purged,
    not what the person sent (``harmonyze_portal.retention.forget``). Returns how many."""
    purged = 0
    with acting_as(PURGE_ACTOR, reason="Email never confirmed: the link expired (R3, PP 4)"):
        for dsr in unconfirmed_expired(now).order_by("pk"):
            with transaction.atomic():
                proof = dsr.agent_proof
                forget(dsr)
                if proof:
                    proof.delete(save=False)
            purged += 1
    return purged


def dsr_recompute_open_deadlines(*, reason: str) -> int:
    """T4: recompute every open request's deadlines (after `migrate`, or after upgrading the
    holidays library); each one that moves is saved with ``reason``. Returns how many moved."""
    with acting_as(RECOMPUTE_ACTOR, reason=reason):
        return DataSubjectRequest.objects.open().recompute_clocks(reason=reason)


@transaction.atomic
def dsr_redirect(
    *, dsr: DataSubjectRequest, customer: Customer, message: str, inform_customer: bool
) -> DataSubjectRequest:
    """R1: the request concerns a customer's Service Data. Tell the data subject to submit it
    to the customer, record which customer and when, and close the request as redirected.
    The customer's privacy contact is told too when asked, and always when the customer's DPA
    includes the SCCs (SCC Clause 10(a): the notice cannot be skipped)."""
    dsr = DataSubjectRequest.objects.select_for_update(of=("self",)).get(pk=dsr.pk)
    if dsr.status != DSRStatus.OPEN:
        raise ValidationError("Only an open request can be redirected.")
    if not message.strip():
        raise ValidationError({"redirect_message": "The reply to the data subject is empty."})
    today = legal_today()
    dsr.role = Role.PROCESSOR
    dsr.customer = customer
    dsr.redirect_message = message
    dsr.redirected_on = today
    dsr.status = DSRStatus.REDIRECTED
    queue_email(
        to=[dsr.requester_email],
        subject="Your privacy request: please contact the company you dealt with",
        body=message,
    )
    required = dsr.customer_notice_required()
    if (inform_customer or required) and dsr.customer_informed_on is None:
        contact = dsr.customer_privacy_contact()
        if contact is None and required:
            raise ValidationError(
                {
                    "customer": f"{customer}'s DPA includes the SCCs, so it must be notified of "
                    "the request (SCC Clause 10(a), R1), and it has no privacy or notice "
                    "contact. Add one to the customer, or notify it another way and record the "
                    "date on the request, then redirect."
                }
            )
        if contact is None:
            raise ValidationError(
                {"customer": f"{customer} has no privacy or notice contact to inform."}
            )
        queue_email(
            to=[contact.email],
            subject="A data subject request about your Service Data",
            body=render_to_string(
                "requests/emails/inform_customer.txt",
                {"dsr": dsr, "customer": customer, "scc": required},
            ),
        )
        dsr.customer_informed_on = today
    dsr._change_reason = f"Redirected to {customer} (R1)"  # type: ignore[attr-defined]
    dsr.save()
    return dsr
