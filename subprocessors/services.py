"""Multi-step writes of the sub-processor area (S2–S6)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from customers.models import Customer
from customers.models.accounts import TerminatedBy, TerminationRoute
from customers.services import customer_terminate
from harmonyze_portal.clock import legal_today
from harmonyze_portal.history import PUBLIC_FORM, acting_as, acting_staff_id, acting_user
from harmonyze_portal.public_flow import absolute_url, email_link
from subprocessors import deadlines, tokens
from subprocessors.delivery import (
    change_refresh_notice_date,
    deliveries_queue,
    request_sending,
)
from subprocessors.locations import country_names
from subprocessors.models import (
    Change,
    ChangeKind,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    Objection,
    ObjectionChannel,
    ObjectionStatus,
    Signup,
    SignupStatus,
    SubProcessorStatus,
)
from subprocessors.notice_mail import unsubscribe_url

LINK_REPLACED = (
    "This confirmation link belongs to an earlier sign-up of this address and no longer "
    "works. Sign up again to get a new one, or use the link in the newest email."
)


def _existing_signup(email: str) -> Signup | None:
    return Signup.objects.filter(email__iexact=email).first()


def _new_signup(email: str, ip: str | None) -> Signup:
    """The address's signup, created now, or the one a concurrent post created first: the
    unique constraint on the address decides, and the loser reads the winner's row."""
    signup = Signup(email=email, signup_ip=ip, link_sent_at=timezone.now())
    signup.match_customer()
    try:
        with transaction.atomic():  # a savepoint: the outer transaction survives a refusal
            signup.save()
    except IntegrityError:
        existing = _existing_signup(email)
        if existing is None:  # not a duplicate address: a real error
            raise
        return existing
    return signup


@transaction.atomic
def signup_request(*, email: str, ip: str | None) -> Signup:
    """S2: record a Notice Form signup and email the owner a confirmation link.

    The caller answers the same page whatever happens here, so nobody can learn whether an
    address is subscribed. An active address is told it already is; nothing changes. Safe
    against concurrent posts of one new address (the same outcome for each of them).
    """
    email = email.strip().lower()
    with acting_as(PUBLIC_FORM, reason="Notice Form signup"):
        existing = _existing_signup(email)
        signup = existing or _new_signup(email, ip)
        if signup.status == SignupStatus.UNSUBSCRIBED:
            signup.status = SignupStatus.PENDING
            signup.signup_ip = ip
            signup.confirmed_at = None
            signup.link_version += 1
            signup.link_sent_at = timezone.now()
            signup.match_customer()
            signup.save()
        elif existing is not None and signup.status == SignupStatus.PENDING:
            # A new link is sent below: the purge waits for it to expire too (PP 4).
            signup.link_sent_at = timezone.now()
            signup.save()
    if signup.status == SignupStatus.ACTIVE:
        email_link(
            to=signup.email,
            subject="You already receive Harmonyze sub-processor notices",
            template="subprocessors/emails/already_active.txt",
            signup=signup,
            unsubscribe_url=unsubscribe_url(signup),
        )
    else:
        email_link(
            to=signup.email,
            subject="Confirm your sign-up to Harmonyze sub-processor notices",
            template="subprocessors/emails/confirm.txt",
            confirm_url=absolute_url(
                "subprocessors:confirm",
                tokens.confirm_token(signup.pk, signup.email, signup.link_version),
            ),
        )
    return signup


@transaction.atomic
def signup_confirm(*, signup: Signup, version: int, ip: str | None) -> Signup:
    """S2: the owner confirmed from the email; from now on every Notice reaches them.
    ``version`` is the link's: a link from an earlier round of the address is refused."""
    Signup.objects.select_for_update().filter(pk=signup.pk).first()
    signup.refresh_from_db()
    if signup.link_version != version:
        raise ValidationError(LINK_REPLACED, code="replaced")
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
        signup.link_version += 1  # S2: every confirmation link sent so far stops working
        signup.save()
    return signup


def notice_content(change: Change) -> tuple[str, str]:
    """The Notice's subject and body; the per-recipient links are added when it is sent."""
    subject = f"Notice of a sub-processor change: {change}"
    body = render_to_string(
        "subprocessors/emails/notice.txt",
        {
            "change": change,
            "countries": country_names(change.subprocessor.countries())
            if change.subprocessor
            else "",
            "list_url": absolute_url("subprocessors:list"),
            "notice_days": deadlines.NOTICE_DAYS,
            "objection_days": deadlines.OBJECTION_DAYS,
        },
    )
    return subject, body


@transaction.atomic
def change_publish(*, change: Change, transfer_acknowledgement: str = "", by: Any = None) -> int:
    """S3: publish the change on the public list and send the Notice to every active signup
    at this moment, through the task queue. Returns the number of deliveries queued.

    S7, PP 5: a change whose sub-processor processes data outside the United States is
    published only with counsel's acknowledgement, ``transfer_acknowledgement`` (the reason),
    given by ``by`` or the signed-in staff member; ``Change.save`` refuses it otherwise.

    The deliveries and the task are the publishing staff member's (H1): their history rows
    name them, not "system"."""
    change = Change.objects.select_for_update().get(pk=change.pk)
    if change.status == ChangeStatus.PUBLISHED:
        raise ValidationError("This change is already published.")
    errors = {}
    if change.subprocessor_id is None:
        errors["subprocessor"] = "Choose the sub-processor this change announces."
    elif change.subprocessor is not None and (
        change.subprocessor.status == SubProcessorStatus.ACTIVE
        or change.subprocessor.access_began_on is not None
    ):
        errors["subprocessor"] = (
            f"{change.subprocessor} is already active or has an access date: a change announces "
            "a sub-processor that does not access customer data yet. To announce it again, set "
            "it to announced without an access date first (S3)."
        )
    elif change.subprocessor is not None and (
        change.subprocessor.status == SubProcessorStatus.RETIRED
    ):
        # S1: a published change whose sub-processor is withdrawn is on neither list.
        errors["subprocessor"] = (
            f"{change.subprocessor} is withdrawn (retired): set it to announced first, then "
            "publish; the new Notice, not the old one, governs its access (S3)."
        )
    if change.kind == ChangeKind.REPLACEMENT and change.replaces_id is None:
        errors["replaces"] = "A replacement must name the sub-processor it replaces."
    if errors:
        raise ValidationError(errors)
    change.full_clean()
    reason = "Published; Notice sent to every active signup"
    acknowledgement = transfer_acknowledgement.strip()
    if change.outside_us() and acknowledgement:
        change.transfer_acknowledged_by = acting_user(by)
        change.transfer_acknowledged_at = timezone.now()
        change.transfer_acknowledgement = acknowledgement
        reason += f"; processing outside the United States acknowledged: {acknowledgement}"
    change.status = ChangeStatus.PUBLISHED
    change.published_at = timezone.now()
    change.notice_subject, change.notice_body = notice_content(change)
    change.notice_sha256 = hashlib.sha256(change.notice_body.encode()).hexdigest()
    change._change_reason = reason
    change.save()
    deliveries = deliveries_queue(change=change, signups=Signup.objects.active())
    # Nobody to notify: the Notice went out, to no one, today.
    change_refresh_notice_date(change)
    request_sending(change_id=change.pk, staff_id=acting_staff_id())
    return len(deliveries)


@transaction.atomic
def delivery_waive(*, delivery: Delivery, by: Any, reason: str) -> Delivery:
    """S3: counsel's recorded decision to proceed without an address the Notice could not
    reach (failed for good). The delivery stops holding the gate; the Notice date becomes the
    last successful delivery's. Counsel only (the ``waive_delivery`` permission)."""
    if not by.has_perm("subprocessors.waive_delivery"):
        raise PermissionDenied("Only counsel may decide to proceed without an address (S3).")
    delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=delivery.pk)
    if delivery.status != DeliveryStatus.FAILED:
        raise ValidationError(
            f"The Notice to {delivery.signup} has not failed for good: nothing to waive."
        )
    if delivery.waived_at is not None:
        raise ValidationError(f"Counsel already decided to proceed without {delivery.signup}.")
    if not reason.strip():
        raise ValidationError({"waiver_reason": "Say why Harmonyze proceeds without it."})
    delivery.waived_at = timezone.now()
    delivery.waived_by = by
    delivery.waiver_reason = reason.strip()
    delivery._change_reason = f"Proceed without this address: {delivery.waiver_reason}"  # type: ignore[attr-defined]
    delivery.save()  # refreshes the Notice date
    return delivery


def _notify_legal_inbox(objection: Objection) -> None:
    change = objection.change
    email_link(
        to=settings.LEGAL_INBOX_EMAIL,
        subject=f"{'Objection' if objection.in_time else 'Late objection'} to {change}",
        template="subprocessors/emails/objection_received.txt",
        objection=objection,
        admin_url=absolute_url("admin:subprocessors_objection_change", objection.pk),
    )


def _objection(
    *,
    change: Change,
    signup: Signup | None,
    customer: Customer | None,
    channel: ObjectionChannel,
    received_on: date,
    reason: str,
    history_reason: str,
) -> Objection:
    """S4: one rule for every route: in time if received on or before
    ``change.objection_deadline_for`` (the customer's first delivery + 7 days)."""
    errors = {}
    if not reason.strip():
        errors["reason"] = "Tell us why you object."
    if change.status != ChangeStatus.PUBLISHED:
        errors["change"] = "Only a published change can be objected to."
    if signup is None and customer is None:
        errors["customer"] = "Name the signup or the customer who objects."
    if errors:
        raise ValidationError(errors)
    customer = customer or (signup.customer if signup else None)
    deadline = change.objection_deadline_for(signup=signup, customer=customer)
    objection = Objection(
        change=change,
        signup=signup,
        customer=customer,
        channel=channel,
        received_at=timezone.now(),
        received_on=received_on,
        deadline=deadline,
        in_time=deadlines.objection_in_time(received_on, deadline),
        reason=reason.strip(),
    )
    objection.full_clean()
    objection._change_reason = history_reason  # type: ignore[attr-defined]
    objection.save()
    return objection


def objection_already_received(earlier: Objection) -> ValidationError:
    return ValidationError(
        f"Your objection to this change was already received on {earlier.received_on}, and "
        "it stands as you sent it. To add to it or withdraw it, write to "
        f"{settings.LEGAL_INBOX_EMAIL}.",
        code="already_received",
    )


@transaction.atomic
def objection_record(*, change: Change, signup: Signup, reason: str) -> Objection:
    """S4: an objection through the link in the Notice, received today. A late objection is
    recorded too, marked out of time. The legal inbox is emailed at once.

    One per address and change: a later post of the same link is refused, not merged, so the
    objection on record (its text and the date that made it in or out of time) is what the
    legal team was first sent; anything further goes to the legal inbox."""
    earlier = Objection.objects.filter(
        change=change, signup=signup, channel=ObjectionChannel.NOTICE_LINK
    ).first()
    if earlier is not None:
        raise objection_already_received(earlier)
    try:
        with transaction.atomic(), acting_as(PUBLIC_FORM, reason="Objection received"):
            objection = _objection(
                change=change,
                signup=signup,
                customer=None,
                channel=ObjectionChannel.NOTICE_LINK,
                received_on=legal_today(),
                reason=reason,
                history_reason="Objection received",
            )
    except (IntegrityError, ValidationError) as exc:
        # A concurrent post of the same link won the unique constraint.
        earlier = Objection.objects.filter(
            change=change, signup=signup, channel=ObjectionChannel.NOTICE_LINK
        ).first()
        if earlier is None:
            raise
        raise objection_already_received(earlier) from exc
    _notify_legal_inbox(objection)
    return objection


@transaction.atomic
def objection_enter(
    *,
    change: Change,
    channel: ObjectionChannel,
    received_on: date,
    reason: str,
    signup: Signup | None = None,
    customer: Customer | None = None,
    change_reason: str = "",
) -> Objection:
    """S4: an objection that arrived by email or letter, entered by staff (the history names
    them) with the legal date it was received, judged by the same rule as the public form."""
    errors = {}
    if channel not in (ObjectionChannel.EMAIL, ObjectionChannel.LETTER):
        errors["channel"] = "Staff enter objections received by email or letter."
    if received_on > legal_today():
        errors["received_on"] = "The date received cannot be in the future."
    if errors:
        raise ValidationError(errors)
    return _objection(
        change=change,
        signup=signup,
        customer=customer,
        channel=channel,
        received_on=received_on,
        reason=reason,
        history_reason=change_reason or f"Objection received by {channel}, entered by staff",
    )


@transaction.atomic
def objection_end_in_termination(
    *,
    objection: Objection,
    terminated_by: TerminatedBy,
    on: date,
    note: str,
    confirm_conflicts: bool = False,
) -> Customer:
    """S5: an objection the parties could not resolve ends with a termination by written
    notice; the customer's termination starts the C3/C4 clocks. An active legal hold or an
    open law-enforcement demand needs ``confirm_conflicts`` (C9)."""
    if objection.customer is None:
        raise ValidationError("Link the objection to a customer before recording a termination.")
    if objection.status != ObjectionStatus.OPEN:
        raise ValidationError("Only an open objection can end in termination.")
    customer = customer_terminate(
        customer=objection.customer,
        on=on,
        by=terminated_by,
        reason=f"Unresolved objection to {objection.change}: {note}",
        route=TerminationRoute.OBJECTION,
        confirm_conflicts=confirm_conflicts,
    )
    objection.status = ObjectionStatus.TERMINATED
    objection.resolution_note = note
    objection._change_reason = "Ended in termination"  # type: ignore[attr-defined]
    objection.save()
    return customer
