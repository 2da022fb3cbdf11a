"""Demo data for a local portal: idempotent, grows with each area."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from audits import demo as audits_demo
from customers import services as customer_services
from customers.models import (
    DPA,
    AssistanceRequest,
    Breach,
    BreachNotice,
    Contact,
    Customer,
    CustomerDomain,
    ProhibitedDataFinding,
)
from customers.models.accounts import ContactRole, TerminatedBy
from customers.models.assistance import AssistanceKind, ProhibitedCategory
from customers.models.breaches import BreachStatus
from customers.models.dpas import DPAStatus
from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import acting_as
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.roles import ANALYST, COUNSEL, VIEWER
from requests import demo as requests_demo
from subprocessors import demo as subprocessors_demo

DEMO_STAFF = (
    ("counsel", "Casey", "Counsel", COUNSEL),
    ("analyst", "Alex", "Analyst", ANALYST),
    ("viewer", "Vic", "Viewer", VIEWER),
)

# Closure days staff add (T4): each regime's public holidays come from the holidays library;
# these are Harmonyze's own, on top, for every regime.
DEMO_HOLIDAYS = (
    (date(2026, 12, 24), "Office closed: Christmas Eve"),
    (date(2026, 12, 31), "Office closed: New Year's Eve"),
    (date(2027, 12, 31), "Office closed: New Year's Eve"),
)


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


class Command(BaseCommand):
    help = "Load demo data and the three demo staff users (idempotent; local use only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo users new passwords and print them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates demo accounts with printed passwords; it runs only with DEBUG=1."
            )
        with transaction.atomic(), acting_as("task: seed demo data", reason="Demo data"):
            printed = self._staff(reset=options["reset_passwords"])
            added = self._holidays()
            customers_added = self._customers()
            subprocessors_added = subprocessors_demo.seed()
            audits_added = audits_demo.seed()
            requests_added = requests_demo.seed()
        self.stdout.write(
            f"Demo data ready ({added} holidays added, {customers_added} customers added, "
            f"{subprocessors_added} sub-processors added, {audits_added} audit records added, "
            f"{requests_added} privacy requests and demands added)."
        )
        if printed:
            self.stdout.write("Demo staff logins (shown once; --reset-passwords prints new ones):")
            for username, role, password in printed:
                self.stdout.write(f"  {username:<8} {password}   ({role})")

    def _staff(self, *, reset: bool) -> list[tuple[str, str, str]]:
        user_model = get_user_model()
        printed = []
        for username, first, last, role in DEMO_STAFF:
            user = user_model.objects.filter(username=username).first()
            created = user is None
            if user is None:
                user = user_model(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@demo.harmonyze.com",
                    is_staff=True,
                )
            if created or reset:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save()
                printed.append((username, role, password))
            user.groups.add(Group.objects.get(name=role))
        return printed

    def _holidays(self) -> int:
        added = 0
        for day, name in DEMO_HOLIDAYS:
            _, created = PublicHoliday.objects.get_or_create(date=day, defaults={"name": name})
            added += created
        return added

    def _customers(self) -> int:
        """Customers, DPAs, a terminated customer, a breach, a request and a finding (C1–C7).
        Looked up by natural keys, so a second run adds nothing; dates relative to today are
        fixed by the first run."""
        now = timezone.now()
        today = legal_date(now, settings.TIME_ZONE)
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
        hooli = customers[TERMINATED_CUSTOMER]
        if TERMINATED_CUSTOMER in created_now:
            terminated_on = today - timedelta(days=TERMINATED_DAYS_AGO)
            customer_services.customer_terminate(
                customer=hooli,
                on=terminated_on,
                by=TerminatedBy.CUSTOMER,
                reason="Did not renew at the end of the subscription term",
            )
            hooli.credential_purge_completed_on = terminated_on + timedelta(days=28)
            hooli.save()
        self._breach(now, customers["Acme Analytics GmbH"], customers["Globex Corporation Ltd"])
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
        return len(created_now)

    def _breach(self, now: datetime, notified: Customer, pending: Customer) -> None:
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
        contact = notified.notice_contact
        BreachNotice.objects.get_or_create(
            breach=breach,
            customer=notified,
            defaults={
                "notified_at": breach.aware_at + timedelta(hours=20),
                "notified_to": contact.email if contact else "",
                "message_id": f"<demo-breach-{breach.pk}@harmonyze.com>",
            },
        )
        BreachNotice.objects.get_or_create(breach=breach, customer=pending)
