"""Multi-step writes of the sub-processor area (S2–S6)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.models.accounts import TerminatedBy, TerminationRoute
from customers.services import customer_terminate
from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import PUBLIC_FORM, acting_as, bulk_create_with_history
from harmonyze_portal.mail import queue_email
from subprocessors import deadlines, tokens
from subprocessors.models import (
    Change,
    ChangeKind,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    Objection,
    ObjectionStatus,
    Signup,
    SignupStatus,
)


def _url(name: str, *args: object) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def unsubscribe_url(signup: Signup) -> str:
    return _url("subprocessors:unsubscribe", tokens.unsubscribe_token(signup.pk))


def objection_url(signup: Signup, change: Change) -> str:
    return _url("subprocessors:object", change.pk, tokens.objection_token(signup.pk, change.pk))


@transaction.atomic
def signup_request(*, email: str, ip: str | None) -> Signup:
    """S2: record a Notice Form signup and email the owner a confirmation link.

    The caller answers the same page whatever happens here, so nobody can learn whether an
    address is subscribed. An active address is told it already is; nothing changes.
    """
    email = email.strip().lower()
    with acting_as(PUBLIC_FORM, reason="Notice Form signup"):
        signup = Signup.objects.filter(email__iexact=email).first()
        if signup is None:
            signup = Signup(email=email, signup_ip=ip)
            signup.match_customer()
            signup.save()
        elif signup.status == SignupStatus.UNSUBSCRIBED:
            signup.status = SignupStatus.PENDING
            signup.signup_ip = ip
            signup.confirmed_at = None
            signup.match_customer()
            signup.save()
    if signup.status == SignupStatus.ACTIVE:
        queue_email(
            to=[signup.email],
            subject="You already receive Harmonyze sub-processor notices",
            body=render_to_string(
                "subprocessors/emails/already_active.txt",
                {"signup": signup, "unsubscribe_url": unsubscribe_url(signup)},
            ),
        )
    else:
        queue_email(
            to=[signup.email],
            subject="Confirm your sign-up to Harmonyze sub-processor notices",
            body=render_to_string(
                "subprocessors/emails/confirm.txt",
                {
                    "confirm_url": _url(
                        "subprocessors:confirm", tokens.confirm_token(signup.pk, signup.email)
                    ),
                    "hours": settings.NOTICE_CONFIRM_HOURS,
                },
            ),
        )
    return signup


@transaction.atomic
def signup_confirm(*, signup: Signup, ip: str | None) -> Signup:
    """S2: the owner confirmed from the email; from now on every Notice reaches them."""
    if signup.status == SignupStatus.ACTIVE:
        raise ValidationError("This sign-up is already confirmed.", code="used")
    if signup.status == SignupStatus.UNSUBSCRIBED:
        # Only a confirmed address can have unsubscribed, so this link was already used; an
        # old link must not undo an unsubscribe. Signing up again sends a fresh one.
        raise ValidationError(
            "This address unsubscribed after this link was used. Sign up again to get a new one.",
            code="used",
        )
    with acting_as(PUBLIC_FORM, reason="Notice Form confirmation"):
        signup.status = SignupStatus.ACTIVE
        signup.confirmed_at = timezone.now()
        signup.confirm_ip = ip
        signup.unsubscribed_at = None
        signup.save()
    return signup


@transaction.atomic
def signup_unsubscribe(*, signup: Signup) -> Signup:
    if signup.status == SignupStatus.UNSUBSCRIBED:
        raise ValidationError("This address is already unsubscribed.", code="used")
    with acting_as(PUBLIC_FORM, reason="Unsubscribed"):
        signup.status = SignupStatus.UNSUBSCRIBED
        signup.unsubscribed_at = timezone.now()
        signup.save()
    return signup


def notice_content(change: Change) -> tuple[str, str]:
    """The Notice's subject and body; the per-recipient links are added when it is sent."""
    subject = f"Notice of a sub-processor change: {change}"
    body = render_to_string(
        "subprocessors/emails/notice.txt",
        {
            "change": change,
            "list_url": _url("subprocessors:list"),
            "notice_days": deadlines.NOTICE_DAYS,
            "objection_days": deadlines.OBJECTION_DAYS,
        },
    )
    return subject, body


@transaction.atomic
def change_publish(*, change: Change) -> int:
    """S3: publish the change on the public list and send the Notice to every active signup
    at this moment, through the task queue. Returns the number of deliveries queued."""
    from subprocessors.tasks import send_change_notices

    change = Change.objects.select_for_update().get(pk=change.pk)
    if change.status == ChangeStatus.PUBLISHED:
        raise ValidationError("This change is already published.")
    errors = {}
    if change.subprocessor_id is None:
        errors["subprocessor"] = "Choose the sub-processor this change announces."
    if change.kind == ChangeKind.REPLACEMENT and change.replaces_id is None:
        errors["replaces"] = "A replacement must name the sub-processor it replaces."
    if errors:
        raise ValidationError(errors)
    change.full_clean()
    change.status = ChangeStatus.PUBLISHED
    change.published_at = timezone.now()
    change.notice_subject, change.notice_body = notice_content(change)
    change.notice_sha256 = hashlib.sha256(change.notice_body.encode()).hexdigest()
    change._change_reason = "Published; Notice sent to every active signup"  # type: ignore[attr-defined]
    change.save()
    deliveries = [Delivery(change=change, signup=signup) for signup in Signup.objects.active()]
    bulk_create_with_history(deliveries, Delivery, reason="Notice queued")
    if not deliveries:
        # Nobody to notify: the Notice went out, to no one, today.
        change_refresh_notice_date(change)
    change_id = change.pk
    transaction.on_commit(lambda: send_change_notices.enqueue(change_id=change_id))
    return len(deliveries)


def change_refresh_notice_date(change: Change) -> None:
    """S3: once no delivery is waiting, the Notice date is the legal date of the last one
    sent; the earliest access date follows (+15 days), on the change and its sub-processor."""
    if change.notice_date is not None:
        # Fixed once the Notice has gone out: a failed delivery sent later gets its own
        # objection deadline (S4), but cannot move an access date already relied on.
        return
    if change.deliveries.filter(status=DeliveryStatus.QUEUED).exists():
        return
    last = change.deliveries.filter(status=DeliveryStatus.SENT).aggregate(last=Max("sent_at"))[
        "last"
    ]
    moment: datetime = last or change.published_at or timezone.now()
    notice_date = legal_date(moment, settings.TIME_ZONE)
    if change.notice_date == notice_date:
        return
    change.set_notice_date(notice_date)
    change._change_reason = "Notice date set: every delivery is done"  # type: ignore[attr-defined]
    change.save()
    subprocessor = change.subprocessor
    if subprocessor is not None and subprocessor.earliest_access_on != change.earliest_access_on:
        subprocessor.earliest_access_on = change.earliest_access_on
        subprocessor._change_reason = f"Earliest access date from {change}"  # type: ignore[attr-defined]
        subprocessor.save()


@transaction.atomic
def objection_record(*, change: Change, signup: Signup, reason: str) -> Objection:
    """S4: record an objection; in time if received on or before the signup's own delivery
    date + 7 days. A late objection is recorded too, marked out of time. The legal inbox is
    emailed at once."""
    if not reason.strip():
        raise ValidationError({"reason": "Tell us why you object."})
    now = timezone.now()
    delivery = change.deliveries.filter(signup=signup, status=DeliveryStatus.SENT).first()
    deadline = delivery.objection_deadline if delivery else None
    received_on = legal_date(now, settings.TIME_ZONE)
    # No recorded delivery (the address signed up after publication): judged from the Notice
    # date, as the DPA's clock runs from the Notice.
    if deadline is None and change.notice_date is not None:
        deadline = deadlines.objection_deadline(change.notice_date)
    in_time = deadline is None or received_on <= deadline
    with acting_as(PUBLIC_FORM, reason="Objection received"):
        objection = Objection(
            change=change,
            signup=signup,
            customer=signup.customer,
            received_at=now,
            deadline=deadline,
            in_time=in_time,
            reason=reason.strip(),
        )
        objection.save()
    queue_email(
        to=[settings.LEGAL_INBOX_EMAIL],
        subject=f"{'Objection' if in_time else 'Late objection'} to {change}",
        body=render_to_string(
            "subprocessors/emails/objection_received.txt",
            {
                "objection": objection,
                "admin_url": _url("admin:subprocessors_objection_change", objection.pk),
            },
        ),
    )
    return objection


@transaction.atomic
def objection_end_in_termination(
    *, objection: Objection, terminated_by: TerminatedBy | str, on: object, note: str
) -> Customer:
    """S5: an objection the parties could not resolve ends with a termination by written
    notice; the customer's termination starts the C3/C4 clocks."""
    if objection.customer is None:
        raise ValidationError("Link the objection to a customer before recording a termination.")
    if objection.status != ObjectionStatus.OPEN:
        raise ValidationError("Only an open objection can end in termination.")
    customer = customer_terminate(
        customer=objection.customer,
        on=on,  # type: ignore[arg-type]
        by=terminated_by,
        reason=f"Unresolved objection to {objection.change}: {note}",
        route=TerminationRoute.OBJECTION,
    )
    objection.status = ObjectionStatus.TERMINATED
    objection.resolution_note = note
    objection._change_reason = "Ended in termination"  # type: ignore[attr-defined]
    objection.save()
    return customer
