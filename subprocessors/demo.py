"""Demo data for the sub-processor area (used by `manage.py seed_demo`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from customers.models import Contact
from subprocessors import deadlines, services
from subprocessors.models import (
    Change,
    ChangeKind,
    ChangeStatus,
    Signup,
    SignupStatus,
    SubProcessor,
    SubProcessorStatus,
)

CURRENT = (
    (
        "Amazon Web Services, Inc.",
        "Cloud hosting, storage and backups of the Services",
        "United States (Virginia), Ireland (Dublin)",
        "All Service Data",
        "https://aws.amazon.com",
        date(2021, 3, 1),
    ),
    (
        "Cloudflare, Inc.",
        "Content delivery and protection against attacks",
        "Global edge network",
        "IP addresses, request metadata",
        "https://www.cloudflare.com",
        date(2021, 3, 1),
    ),
    (
        "Twilio Inc. (SendGrid)",
        "Transactional email sent by the Services",
        "United States",
        "Names, email addresses, email content",
        "https://sendgrid.com",
        date(2022, 6, 1),
    ),
    (
        "Zendesk, Inc.",
        "Customer support ticketing",
        "United States, European Union",
        "Names, email addresses, support ticket content",
        "https://www.zendesk.com",
        date(2022, 1, 10),
    ),
)
ANNOUNCED = (
    "Snowflake Inc.",
    "Analytics data warehouse for usage reports",
    "Ireland (Dublin)",
    "Usage data, account identifiers",
    "https://www.snowflake.com",
)


def add_current(
    name: str, purpose: str, locations: str, categories: str, website: str, since: date
) -> bool:
    """A current sub-processor as the rule admits it (S3): announced, its change published
    with a Notice date 15 days before access began, then active. False if already there."""
    if SubProcessor.objects.filter(name=name).exists():
        return False
    vendor = SubProcessor(
        name=name,
        purpose=purpose,
        locations=locations,
        data_categories=categories,
        website=website,
    )
    vendor.save()
    notice_on = since - timedelta(days=deadlines.NOTICE_DAYS)
    change = Change(
        kind=ChangeKind.ADDITION,
        subprocessor=vendor,
        summary=f"{name} will provide: {purpose.lower()}.",
        status=ChangeStatus.PUBLISHED,
        published_at=datetime.combine(notice_on, time(10), tzinfo=ZoneInfo(settings.TIME_ZONE)),
    )
    change.notice_subject, change.notice_body = services.notice_content(change)
    change.notice_sha256 = hashlib.sha256(change.notice_body.encode()).hexdigest()
    change.set_notice_date(notice_on)
    change.save()
    vendor.status = SubProcessorStatus.ACTIVE
    vendor.access_began_on = since
    vendor.save()
    return True


def seed(*, now: datetime, today: date, staff: Mapping[str, Any]) -> str:
    """Sub-processors, signups for the demo customers' notice contacts, and one published
    addition still in its notice period."""
    added = 0
    for row in CURRENT:
        added += add_current(*row)
    for contact in Contact.objects.filter(is_notice_contact=True).select_related("customer"):
        signup, created = Signup.objects.get_or_create(
            email=contact.email.lower(),
            defaults={"status": SignupStatus.ACTIVE, "confirmed_at": now},
        )
        if created:
            signup.match_customer()
            signup.save()
    Signup.objects.get_or_create(email="privacy-watch@example.org")  # pending: not confirmed

    name, purpose, locations, categories, website = ANNOUNCED
    vendor, created = SubProcessor.objects.get_or_create(
        name=name,
        defaults={
            "purpose": purpose,
            "locations": locations,
            "data_categories": categories,
            "website": website,
        },
    )
    if created:
        added += 1
        change = Change.objects.create(
            kind=ChangeKind.ADDITION,
            subprocessor=vendor,
            summary="Usage reports move to a managed data warehouse in the EU.",
        )
        services.change_publish(change=change)
    return f"{added} sub-processors added"
