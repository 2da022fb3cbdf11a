"""Demo data for the customers area (used by `manage.py seed_demo`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from customers import services
from customers.models import (
    DPA,
    AssistanceRequest,
    Breach,
    BreachMessage,
    BreachNotice,
    BreachRemediation,
    Contact,
    Customer,
    CustomerDomain,
    Instruction,
    InstructionNotice,
    InstructionResponse,
    LegalHold,
    ProhibitedDataFinding,
)
from customers.models.accounts import ContactRole, TerminatedBy
from customers.models.assistance import AssistanceKind, ProhibitedCategory
from customers.models.breach_log import NoticeKind
from customers.models.breaches import BreachStatus
from customers.models.dpas import DPAStatus
from customers.models.holds import HoldRequester
from customers.models.instructions import InstructionChannel, ResponseKind
from customers.models.instructions import NoticeKind as InstructionNoticeKind

# Customers with their domains, contacts (the first is the notice contact) and DPAs (C1, C2).
# A DPA tuple: version, status, effective date, transfer terms, law and courts, authority, country.
DEMO_CUSTOMERS: tuple[dict[str, Any], ...] = (
    {
        "legal_name": "Acme Analytics GmbH",
        "effective": date(2023, 4, 1),
        "domains": ("acme-analytics.com", "acme-analytics.de"),
        "contacts": (
            ("Dana Weber", "privacy@acme-analytics.com", ContactRole.PRIVACY),
            ("Jonas Keller", "legal@acme-analytics.com", ContactRole.LEGAL),
        ),
        "dpas": (
            {
                "version": "2022-11",
                "status": DPAStatus.SUPERSEDED,
                "effective_on": date(2023, 4, 1),
            },
            {
                "version": "2024-03",
                "effective_on": date(2024, 3, 15),
                "deviations": "Audit notice period extended to 45 days (section 10.2).",
            },
        ),
        "authority": ("Data Protection Commission", "Ireland"),
    },
    {
        "legal_name": "Globex Corporation Ltd",
        "effective": date(2024, 2, 1),
        "domains": ("globex.co.uk",),
        "contacts": (
            ("Priya Shah", "dpo@globex.co.uk", ContactRole.PRIVACY),
            ("Tom Hughes", "security@globex.co.uk", ContactRole.SECURITY),
        ),
        "dpas": (
            {
                "version": "2024-01",
                "effective_on": date(2024, 2, 1),
                "uk_addendum": True,
                "governing_law": "England and Wales",
                "courts": "England and Wales",
                "deviations": "Governing law and courts: England and Wales (negotiated).",
            },
        ),
        "authority": ("Information Commissioner's Office (ICO)", "United Kingdom"),
    },
    {
        "legal_name": "Initech AG",
        "effective": date(2024, 9, 1),
        "domains": ("initech.ch",),
        "contacts": (("Lea Brunner", "datenschutz@initech.ch", ContactRole.PRIVACY),),
        "dpas": ({"version": "2024-03", "effective_on": date(2024, 9, 1), "swiss_fadp": True},),
        "authority": (
            "Federal Data Protection and Information Commissioner (FDPIC)",
            "Switzerland",
        ),
    },
    {
        "legal_name": "Umbrella Retail SAS",
        "effective": date(2025, 1, 15),
        "domains": ("umbrella-retail.fr",),
        "contacts": (
            ("Camille Martin", "dpo@umbrella-retail.fr", ContactRole.PRIVACY),
            ("Hugo Bernard", "juridique@umbrella-retail.fr", ContactRole.LEGAL),
        ),
        "dpas": ({"version": "2024-03", "effective_on": date(2025, 1, 15)},),
        "authority": ("Commission nationale de l'informatique et des libertés (CNIL)", "France"),
    },
    {
        "legal_name": "Hooli Media B.V.",
        "effective": date(2023, 1, 1),
        "domains": ("hoolimedia.nl",),
        "contacts": (("Sanne de Vries", "privacy@hoolimedia.nl", ContactRole.PRIVACY),),
        "dpas": ({"version": "2022-11", "effective_on": date(2023, 1, 1)},),
        "authority": ("Autoriteit Persoonsgegevens", "Netherlands"),
    },
)
TERMINATED_CUSTOMER = "Hooli Media B.V."
# Terminated this many days before the first seed, so deletion (C3, +90) falls due in ten days.
TERMINATED_DAYS_AGO = 80
BREACH_TITLE = "Support export sent to the wrong customer workspace"


def seed(*, now: datetime, today: date, staff: Mapping[str, Any]) -> str:
    """Customers, DPAs, a terminated customer, a breach, a request, a finding, instructions
    with their notices (C8) and a legal hold on the terminated customer's data (C1–C9).
    Looked up by natural keys, so a second run adds nothing; dates relative to today are
    fixed by the first run."""
    created_now: set[str] = set()
    customers: dict[str, Customer] = {}
    for spec in DEMO_CUSTOMERS:
        customer, created = Customer.objects.get_or_create(
            legal_name=spec["legal_name"],
            defaults={"agreement_effective_on": spec["effective"]},
        )
        customers[customer.legal_name] = customer
        if created:
            created_now.add(customer.legal_name)
        _domains_contacts_dpas(customer, spec)
    hooli = customers[TERMINATED_CUSTOMER]
    if TERMINATED_CUSTOMER in created_now:
        terminated_on = today - timedelta(days=TERMINATED_DAYS_AGO)
        services.customer_terminate(
            customer=hooli,
            on=terminated_on,
            by=TerminatedBy.CUSTOMER,
            reason="Did not renew at the end of the subscription term",
        )
        hooli.credential_purge_completed_on = terminated_on + timedelta(days=28)
        hooli.save()
    _breach(now, customers["Acme Analytics GmbH"], customers["Globex Corporation Ltd"])
    AssistanceRequest.objects.get_or_create(
        customer=customers["Globex Corporation Ltd"],
        kind=AssistanceKind.DPIA,
        defaults={
            "received_on": today - timedelta(days=6),
            "summary": "DPIA for the rollout of scheduled reports to the UK sales team.",
        },
    )
    ProhibitedDataFinding.objects.get_or_create(
        customer=customers["Umbrella Retail SAS"],
        category=ProhibitedCategory.GOVERNMENT_ID,
        location="Imported contact list, free-text field 'notes' (about 40 rows)",
        defaults={"learned_on": today - timedelta(days=3)},
    )
    # C7: a finding the customer's Order Form turned out to authorise (PP 7).
    ProhibitedDataFinding.objects.get_or_create(
        customer=customers["Acme Analytics GmbH"],
        category=ProhibitedCategory.PHI,
        location="Workspace 'Clinic partners', uploaded patient appointment lists",
        defaults={
            "learned_on": today - timedelta(days=12),
            "authorised_on": today - timedelta(days=9),
            "order_form_reference": "Order Form OF-2024-117 (health data add-on), section 3",
            "notes": "The Order Form allows appointment data for the clinic-partners workspace.",
        },
    )
    _instructions(now, customers["Umbrella Retail SAS"], customers["Initech AG"])
    _hold(today, hooli)
    return f"{len(created_now)} customers added"


def _domains_contacts_dpas(customer: Customer, spec: dict[str, Any]) -> None:
    for domain in spec["domains"]:
        CustomerDomain.objects.get_or_create(domain=domain, defaults={"customer": customer})
    for index, (name, email, role) in enumerate(spec["contacts"]):
        Contact.objects.get_or_create(
            customer=customer,
            email=email,
            defaults={"name": name, "role": role, "is_notice_contact": index == 0},
        )
    authority, country = spec["authority"]
    for dpa in spec["dpas"]:
        fields = dict(dpa)
        version = fields.pop("version")
        fields.setdefault("signed_on", fields["effective_on"] - timedelta(days=14))
        DPA.objects.get_or_create(
            customer=customer,
            version=version,
            defaults={
                "supervisory_authority": authority,
                "supervisory_authority_country": country,
                **fields,
            },
        )


def _breach(now: datetime, notified: Customer, pending: Customer) -> None:
    """One breach affecting two customers: one notice sent on time, one still pending."""
    breach, _ = Breach.objects.get_or_create(
        title=BREACH_TITLE,
        defaults={
            "aware_at": now - timedelta(hours=30),
            "description": "A scheduled support export was delivered to another customer's "
            "workspace for 40 minutes before it was withdrawn.",
            "data_categories": "Names, work email addresses and support ticket text",
            "status": BreachStatus.CONTAINED,
        },
    )
    affected, _ = BreachNotice.objects.get_or_create(breach=breach, customer=notified)
    BreachNotice.objects.get_or_create(breach=breach, customer=pending)
    steps = (
        (1, "Withdrew the export from the other workspace and revoked its download links.", "SRE"),
        (4, "Confirmed from the access logs that the file was opened once, by one user.", "SRE"),
        (18, "Added a check that an export's workspace matches its requester.", "Engineering"),
    )
    for hours, action, team in steps:
        BreachRemediation.objects.get_or_create(
            breach=breach,
            action=action,
            defaults={"taken_at": breach.aware_at + timedelta(hours=hours), "taken_by": team},
        )
    contact = notified.notice_contact
    sent_to = contact.email if contact else "privacy@acme-analytics.com"
    # C5: a first notice within the target, then an update once the fix was in place.
    for kind, hours in ((NoticeKind.FIRST, 20), (NoticeKind.UPDATE, 26)):
        if affected.messages.filter(kind=kind).exists():
            continue
        subject, body = services.breach_notice_draft(breach, kind)
        message = BreachMessage(
            affected=affected,
            kind=kind,
            subject=subject,
            body=body,
            sent_at=breach.aware_at + timedelta(hours=hours),
            sent_to=sent_to,
            message_id=f"<demo-breach-{affected.pk}-{kind}@harmonyze.com>",
        )
        message.full_clean()
        message.save()


def _instructions(now: datetime, umbrella: Customer, initech: Customer) -> None:
    """C8: an instruction Harmonyze thinks infringes the law, identified an hour ago and not
    yet notified (due today); and a DPA 2.4 notice sent, with the customer's response."""
    instruction, _ = Instruction.objects.get_or_create(
        customer=umbrella,
        instruction="Share the support transcripts of French users with Umbrella's marketing "
        "agency for profiling, without informing the users.",
        defaults={
            "received_on": (now - timedelta(days=1)).date(),
            "given_by": "Hugo Bernard, legal counsel",
            "channel": InstructionChannel.WRITTEN,
        },
    )
    InstructionNotice.objects.get_or_create(
        customer=umbrella,
        instruction=instruction,
        kind=InstructionNoticeKind.INFRINGEMENT,
        defaults={
            "identified_at": now - timedelta(hours=1),
            "reasons": "Profiling without informing the data subjects breaches GDPR Articles "
            "13, 14 and 21.",
        },
    )
    sent_at = now - timedelta(days=12)
    notice, created = InstructionNotice.objects.get_or_create(
        customer=initech,
        kind=InstructionNoticeKind.CANNOT_MEET_OBLIGATIONS,
        defaults={
            "identified_at": sent_at - timedelta(hours=3),
            "reasons": "The Swiss backup region was withdrawn by its provider; data stored "
            "there cannot be kept in Switzerland as the DPA's deviation requires.",
            "subject": "Notice under the Data Processing Addendum (DPA 2.4)",
            "body": "Harmonyze notifies you that it cannot meet one of its obligations.",
            "sent_at": sent_at,
            "sent_to": "datenschutz@initech.ch",
            "message_id": "<demo-instruction-notice@harmonyze.com>",
        },
    )
    if created:
        InstructionResponse(
            notice=notice,
            received_on=(sent_at + timedelta(days=2)).date(),
            kind=ResponseKind.AUDIT,
            description="Initech asked for the backup provider's SOC 2 report and a migration "
            "plan to the Zurich region.",
        ).save()


def _hold(today: date, customer: Customer) -> None:
    """C9: the terminated customer's support tickets are kept for a court case: its C3
    deletion shows as held, and the hold's review falls due in twelve days."""
    LegalHold.objects.get_or_create(
        customer=customer,
        legal_basis="Litigation hold, de Vries v. Hooli Media B.V. (Rechtbank Amsterdam)",
        defaults={
            "requested_by": HoldRequester.LITIGATION,
            "requester": "Rechtbank Amsterdam, by order of the court",
            "data_kept": "Support tickets and attachments of 2024 naming the claimant",
            "started_on": today - timedelta(days=20),
            "review_on": today + timedelta(days=12),
        },
    )
