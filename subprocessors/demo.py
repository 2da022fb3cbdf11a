"""Demo data for the sub-processor area (used by `manage.py seed_demo`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile

from customers.models import Contact
from harmonyze_portal.history import acting_as
from subprocessors import deadlines, services
from subprocessors.locations import ProcessingLocation, TransferMechanism
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


# S7: each demo sub-processor's countries, and the mechanism of each outside the US.
COUNTRIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Amazon Web Services, Inc.": (
        ("US", "", "Virginia"),
        ("IE", TransferMechanism.DPF, "Dublin"),
    ),
    "Cloudflare, Inc.": (("US", "", "Edge network"), ("GB", TransferMechanism.UK_IDTA, "London")),
    "Twilio Inc. (SendGrid)": (("US", "", ""),),
    "Zendesk, Inc.": (("US", "", ""), ("DE", TransferMechanism.SCCS, "Frankfurt")),
    "Snowflake Inc.": (("IE", TransferMechanism.SCCS, "Dublin"),),
}
# Left unchecked so the desk shows an S7 item.
FLOWDOWN_UNCHECKED = "Cloudflare, Inc."
DEMO_PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
ACKNOWLEDGEMENT = (
    "Usage reports stay in Snowflake's EU region under the SCCs; the Privacy Policy's "
    "statement on US processing is being revised with this change."
)


def record_s7(vendor: SubProcessor, checker: Any) -> None:
    """S7: its countries, and its agreement with a copy for customers, checked by counsel."""
    for country, mechanism, details in COUNTRIES.get(vendor.name, ()):
        ProcessingLocation(
            subprocessor=vendor, country=country, transfer_mechanism=mechanism, details=details
        ).save()
    vendor.agreement_signed_on = date(2021, 1, 15)
    vendor.agreement_document.save("agreement.pdf", ContentFile(DEMO_PDF), save=False)
    vendor.agreement_copy.save("copy.pdf", ContentFile(DEMO_PDF), save=False)
    vendor.flowdown_checked = vendor.name != FLOWDOWN_UNCHECKED
    with acting_as("task: seed demo data", "Demo data", for_user=checker):
        vendor.save()


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
    counsel = staff.get("counsel")
    for row in CURRENT:
        if add_current(*row):
            added += 1
            record_s7(SubProcessor.objects.get(name=row[0]), counsel)
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
        record_s7(vendor, counsel)
        change = Change.objects.create(
            kind=ChangeKind.ADDITION,
            subprocessor=vendor,
            summary="Usage reports move to a managed data warehouse in the EU.",
        )
        # S7, PP 5: processing in Ireland, published with counsel's acknowledgement.
        services.change_publish(change=change, transfer_acknowledgement=ACKNOWLEDGEMENT, by=counsel)
    return f"{added} sub-processors added"
