from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers.models import Contact, Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.uploads import PrivateUploadPath, validate_pdf
from requests import deadlines


class PeriodUnit(models.TextChoices):
    DAYS = deadlines.DAYS, "calendar days"
    MONTHS = deadlines.MONTHS, "calendar months"
    BUSINESS_DAYS = deadlines.BUSINESS_DAYS, "business days"


class Regime(TrackedModel):
    """A privacy law's response clock (R3). Adding a law is adding a row."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    response_value = models.PositiveSmallIntegerField("Response period")
    response_unit = models.CharField(max_length=20, choices=PeriodUnit.choices)
    extension_value = models.PositiveSmallIntegerField("Extension", default=0)
    extension_unit = models.CharField(
        max_length=20, choices=PeriodUnit.choices, default=PeriodUnit.DAYS
    )
    acknowledge_business_days = models.PositiveSmallIntegerField(
        "Acknowledge within (business days)", null=True, blank=True
    )
    moves_off_weekends = models.BooleanField(
        "Deadline moves off weekends and holidays (T4)", default=True
    )
    source = models.CharField("Where the rule comes from", max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def describe(self) -> str:
        text = f"{self.response_value} {self.get_response_unit_display()}"
        if self.extension_value:
            text += f", extendable by {self.extension_value} {self.get_extension_unit_display()}"
        return text


class Right(models.TextChoices):
    ACCESS = "access", "Access (in a portable form)"
    CORRECTION = "correction", "Correction"
    DELETION = "deletion", "Deletion"
    LIMIT = "limit", "Limit use or disclosure"
    OBJECT_MARKETING = "object_marketing", "Object to direct marketing"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    UNDECIDED = "undecided", "Not decided yet"
    PROCESSOR = "processor", "Processor: the customer's Service Data (C1, R1)"
    CONTROLLER = "controller", "Controller: Harmonyze's Other Information (R2)"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    PUBLIC_FORM = "public_form", "Public form"


class DSRStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Awaiting email verification"
    OPEN = "open", "Open"
    REDIRECTED = "redirected", "Redirected to the customer"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    FULFILLED = "fulfilled", "Fulfilled"
    PARTLY = "partly", "Partly fulfilled"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


class VerificationMethod(models.TextChoices):
    ACCOUNT_EMAIL = "account_email", "Matched the account email"
    GOVERNMENT_ID = "government_id", "Government ID"
    OTHER = "other", "Other"


class DSRQuerySet(TrackedQuerySet["DataSubjectRequest"]):
    def open(self) -> DSRQuerySet:
        return self.filter(status=DSRStatus.OPEN)

    def overdue(self, today: date) -> DSRQuerySet:
        return self.open().filter(
            Q(extended_to__isnull=True, respond_by__lt=today) | Q(extended_to__lt=today)
        )

    def due_between(self, start: date, end: date) -> DSRQuerySet:
        return self.open().filter(
            Q(extended_to__isnull=True, respond_by__range=(start, end))
            | Q(extended_to__range=(start, end))
        )


DSRManager = models.Manager.from_queryset(DSRQuerySet)


class DataSubjectRequest(TrackedModel):
    """A data subject request (R1–R3)."""

    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(
        max_length=20, choices=DSRStatus.choices, default=DSRStatus.OPEN, db_index=True
    )
    requester_name = models.CharField(max_length=200)
    requester_email = models.EmailField()
    right = models.CharField("Right exercised", max_length=30, choices=Right.choices)
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="requests")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.UNDECIDED)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="dsrs"
    )
    service_named = models.CharField("Service or customer named", max_length=200, blank=True)
    details = models.TextField(blank=True)
    agent_name = models.CharField("Authorized agent", max_length=200, blank=True)
    agent_email = models.EmailField(blank=True)
    agent_proof = models.FileField(
        "Agent's proof of authority (PDF)",
        upload_to=PrivateUploadPath("requests/agent-proof"),
        validators=[validate_pdf],
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    verified_email_at = models.DateTimeField(null=True, blank=True)

    # R3 clocks, from the legal date of receipt; stored and indexed.
    received_on = models.DateField("Legal date of receipt", null=True, blank=True, db_index=True)
    acknowledge_by = models.DateField(null=True, blank=True, editable=False, db_index=True)
    acknowledged_on = models.DateField(null=True, blank=True)
    respond_by = models.DateField(null=True, blank=True, editable=False, db_index=True)
    extended_to = models.DateField(null=True, blank=True, editable=False, db_index=True)
    extension_told_on = models.DateField(
        "Requester told of the extension on", null=True, blank=True
    )

    # R1: the processor route.
    redirected_on = models.DateField(null=True, blank=True)
    redirect_message = models.TextField(blank=True)
    customer_informed_on = models.DateField(null=True, blank=True)

    # R2: the controller route.
    verification_method = models.CharField(
        max_length=20, choices=VerificationMethod.choices, blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_on = models.DateField(null=True, blank=True)
    government_id_requested = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    denial_reason = models.TextField(blank=True)
    reply_sent_on = models.DateField(null=True, blank=True)
    reply = models.TextField(blank=True)

    objects: ClassVar[DSRManager] = DSRManager()

    class Meta:
        verbose_name = "data subject request"
        ordering = ["respond_by", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.DENIED) | ~Q(denial_reason=""),
                name="denied_request_has_reason",
                violation_error_message="Give the reason for the denial.",
            ),
            models.CheckConstraint(
                condition=Q(extended_to__isnull=True) | Q(extension_told_on__isnull=False),
                name="extension_has_date_told",
                violation_error_message="An extension needs the date the requester was told.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_right_display()} request from {self.requester_email}"

    @property
    def due(self) -> date | None:
        return self.extended_to or self.respond_by

    def holidays(self) -> set[date]:
        if self.received_on is None:
            return set()
        start = self.received_on
        return PublicHoliday.objects.between(start, date(start.year + 1, 12, 31))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_clocks()
        super().save(*args, **kwargs)

    def refresh_clocks(self) -> None:
        regime = self.regime
        received = self.received_on
        if received is None:
            self.acknowledge_by = self.respond_by = self.extended_to = None
            return
        holidays = self.holidays()
        self.respond_by = deadlines.respond_by(
            received,
            regime.response_value,
            regime.response_unit,
            moves_off_weekends=regime.moves_off_weekends,
            holidays=holidays,
        )
        self.acknowledge_by = (
            deadlines.acknowledge_by(received, regime.acknowledge_business_days, holidays)
            if regime.acknowledge_business_days
            else None
        )
        self.extended_to = (
            deadlines.extended_to(
                received,
                regime.response_value,
                regime.response_unit,
                regime.extension_value,
                regime.extension_unit,
                moves_off_weekends=regime.moves_off_weekends,
                holidays=holidays,
            )
            if self.extension_told_on
            else None
        )

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.extension_told_on:
            if not self.regime_id or not self.regime.extension_value:
                errors["extension_told_on"] = f"{self.regime} allows no extension."
            elif self.received_on:
                self.refresh_clocks()
                original = self.respond_by
                if original and self.extension_told_on > original:
                    errors["extension_told_on"] = (
                        f"Too late to extend: the requester must be told by the original "
                        f"deadline, {original:%Y-%m-%d} (R3)."
                    )
                if self.extension_told_on < self.received_on:
                    errors["extension_told_on"] = "This is before the request was received."
        if self.outcome == Outcome.DENIED and not self.denial_reason.strip():
            errors["denial_reason"] = "Give the reason for the denial."
        if self.agent_name and not (self.agent_proof or self.details.strip()):
            errors["agent_proof"] = "An authorized agent acts with proof of authority (R2)."
        if errors:
            raise ValidationError(errors)

    def suggested_customer(self) -> Customer | None:
        """R1: the customer the request is probably about, from the requester's email domain
        or the service they named."""
        match = Customer.objects.for_email(self.requester_email).first()
        if match is None and self.service_named.strip():
            match = Customer.objects.filter(
                legal_name__icontains=self.service_named.strip()
            ).first()
        return match

    def customer_privacy_contact(self) -> Contact | None:
        if self.customer is None:
            return None
        contacts = self.customer.contacts
        return (
            contacts.filter(role="privacy").first()
            or contacts.filter(is_notice_contact=True).first()
        )
