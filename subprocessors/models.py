from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from customers.models import Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet
from subprocessors import deadlines


class SubProcessorStatus(models.TextChoices):
    ANNOUNCED = "announced", "Announced"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class SubProcessorQuerySet(TrackedQuerySet["SubProcessor"]):
    def current(self) -> SubProcessorQuerySet:
        return self.filter(status=SubProcessorStatus.ACTIVE)


SubProcessorManager = models.Manager.from_queryset(SubProcessorQuerySet)


class SubProcessor(TrackedModel):
    """A sub-processor on the public list (S1)."""

    name = models.CharField(max_length=200, unique=True)
    purpose = models.TextField("What it does for Harmonyze")
    locations = models.CharField("Where it processes data", max_length=300)
    data_categories = models.TextField("Data it touches")
    website = models.URLField(blank=True)
    status = models.CharField(
        max_length=20, choices=SubProcessorStatus.choices, default=SubProcessorStatus.ANNOUNCED
    )
    # Copied from the published change that announced it, so the database itself can refuse
    # an access date inside the notice period (S3).
    earliest_access_on = models.DateField(null=True, blank=True, editable=False, db_index=True)
    access_began_on = models.DateField("Access to customer data began on", null=True, blank=True)
    retired_on = models.DateField(null=True, blank=True)

    objects: ClassVar[SubProcessorManager] = SubProcessorManager()

    class Meta:
        verbose_name = "sub-processor"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(access_began_on__isnull=True)
                | Q(earliest_access_on__isnull=True)
                | Q(access_began_on__gte=models.F("earliest_access_on")),
                name="subprocessor_access_after_notice_period",
                violation_error_message="Access cannot begin before the earliest access date "
                "(Notice date + 15 days, DPA 5.1).",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubProcessorStatus.ACTIVE) | Q(access_began_on__isnull=False),
                name="active_subprocessor_has_access_date",
                violation_error_message="An active sub-processor needs the date its access began.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.status == SubProcessorStatus.ACTIVE or self.access_began_on:
            problem = self.access_refusal(self.access_began_on)
            if problem:
                raise ValidationError({"access_began_on": problem})

    def access_refusal(self, access_on: date | None) -> str | None:
        """Why access on ``access_on`` is not allowed yet, or None (S3)."""
        if access_on is None:
            return "Record the date access to customer data began."
        pending = self.changes.filter(status=ChangeStatus.DRAFT).exists() and not (
            self.changes.filter(status=ChangeStatus.PUBLISHED).exists()
        )
        if pending:
            return "Publish the change that announces this sub-processor first (S3)."
        announcing = self.changes.filter(status=ChangeStatus.PUBLISHED).order_by("-published_at")
        change = announcing.first()
        if change is not None:
            if change.earliest_access_on is None:
                return "The Notice is still going out; the earliest access date is not set yet."
            if access_on < change.earliest_access_on:
                return (
                    f"Access cannot begin before {change.earliest_access_on:%Y-%m-%d}: the Notice "
                    f"went out on {change.notice_date:%Y-%m-%d} and the DPA gives 15 days (S3)."
                )
        return None


class ChangeKind(models.TextChoices):
    ADDITION = "addition", "Addition"
    REPLACEMENT = "replacement", "Replacement"


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class ChangeQuerySet(TrackedQuerySet["Change"]):
    def published(self) -> ChangeQuerySet:
        return self.filter(status=ChangeStatus.PUBLISHED)

    def in_notice_period(self, today: date) -> ChangeQuerySet:
        return self.published().filter(
            Q(earliest_access_on__isnull=True) | Q(earliest_access_on__gt=today)
        )


ChangeManager = models.Manager.from_queryset(ChangeQuerySet)


class Change(TrackedModel):
    """An intended addition or replacement of a sub-processor (S3)."""

    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    subprocessor = models.ForeignKey(
        SubProcessor, on_delete=models.PROTECT, related_name="changes", null=True, blank=True
    )
    replaces = models.ForeignKey(
        SubProcessor,
        on_delete=models.PROTECT,
        related_name="replaced_by_changes",
        null=True,
        blank=True,
    )
    summary = models.TextField(help_text="Shown on the public list and in the Notice.")
    status = models.CharField(
        max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # S3: the date the Notice went out to every active signup, and + 15 days. Set once the
    # last delivery of the Notice has been sent.
    notice_date = models.DateField(null=True, blank=True, editable=False)
    earliest_access_on = models.DateField(null=True, blank=True, editable=False, db_index=True)
    notice_subject = models.CharField(max_length=200, blank=True, editable=False)
    notice_body = models.TextField(blank=True, editable=False)
    notice_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    objects: ClassVar[ChangeManager] = ChangeManager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ChangeStatus.DRAFT) | Q(subprocessor__isnull=False),
                name="published_change_has_subprocessor",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ChangeKind.REPLACEMENT, status=ChangeStatus.PUBLISHED)
                | Q(replaces__isnull=False),
                name="published_replacement_names_replaced",
            ),
        ]

    def __str__(self) -> str:
        who = self.subprocessor or "(no sub-processor yet)"
        if self.kind == ChangeKind.REPLACEMENT and self.replaces:
            return f"Replacement of {self.replaces} by {who}"
        return f"Addition of {who}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.kind == ChangeKind.REPLACEMENT and not self.replaces_id:
            errors["replaces"] = "A replacement must name the sub-processor it replaces."
        if self.kind == ChangeKind.ADDITION and self.replaces_id:
            errors["replaces"] = "An addition replaces nothing; choose Replacement instead."
        if self.replaces_id and self.replaces_id == self.subprocessor_id:
            errors["replaces"] = "A sub-processor cannot replace itself."
        if errors:
            raise ValidationError(errors)

    def set_notice_date(self, notice_date: date) -> None:
        self.notice_date = notice_date
        self.earliest_access_on = deadlines.earliest_access(notice_date)


class SignupStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    ACTIVE = "active", "Active"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class SignupQuerySet(TrackedQuerySet["Signup"]):
    def active(self) -> SignupQuerySet:
        return self.filter(status=SignupStatus.ACTIVE)


SignupManager = models.Manager.from_queryset(SignupQuerySet)


class Signup(TrackedModel):
    """An email address signed up to the Notice Form (S2), with its proof of consent."""

    email = models.EmailField(max_length=254)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="signups"
    )
    status = models.CharField(
        max_length=20, choices=SignupStatus.choices, default=SignupStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    confirm_ip = models.GenericIPAddressField(null=True, blank=True)

    objects: ClassVar[SignupManager] = SignupManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="signup_email_unique"),
            models.CheckConstraint(
                condition=~Q(status=SignupStatus.ACTIVE) | Q(confirmed_at__isnull=False),
                name="active_signup_was_confirmed",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def match_customer(self) -> None:
        """S2: linked to the customer whose domains include the address's domain."""
        self.customer = Customer.objects.for_email(self.email).first()


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class DeliveryQuerySet(TrackedQuerySet["Delivery"]):
    def unsent(self) -> DeliveryQuerySet:
        return self.exclude(status=DeliveryStatus.SENT)


DeliveryManager = models.Manager.from_queryset(DeliveryQuerySet)


class Delivery(TrackedModel):
    """One Notice to one signup: Harmonyze's proof of notice (S6)."""

    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="deliveries")
    signup = models.ForeignKey(Signup, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    # S4: the legal date of delivery + 7 days, per signup.
    objection_deadline = models.DateField(null=True, blank=True, db_index=True)

    objects: ClassVar[DeliveryManager] = DeliveryManager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["change", "signup__email"]
        constraints = [
            models.UniqueConstraint(fields=["change", "signup"], name="one_delivery_per_signup"),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT)
                | Q(sent_at__isnull=False, objection_deadline__isnull=False),
                name="sent_delivery_has_time_and_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change} → {self.signup}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    WITHDRAWN = "withdrawn", "Withdrawn"
    TERMINATED = "terminated", "Ended in termination"


class ObjectionQuerySet(TrackedQuerySet["Objection"]):
    def open(self) -> ObjectionQuerySet:
        return self.filter(status=ObjectionStatus.OPEN)


ObjectionManager = models.Manager.from_queryset(ObjectionQuerySet)


class Objection(TrackedModel):
    """A customer's objection to a change (S4, S5)."""

    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="objections")
    signup = models.ForeignKey(Signup, on_delete=models.PROTECT, related_name="objections")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="objections"
    )
    received_at = models.DateTimeField()
    deadline = models.DateField("In time until", null=True, blank=True)
    in_time = models.BooleanField()
    reason = models.TextField()
    status = models.CharField(
        max_length=20, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    resolution_note = models.TextField(blank=True)

    objects: ClassVar[ObjectionManager] = ObjectionManager()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        who = self.customer or self.signup
        return f"Objection by {who} to {self.change}"
