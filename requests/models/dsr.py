from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from customers.models import DPA, Contact, Customer
from customers.models.accounts import ContactRole
from harmonyze_portal.dates import Computation, calendar_holidays, holiday_calendars
from harmonyze_portal.history import TrackedModel, TrackedQuerySet
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.uploads import PrivateUploadPath, validate_pdf
from requests import deadlines


def validate_holiday_country(code: str) -> None:
    """T4: a calendar is one the maintained ``holidays`` library offers (ISO country code)."""
    if code not in holiday_calendars():
        raise ValidationError(
            f"“{code}” is not a country of the holidays library; use its ISO code, like IE, "
            "GB, CH, US or BR (T4).",
            code="unknown_calendar",
        )


class PeriodUnit(models.TextChoices):
    DAYS = deadlines.DAYS, "calendar days"
    MONTHS = deadlines.MONTHS, "calendar months"
    BUSINESS_DAYS = deadlines.BUSINESS_DAYS, "business days"


class Regime(TrackedModel):
    """A privacy law's response clock (R3). Adding a law is adding a row."""

    code = models.SlugField(max_length=30, unique=True, verbose_name="Code")
    name = models.CharField(max_length=100, verbose_name="Name")
    response_value = models.PositiveSmallIntegerField("Response period")
    response_unit = models.CharField(
        max_length=20, choices=PeriodUnit.choices, verbose_name="Response period unit"
    )
    extension_value = models.PositiveSmallIntegerField("Extension", default=0)
    extension_unit = models.CharField(
        max_length=20,
        choices=PeriodUnit.choices,
        default=PeriodUnit.DAYS,
        verbose_name="Extension period unit",
    )
    acknowledge_business_days = models.PositiveSmallIntegerField(
        "Acknowledge within (business days)", null=True, blank=True
    )
    moves_off_weekends = models.BooleanField(
        "Deadlines move off weekends and holidays (T4)",
        default=True,
        help_text="Yes for GDPR, UK GDPR and FADP; no for the US laws and LGPD, whose earlier "
        "date is the safe one.",
    )
    holiday_country = models.CharField(
        "Holiday calendar",
        max_length=2,
        validators=[validate_holiday_country],
        help_text="The country whose public holidays count for this law, as an ISO code of the "
        "holidays library: IE for GDPR, GB for UK GDPR, CH for FADP, US, BR (T4). Closure days "
        "staff add count too.",
    )
    holiday_subdivision = models.CharField(
        "Holiday calendar region",
        max_length=10,
        blank=True,
        help_text="Optional: a region of that country (GB: ENG, NIR, SCT, WLS). Empty means "
        "the nationwide holidays only.",
    )
    source = models.CharField("Where the rule comes from", max_length=200, blank=True)

    recomputed = 0  # how many open requests the last save() moved (shown by the admin)

    # What a regime's deadlines are computed from: changing one recomputes the open requests.
    CLOCK_FIELDS: ClassVar[tuple[str, ...]] = (
        "response_value",
        "response_unit",
        "extension_value",
        "extension_unit",
        "acknowledge_business_days",
        "moves_off_weekends",
        "holiday_country",
        "holiday_subdivision",
    )

    class Meta:
        verbose_name = "privacy regime"
        verbose_name_plural = "privacy regimes"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def describe(self) -> str:
        text = f"{self.response_value} {self.get_response_unit_display()}"
        if self.extension_value:
            text += (
                f", extendable by {self.extension_value} further "
                f"{self.get_extension_unit_display()}, counted from receipt"
            )
        return text

    def clean(self) -> None:
        super().clean()
        subdivisions = holiday_calendars().get(self.holiday_country)
        if subdivisions is not None and self.holiday_subdivision not in ("", *subdivisions):
            raise ValidationError(
                {
                    "holiday_subdivision": f"{self.holiday_country} has no region "
                    f"“{self.holiday_subdivision}”; choose one of {', '.join(subdivisions)} or "
                    "leave it empty."
                }
            )

    def holidays_between(self, start: date, end: date) -> set[date]:
        """T4: this law's holiday calendar plus the closure days that apply to it."""
        years = tuple(range(start.year, end.year + 1))
        library = calendar_holidays(self.holiday_country, self.holiday_subdivision, years)
        closures = PublicHoliday.objects.between(start, end)
        return {day for day in library if start <= day <= end} | closures

    def save(self, *args: Any, **kwargs: Any) -> None:
        changed = self._changed_clock_fields()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if changed:
                # T4, R3: every open deadline computed from the old values moves now, each with
                # its own history row.
                self.recomputed = self.requests.open().recompute_clocks(
                    reason=f"Recomputed: {self} changed ({', '.join(changed)})"
                )

    def _changed_clock_fields(self) -> list[str]:
        if self.pk is None:
            return []
        stored = Regime.objects.filter(pk=self.pk).values(*self.CLOCK_FIELDS).first()
        if stored is None:
            return []
        fields = {field.name: field for field in Regime._meta.concrete_fields}
        return [
            str(fields[name].verbose_name)
            for name in self.CLOCK_FIELDS
            if stored[name] != getattr(self, name)
        ]


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


# The statuses whose deadlines still run, and move with the calendar (T4, R3).
OPEN_STATUSES = (DSRStatus.UNVERIFIED, DSRStatus.OPEN)

# R1 (SCC Clause 10(a)): the customer notice is owed and not yet given.
CUSTOMER_NOTICE_OPEN = Q(
    status=DSRStatus.OPEN, customer_notice_due__isnull=False, customer_informed_on__isnull=True
)
# R3: the open statutory clocks, each written once (the QuerySet methods and the partial
# indexes share them): receipt still to confirm; the answer due, unextended or extended.
ACKNOWLEDGEMENT_OPEN = Q(
    status=DSRStatus.OPEN, acknowledge_by__isnull=False, acknowledged_on__isnull=True
)
RESPONSE_OPEN = Q(status=DSRStatus.OPEN, respond_by__isnull=False, extended_to__isnull=True)
EXTENDED_RESPONSE_OPEN = Q(status=DSRStatus.OPEN, extended_to__isnull=False)
# R2: outcomes that hand over or change the requester's data.
FULFILLED = (Outcome.FULFILLED, Outcome.PARTLY)


class DSRQuerySet(TrackedQuerySet["DataSubjectRequest"]):
    def open(self) -> DSRQuerySet:
        return self.filter(status=DSRStatus.OPEN)

    def customer_notice_open(self) -> DSRQuerySet:
        """R1: open requests whose customer must still be told (SCC Clause 10(a))."""
        return self.filter(CUSTOMER_NOTICE_OPEN)

    def acknowledgement_open(self) -> DSRQuerySet:
        """R3 (CCPA): receipt is to be confirmed by ``acknowledge_by`` and has not been."""
        return self.filter(ACKNOWLEDGEMENT_OPEN)

    def response_open(self) -> DSRQuerySet:
        """R3: the answer is due by ``respond_by`` (no extension)."""
        return self.filter(RESPONSE_OPEN)

    def extended_response_open(self) -> DSRQuerySet:
        """R3: the answer is due by the extended date ``extended_to``."""
        return self.filter(EXTENDED_RESPONSE_OPEN)

    def touched_by(self, day: date) -> DSRQuerySet:
        """Requests whose clocks a holiday on ``day`` can move: received by then and with a
        stored deadline on or after it (T4)."""
        return self.filter(
            Q(received_on__lte=day)
            & (
                Q(acknowledge_by__gte=day)
                | Q(respond_by__gte=day)
                | Q(extended_to__gte=day)
                | Q(customer_notice_due__gte=day)
            )
        )

    def recompute_clocks(self, *, reason: str) -> int:
        """Recompute each request's stored deadlines; save (with ``reason`` in its history)
        those that moved. Returns how many moved. Never ``update()``: H1."""
        moved = 0
        with transaction.atomic():
            for dsr in self.select_related("regime", "customer").select_for_update(of=("self",)):
                before = dsr.clocks()
                dsr.refresh_clocks()
                if dsr.clocks() != before:
                    dsr._change_reason = reason  # type: ignore[attr-defined]
                    dsr.save()
                    moved += 1
        return moved

    def overdue(self, today: date) -> DSRQuerySet:
        """R3: the answer is late, by the extended date when there is one."""
        return self.filter(
            (RESPONSE_OPEN & Q(respond_by__lt=today))
            | (EXTENDED_RESPONSE_OPEN & Q(extended_to__lt=today))
        )

    def due_between(self, start: date, end: date) -> DSRQuerySet:
        return self.filter(
            (RESPONSE_OPEN & Q(respond_by__range=(start, end)))
            | (EXTENDED_RESPONSE_OPEN & Q(extended_to__range=(start, end)))
        )


DSRManager = models.Manager.from_queryset(DSRQuerySet)


class DataSubjectRequest(TrackedModel):
    """A data subject request (R1–R3)."""

    channel = models.CharField(
        max_length=20,
        choices=Channel.choices,
        default=Channel.EMAIL,
        verbose_name="Received through",
    )
    status = models.CharField(
        max_length=20,
        choices=DSRStatus.choices,
        default=DSRStatus.OPEN,
        db_index=True,
        verbose_name="Status",
    )
    requester_name = models.CharField(max_length=200, verbose_name="Requester's name")
    requester_email = models.EmailField(verbose_name="Requester's email")
    right = models.CharField("Right exercised", max_length=30, choices=Right.choices)
    regime = models.ForeignKey(
        Regime, on_delete=models.PROTECT, related_name="requests", verbose_name="Privacy regime"
    )
    role = models.CharField(
        max_length=20, choices=Role.choices, default=Role.UNDECIDED, verbose_name="Requester's role"
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dsrs",
        verbose_name="Customer",
    )
    service_named = models.CharField("Service or customer named", max_length=200, blank=True)
    details = models.TextField(blank=True, verbose_name="Details")
    agent_name = models.CharField("Authorized agent", max_length=200, blank=True)
    agent_email = models.EmailField(blank=True, verbose_name="Authorised agent's email")
    agent_proof = models.FileField(
        "Agent's proof of authority (PDF)",
        upload_to=PrivateUploadPath("requests/agent-proof"),
        validators=[validate_pdf],
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="Submitted at")
    verified_email_at = models.DateTimeField(
        null=True, blank=True, verbose_name="Email confirmed at"
    )

    # R3 clocks, from the legal date of receipt; stored and indexed.
    received_on = models.DateField("Legal date of receipt", null=True, blank=True, db_index=True)
    acknowledge_by = models.DateField(
        null=True, blank=True, editable=False, db_index=True, verbose_name="Acknowledge by"
    )
    acknowledged_on = models.DateField(null=True, blank=True, verbose_name="Acknowledged on")
    respond_by = models.DateField(
        null=True, blank=True, editable=False, db_index=True, verbose_name="Respond by"
    )
    extended_to = models.DateField(
        null=True, blank=True, editable=False, db_index=True, verbose_name="Extended to"
    )
    extension_told_on = models.DateField(
        "Requester told of the extension on", null=True, blank=True
    )

    # R1: the processor route.
    redirected_on = models.DateField(null=True, blank=True, verbose_name="Redirected on")
    redirect_message = models.TextField(blank=True, verbose_name="Redirect message")
    customer_notice_due = models.DateField(
        "Notify the customer by", null=True, blank=True, editable=False, db_index=True
    )
    customer_informed_on = models.DateField("Customer notified on", null=True, blank=True)

    # R2: the controller route.
    verification_method = models.CharField(
        max_length=20,
        choices=VerificationMethod.choices,
        blank=True,
        verbose_name="Verification method",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="Verified by",
    )
    verified_on = models.DateField(null=True, blank=True, verbose_name="Verified on")
    government_id_requested = models.BooleanField(
        default=False, verbose_name="Government ID requested"
    )
    outcome = models.CharField(
        max_length=20, choices=Outcome.choices, blank=True, verbose_name="Outcome"
    )
    denial_reason = models.TextField(blank=True, verbose_name="Reason for denial")
    reply_sent_on = models.DateField(null=True, blank=True, verbose_name="Reply sent on")
    reply = models.TextField(blank=True, verbose_name="Reply")

    objects: ClassVar[DSRManager] = DSRManager()

    class Meta:
        verbose_name_plural = "data subject requests"
        verbose_name = "data subject request"
        ordering = ["respond_by", "pk"]
        indexes = [
            models.Index(
                fields=["customer_notice_due"],
                condition=CUSTOMER_NOTICE_OPEN,
                name="r1_customer_notice_open",
            ),
            models.Index(
                fields=["acknowledge_by"],
                condition=ACKNOWLEDGEMENT_OPEN,
                name="r3_acknowledgement_open",
            ),
            models.Index(fields=["respond_by"], condition=RESPONSE_OPEN, name="r3_response_open"),
            models.Index(
                fields=["extended_to"],
                condition=EXTENDED_RESPONSE_OPEN,
                name="r3_extended_response_open",
            ),
            # The changelist's order (respond_by, then pk), whole and by status, so a page is
            # an index range at a million rows, not a sort of the table (issue 16, P5).
            models.Index(fields=["respond_by", "id"], name="dsr_list_order"),
            models.Index(fields=["status", "respond_by", "id"], name="dsr_list_by_status"),
            models.Index(fields=["role"], name="dsr_list_by_role"),
            models.Index(fields=["right"], name="dsr_list_by_right"),
            models.Index(fields=["channel"], name="dsr_list_by_channel"),
            # A search for a whole address is LOWER(requester_email) = … (admin_lists).
            models.Index(Lower("requester_email"), name="dsr_requester_email_exact"),
        ]
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
            models.CheckConstraint(
                condition=Q(status__in=[DSRStatus.UNVERIFIED, DSRStatus.OPEN])
                | Q(customer_notice_due__isnull=True)
                | Q(customer_informed_on__isnull=False),
                name="dsr_closed_after_customer_notice",
                violation_error_message="The customer's DPA includes the SCCs: record the date "
                "the customer was notified of the request before closing it (SCC Clause 10(a), "
                "R1).",
            ),
            # R2 is refused in save() and clean(), not by a CHECK: requests closed as
            # fulfilled before this rule may lack a recorded identity check, and a CHECK
            # would fail the migration on them.
        ]

    def __str__(self) -> str:
        return f"{self.get_right_display()} request from {self.requester_email}"

    @property
    def due(self) -> date | None:
        return self.extended_to or self.respond_by

    def deadline_lines(self) -> list[Computation]:
        """T5: how the R1 customer notice and the R3 clocks were computed, for the change page."""
        received = self.received_on
        if received is None:
            return []
        regime = self.regime
        lines = []
        if self.customer_notice_due is not None:
            lines.append(
                deadlines.dsr_customer_notice_explained(received, self.customer_notice_due)
            )
        clocks = [
            (self.acknowledge_by, regime.acknowledge_business_days, deadlines.BUSINESS_DAYS),
            (self.respond_by, regime.response_value, regime.response_unit),
        ]
        if regime.extension_unit == regime.response_unit:
            total = regime.response_value + regime.extension_value
            clocks.append((self.extended_to, total, regime.response_unit))
        for due, value, unit in clocks:
            if due is not None and value:
                lines.append(
                    deadlines.respond_by_explained(
                        rule="R3",
                        label="received",
                        received=received,
                        value=value,
                        unit=unit,
                        due=due,
                        calendar=regime.holiday_country,
                    )
                )
        return lines

    def holidays(self) -> set[date]:
        """T4: the regime's calendar and closure days from receipt to the end of next year
        (far enough for a three-month extension from a December receipt)."""
        if self.received_on is None:
            return set()
        start = self.received_on
        return self.regime.holidays_between(start, date(start.year + 1, 12, 31))

    def clocks(self) -> tuple[date | None, ...]:
        return (self.acknowledge_by, self.respond_by, self.extended_to, self.customer_notice_due)

    def customer_notice_required(self) -> bool:
        """R1: a request about Service Data of a customer whose DPA in force includes the SCCs
        (the EU SCCs, or the UK Addendum or Swiss adaptation that amend them) must be notified
        to that customer (SCC Clause 10(a)). Until staff decide it is Harmonyze's own (R2), a
        request naming a customer counts as being about that customer's data."""
        if self.customer_id is None or self.role == Role.CONTROLLER:
            return False
        return (
            DPA.objects.in_force()
            .filter(customer_id=self.customer_id)
            .filter(Q(eu_sccs_module_two=True) | Q(uk_addendum=True) | Q(swiss_fadp=True))
            .exists()
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_clocks()
        # The same refusals as clean(), for the paths that save without a form (services,
        # actions, the shell): a request is never closed around R1 or R2.
        problems = self.closing_errors()
        if problems:
            raise ValidationError(problems)
        super().save(*args, **kwargs)

    def refresh_clocks(self) -> None:
        """R3, T4: recompute the stored deadlines, while the request is open (or unverified)
        only. A closed or redirected request keeps the deadlines it was closed with: a later
        save (a note, a typo fixed) must not rewrite them against today's calendar."""
        if self._stays_closed():
            return
        regime = self.regime
        received = self.received_on
        if received is None:
            self.acknowledge_by = self.respond_by = self.extended_to = None
            self.customer_notice_due = None
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
        self.customer_notice_due = (
            deadlines.dsr_customer_notice_due(received, settings.DSR_CUSTOMER_NOTICE_DAYS)
            if self.customer_notice_required()
            else None
        )

    @property
    def agent_acts(self) -> bool:
        """R2: an authorized agent acts for the requester, known by name or by email."""
        return bool(self.agent_name.strip() or self.agent_email.strip())

    @property
    def agent_unnamed(self) -> bool:
        """R2: an agent's email or proof is recorded, but not who the agent is."""
        return not self.agent_name.strip() and bool(self.agent_email.strip() or self.agent_proof)

    def _stays_closed(self) -> bool:
        """Closed now and when last saved: the save that closes a request still recomputes
        (it is open until then), and reopening one recomputes again."""
        if self.status in OPEN_STATUSES or self.pk is None:
            return False
        stored = DataSubjectRequest.objects.filter(pk=self.pk).values_list("status", flat=True)
        return stored.first() not in (None, *OPEN_STATUSES)

    def closing_errors(self) -> dict[str, str]:
        """Why this request may not be in its status yet (R1, R2), by field; empty if it may."""
        errors: dict[str, str] = {}
        closed = self.status in (DSRStatus.REDIRECTED, DSRStatus.CLOSED)
        if closed and self.customer_notice_due and not self.customer_informed_on:
            errors["customer_informed_on"] = (
                f"{self.customer}'s DPA includes the SCCs: the customer must be notified of the "
                f"request (due {self.customer_notice_due:%Y-%m-%d}) before it is closed. Record "
                "the date it was notified (SCC Clause 10(a), R1)."
            )
        fulfilled = (
            self.status == DSRStatus.CLOSED
            and self.outcome in FULFILLED
            and self.role != Role.PROCESSOR
        )
        if fulfilled and not (self.verification_method and self.verified_on):
            errors["verified_on"] = (
                "A request Harmonyze answers cannot be closed as fulfilled before the "
                "requester's identity check is recorded: give the method and the date (R2)."
            )
        if fulfilled and self.agent_acts and not self.agent_proof:
            agent = self.agent_name.strip() or self.agent_email.strip()
            errors["agent_proof"] = (
                f"{agent} acts for the requester: put the proof of authority on file "
                "before closing the request as fulfilled (R2)."
            )
        return errors

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
        if self.agent_unnamed:
            # As the public form asks: who acts, not only an address or a document.
            errors["agent_name"] = "Name the authorized agent, or leave the agent out (R2)."
        if self.agent_acts and not (self.agent_proof or self.details.strip()):
            errors["agent_proof"] = "An authorized agent acts with proof of authority (R2)."
        informed, received = self.customer_informed_on, self.received_on
        if informed and received and informed < received:
            errors["customer_informed_on"] = "This is before the request was received."
        if self.regime_id and self.received_on:
            self.refresh_clocks()
        errors |= self.closing_errors()
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
            contacts.filter(role=ContactRole.PRIVACY).first()
            or contacts.filter(is_notice_contact=True).first()
        )


# --- T4: a closure day added, moved or removed moves the open deadlines it touches. -------------
# The core owns PublicHoliday and imports no area; the requests area listens. Signals cover
# every path: admin add/edit/delete, the bulk delete action (Django sends post_delete per row
# when a receiver listens), imports and the shell.


def _recompute_for_closure_days(days: Collection[date], reason: str) -> None:
    ids: set[int] = set()
    for day in days:
        ids |= set(DataSubjectRequest.objects.open().touched_by(day).values_list("pk", flat=True))
    if ids:
        DataSubjectRequest.objects.filter(pk__in=ids).recompute_clocks(reason=reason)


@receiver(pre_save, sender=PublicHoliday)
def _remember_closure_day(sender: type[PublicHoliday], instance: PublicHoliday, **_: Any) -> None:
    stored = PublicHoliday.objects.filter(pk=instance.pk).values_list("date", flat=True).first()
    instance._stored_day = stored  # type: ignore[attr-defined]


@receiver(post_save, sender=PublicHoliday)
def _closure_day_saved(
    sender: type[PublicHoliday], instance: PublicHoliday, created: bool, **_: Any
) -> None:
    stored: date | None = getattr(instance, "_stored_day", None)
    if stored == instance.date:
        return  # a new name moves nothing
    if stored is None:
        reason = f"Recomputed: closure day {instance.date:%Y-%m-%d} added"
        days = [instance.date]
    else:
        reason = f"Recomputed: closure day {stored:%Y-%m-%d} moved to {instance.date:%Y-%m-%d}"
        days = [stored, instance.date]
    _recompute_for_closure_days(days, reason)


@receiver(post_delete, sender=PublicHoliday)
def _closure_day_deleted(sender: type[PublicHoliday], instance: PublicHoliday, **_: Any) -> None:
    _recompute_for_closure_days(
        [instance.date], f"Recomputed: closure day {instance.date:%Y-%m-%d} removed"
    )
