from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers.models import Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet


class LegalProcess(models.TextChoices):
    SUBPOENA = "subpoena", "Subpoena"
    COURT_ORDER = "court_order", "Court order"
    SEARCH_WARRANT = "search_warrant", "Search warrant"
    NATIONAL_SECURITY = "national_security", "National security process"
    EMERGENCY = "emergency", "Emergency request"
    OTHER = "other", "Other"


class Disclosure(models.TextChoices):
    PENDING = "pending", "Not decided yet"
    NOTHING = "nothing", "Nothing disclosed"
    PART = "part", "Some data disclosed"
    ALL = "all", "All data sought disclosed"


class DemandQuerySet(TrackedQuerySet["LawEnforcementDemand"]):
    def customer_notice_due(self, today: date) -> DemandQuerySet:
        """R4: compelled demands whose customer has not been told, and no order forbids it any
        more (none was issued, or it has ended): a postponed notice is never forgotten."""
        return self.filter(compelled=True, customer_notified_on__isnull=True).filter(
            Q(nondisclosure_order=False) | Q(nondisclosure_order_ends__lt=today)
        )

    def in_half_year(self, year: int, half: int) -> DemandQuerySet:
        start = date(year, 1 if half == 1 else 7, 1)
        end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        return self.filter(received_on__range=(start, end))


DemandManager = models.Manager.from_queryset(DemandQuerySet)


class LawEnforcementDemand(TrackedModel):
    """A law-enforcement or government demand for Customer data (R4, R5; PP 5; DPA 3.2.4).

    Restricted to privacy counsel; every view is logged (``DemandView``).
    """

    agency = models.CharField(max_length=200)
    country = models.CharField(max_length=100)
    legal_process = models.CharField(max_length=30, choices=LegalProcess.choices)
    received_on = models.DateField(db_index=True)
    customers = models.ManyToManyField(Customer, related_name="demands", blank=True)
    data_sought = models.TextField("What is sought")

    # The workflow the Privacy Policy promises, in order.
    redirect_attempted_on = models.DateField(
        "Redirect to the customer attempted on", null=True, blank=True
    )
    redirect_contact = models.CharField(
        "Customer contact named to the agency", max_length=200, blank=True
    )
    contact_details_given = models.BooleanField(
        "Customer's basic contact details given to the agency", default=False
    )
    compelled = models.BooleanField("Harmonyze is legally compelled", default=False)
    nondisclosure_order = models.BooleanField("Non-disclosure order", default=False)
    nondisclosure_order_starts = models.DateField(null=True, blank=True)
    nondisclosure_order_ends = models.DateField(null=True, blank=True, db_index=True)
    customer_notified_on = models.DateField(null=True, blank=True)
    customer_notified_to = models.CharField(max_length=200, blank=True)
    challenged = models.BooleanField("Challenged or objected", default=False)
    challenge_note = models.TextField(blank=True)
    disclosure = models.CharField(
        max_length=20, choices=Disclosure.choices, default=Disclosure.PENDING
    )
    disclosed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    objects: ClassVar[DemandManager] = DemandManager()

    class Meta:
        verbose_name = "law-enforcement demand"
        ordering = ["-received_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nondisclosure_order_ends__isnull=True)
                | Q(nondisclosure_order_starts__isnull=True)
                | Q(nondisclosure_order_ends__gte=models.F("nondisclosure_order_starts")),
                name="ndo_ends_after_start",
                violation_error_message="The non-disclosure order ends before it starts.",
            ),
            models.CheckConstraint(
                # R4: the customer hears first, unless an order forbids telling it.
                condition=Q(disclosed_on__isnull=True)
                | Q(nondisclosure_order=True)
                | Q(
                    customer_notified_on__isnull=False,
                    customer_notified_on__lte=models.F("disclosed_on"),
                ),
                name="customer_notified_before_disclosure",
                violation_error_message="Notify the customer before disclosing anything, unless "
                "a non-disclosure order forbids it.",
            ),
        ]
        permissions = [("view_demand_history", "Can export law-enforcement history")]

    def __str__(self) -> str:
        return f"{self.get_legal_process_display()} from {self.agency} ({self.received_on})"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.nondisclosure_order and not self.nondisclosure_order_starts:
            errors["nondisclosure_order_starts"] = "When does the order start?"
        if (
            self.nondisclosure_order_starts
            and self.nondisclosure_order_ends
            and self.nondisclosure_order_ends < self.nondisclosure_order_starts
        ):
            errors["nondisclosure_order_ends"] = "The order cannot end before it starts."
        if self.disclosed_on and not self.nondisclosure_order:
            if self.customer_notified_on is None:
                errors["disclosed_on"] = (
                    "Notify the customer before disclosing anything (R4), or record the "
                    "non-disclosure order that forbids it."
                )
            elif self.customer_notified_on > self.disclosed_on:
                errors["disclosed_on"] = "The customer was notified after the disclosure."
        if self.disclosure in (Disclosure.PART, Disclosure.ALL) and not self.disclosed_on:
            errors["disclosed_on"] = "Record when the data was disclosed."
        if self.disclosure in (Disclosure.PART, Disclosure.ALL) and not self.compelled:
            errors["compelled"] = "Harmonyze discloses nothing voluntarily (R4, PP 5)."
        if errors:
            raise ValidationError(errors)

    @property
    def outcome(self) -> str:
        """R5 outcome for the transparency report."""
        if self.disclosure == Disclosure.PENDING and self.redirect_attempted_on:
            return "redirected"
        return {
            Disclosure.NOTHING: "nothing disclosed",
            Disclosure.PART: "some disclosed",
            Disclosure.ALL: "all disclosed",
        }.get(Disclosure(self.disclosure), "pending")


class DemandViewQuerySet(TrackedQuerySet["DemandView"]):
    pass


DemandViewManager = models.Manager.from_queryset(DemandViewQuerySet)


class DemandView(TrackedModel):
    """Every view of a law-enforcement record, for accountability."""

    # PROTECT: the access log of a demand is kept as long as the demand.
    demand = models.ForeignKey(LawEnforcementDemand, on_delete=models.PROTECT, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField(auto_now_add=True)
    path = models.CharField(max_length=300)

    objects: ClassVar[DemandViewManager] = DemandViewManager()

    class Meta:
        ordering = ["-viewed_at"]

    def __str__(self) -> str:
        return f"{self.user} viewed {self.demand} at {self.viewed_at:%Y-%m-%d %H:%M}"
