"""Small builders for the sub-processor area's rows: each saves through ``save()`` (H1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harmonyze_portal.history import acting_as
from subprocessors import deadlines
from subprocessors.locations import ProcessingLocation
from subprocessors.models import (
    Change,
    ChangeKind,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    Signup,
    SignupStatus,
    SubProcessor,
    SubProcessorStatus,
)

# The sub-processor admin form's processing-locations inline (S7), with no rows.
NO_LOCATIONS = {
    "processing_locations-TOTAL_FORMS": "0",
    "processing_locations-INITIAL_FORMS": "0",
    "processing_locations-MIN_NUM_FORMS": "0",
    "processing_locations-MAX_NUM_FORMS": "1000",
}


def make_subprocessor(
    name: str = "Postmark",
    *,
    status: str = SubProcessorStatus.ACTIVE,
    access_began_on: date | None = date(2024, 3, 1),
    complete: bool = True,
    **fields: Any,
) -> SubProcessor:
    """An announced sub-processor, or one whose access began on ``access_began_on`` the only
    way S3 admits: through a change published with a Notice date 15 days before. ``complete``:
    its agreement is on file with the flow-down terms checked, and a text naming the United
    States is a United States processing location (S7), so nothing about it is due."""
    defaults = {
        "purpose": "Transactional email",
        "locations": "United States",
        "data_categories": "Names, email addresses",
    }
    if status != SubProcessorStatus.ACTIVE and "access_began_on" not in fields:
        access_began_on = None
    subprocessor = SubProcessor(name=name, **{**defaults, **fields})
    subprocessor.save()
    if complete:
        record_agreement(subprocessor)
        if "United States" in subprocessor.locations:
            ProcessingLocation(subprocessor=subprocessor, country="US").save()
    if access_began_on is not None:
        notice_on = access_began_on - timedelta(days=deadlines.NOTICE_DAYS)
        make_change(
            subprocessor,
            summary=f"Harmonyze intends to add {name}.",
            published_at=datetime.combine(notice_on, time(15), tzinfo=UTC),
            notice_date=notice_on,
        )
        subprocessor.access_began_on = access_began_on
    subprocessor.status = status
    if status != SubProcessorStatus.ANNOUNCED:
        subprocessor.save()
    return subprocessor


def agreement_checker() -> Any:
    user, _ = get_user_model().objects.get_or_create(username="agreement-checker")
    return user


def record_agreement(
    subprocessor: SubProcessor, *, signed_on: date = date(2024, 1, 15), by: Any = None
) -> SubProcessor:
    """S7: an agreement on file (its name only: no file is written) whose flow-down terms
    ``by`` checked."""
    subprocessor.agreement_signed_on = signed_on
    subprocessor.agreement_document.name = "subprocessor-agreements/signed.pdf"
    subprocessor.flowdown_checked = True
    with acting_as("test", for_user=by or agreement_checker()):
        subprocessor.save()
    return subprocessor


def make_change(
    subprocessor: SubProcessor | None = None,
    *,
    kind: str = ChangeKind.ADDITION,
    replaces: SubProcessor | None = None,
    summary: str = "Harmonyze intends to add a sub-processor.",
    published_at: datetime | None = None,
    notice_date: date | None = None,
) -> Change:
    """A draft change, or a published one (without sending anything) when ``published_at``
    is given; ``notice_date`` also sets the earliest access date (S3)."""
    change = Change(kind=kind, subprocessor=subprocessor, replaces=replaces, summary=summary)
    if published_at is not None:
        change.status = ChangeStatus.PUBLISHED
        change.published_at = published_at
    if notice_date is not None:
        change.set_notice_date(notice_date)
    change.save()
    return change


def make_signup(
    email: str = "dpo@acme.com",
    *,
    status: str = SignupStatus.PENDING,
    confirmed_at: datetime | None = None,
    **fields: Any,
) -> Signup:
    if status == SignupStatus.ACTIVE and confirmed_at is None:
        confirmed_at = timezone.now()
    signup = Signup(email=email, status=status, confirmed_at=confirmed_at, **fields)
    signup.match_customer()
    signup.save()
    return signup


def make_delivery(
    change: Change,
    signup: Signup,
    *,
    sent_at: datetime | None = None,
    delivered_on: date | None = None,
) -> Delivery:
    """A sent delivery (S6) whose objection deadline runs from ``delivered_on`` (S4)."""
    sent_at = sent_at or datetime(2026, 3, 2, 15, tzinfo=UTC)
    delivered_on = delivered_on or sent_at.date()
    delivery = Delivery(
        change=change,
        signup=signup,
        status=DeliveryStatus.SENT,
        attempts=1,
        sent_at=sent_at,
        objection_deadline=deadlines.objection_deadline(delivered_on),
    )
    delivery.save()
    return delivery
