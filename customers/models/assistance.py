from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers import deadlines
from customers.models.accounts import Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet


class AssistanceKind(models.TextChoices):
    DPIA = "dpia", "DPIA / prior consultation (DPA 8)"
    BREACH = "breach", "Breach notification assistance (DPA 7)"
    SUBPROCESSOR_AGREEMENTS = (
        "subprocessor_agreements",
        "Copies of sub-processor agreements (DPA 5.3)",
    )
    DELETION_CERTIFICATE = "deletion_certificate", "Certificate of deletion (DPA 9)"


class AssistanceStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DECLINED = "declined", "Declined"


ASSISTANCE_OPEN = Q(status__in=[AssistanceStatus.OPEN, AssistanceStatus.IN_PROGRESS])


class AssistanceQuerySet(TrackedQuerySet["AssistanceRequest"]):
    def open(self) -> AssistanceQuerySet:
        """C6: requests still being worked on (the partial index ``c6_assistance_open``)."""
        return self.filter(ASSISTANCE_OPEN)

    def overdue(self, today: date) -> AssistanceQuerySet:
        return self.open().filter(due_on__lt=today)


AssistanceManager = models.Manager.from_queryset(AssistanceQuerySet)


class AssistanceRequest(TrackedModel):
    """A customer's request for Harmonyze's assistance (C6)."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="assistance_requests",
        verbose_name="Customer",
    )
    kind = models.CharField(
        max_length=30, choices=AssistanceKind.choices, verbose_name="Kind of assistance"
    )
    received_on = models.DateField(verbose_name="Received on")
    in_writing = models.BooleanField(
        "Received in writing",
        default=True,
        help_text="Copies of sub-processor agreements are given on written request only.",
    )
    # received_on + ASSISTANCE_TARGET_DAYS, stored when the request is recorded.
    due_on = models.DateField(db_index=True, editable=False, verbose_name="Due on")
    status = models.CharField(
        max_length=20,
        choices=AssistanceStatus.choices,
        default=AssistanceStatus.OPEN,
        verbose_name="Status",
    )
    summary = models.TextField(blank=True, verbose_name="Summary")
    outcome = models.TextField(blank=True, verbose_name="Outcome")
    completed_on = models.DateField(null=True, blank=True, verbose_name="Completed on")

    objects: ClassVar[AssistanceManager] = AssistanceManager()

    class Meta:
        verbose_name = "assistance request"
        verbose_name_plural = "assistance requests"
        ordering = ["due_on"]
        indexes = [
            # The changelist's order, whole and by status: a page is an index range (issue 16,
            # P5); Django's admin adds -pk unless the order is already total.
            models.Index(fields=["due_on", "-id"], name="assistance_list_order"),
            models.Index(fields=["status", "due_on", "-id"], name="assistance_list_by_status"),
            models.Index(fields=["due_on"], condition=ASSISTANCE_OPEN, name="c6_assistance_open"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=AssistanceKind.SUBPROCESSOR_AGREEMENTS) | Q(in_writing=True),
                name="subprocessor_agreements_in_writing",
                violation_error_message="Copies of sub-processor agreements are given on written "
                "request only (DPA 5.3).",
            ),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True)
                | Q(completed_on__gte=models.F("received_on")),
                name="assistance_completed_after_received",
                violation_error_message="Completion cannot be before the request was received.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.customer}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.due_on = deadlines.assistance_due(self.received_on, settings.ASSISTANCE_TARGET_DAYS)
        super().save(*args, **kwargs)


class ProhibitedCategory(models.TextChoices):
    PHI = "phi", "Protected health information"
    FINANCIAL_ACCOUNT = "financial_account", "Financial account numbers"
    GOVERNMENT_ID = "government_id", "Government ID numbers"
    SPECIAL_CATEGORY = "special_category", "GDPR special-category data"
    MINOR = "minor", "Personal data of a minor (under 18)"
    OTHER = "other", "Other prohibited data"


# C7: a finding stays open until its deletion is confirmed or it is closed as authorised by the
# customer's Order Form (PP 7: "unless authorized in an applicable Order Form").
FINDING_OPEN = Q(deletion_confirmed_on__isnull=True, authorised_on__isnull=True)


class FindingQuerySet(TrackedQuerySet["ProhibitedDataFinding"]):
    def open(self) -> FindingQuerySet:
        """C7: neither confirmed deleted nor closed as authorised by an Order Form (the
        partial index ``c7_finding_open``)."""
        return self.filter(FINDING_OPEN)

    def authorised(self) -> FindingQuerySet:
        return self.filter(authorised_on__isnull=False)


FindingManager = models.Manager.from_queryset(FindingQuerySet)


class ProhibitedDataFinding(TrackedModel):
    """Prohibited Data found in the Services, tracked until its deletion is confirmed (C7)."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="prohibited_findings",
        null=True,
        blank=True,
        verbose_name="customer",
        help_text="The customer whose account holds the data, when known.",
    )
    category = models.CharField(
        "Category of data", max_length=30, choices=ProhibitedCategory.choices
    )
    location = models.TextField("Where it was found")
    learned_on = models.DateField("Harmonyze learned of it on")
    deletion_confirmed_on = models.DateField(
        "Deletion confirmed on",
        null=True,
        blank=True,
        help_text="Closes the finding (PP 7: Harmonyze deletes the data).",
    )
    authorised_on = models.DateField(
        "Closed as authorised on",
        null=True,
        blank=True,
        help_text="Instead of deletion: the customer's Order Form authorises this data (PP 7).",
    )
    order_form_reference = models.CharField(
        "Order Form reference",
        max_length=200,
        blank=True,
        help_text="The Order Form that authorises the data (number, date, or title); required "
        "when the finding is closed as authorised.",
    )
    notes = models.TextField("Notes", blank=True)

    objects: ClassVar[FindingManager] = FindingManager()

    class Meta:
        verbose_name = "prohibited data finding"
        verbose_name_plural = "prohibited data findings"
        ordering = ["deletion_confirmed_on", "-learned_on"]
        indexes = [
            models.Index(fields=["learned_on"], condition=FINDING_OPEN, name="c7_finding_open")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deletion_confirmed_on__isnull=True)
                | Q(deletion_confirmed_on__gte=models.F("learned_on")),
                name="finding_deleted_after_learned",
                violation_error_message=(
                    "Deletion cannot be confirmed before the finding was learned."
                ),
            ),
            models.CheckConstraint(
                condition=Q(authorised_on__isnull=True)
                | (
                    ~Q(order_form_reference="")
                    & Q(customer__isnull=False)
                    & Q(authorised_on__gte=models.F("learned_on"))
                ),
                name="c7_authorised_cites_order_form",
                violation_error_message="A finding closed as authorised names the customer and "
                "cites its Order Form, on or after the day it was learned (PP 7).",
            ),
            models.CheckConstraint(
                condition=Q(authorised_on__isnull=True) | Q(deletion_confirmed_on__isnull=True),
                name="c7_deleted_or_authorised",
                violation_error_message="A finding is closed either by confirmed deletion or as "
                "authorised by the Order Form, not both (C7).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} – learned {self.learned_on}"

    def clean(self) -> None:
        super().clean()
        # The constraint's message covers three conditions; say which one is missing.
        if self.authorised_on is None:
            return
        errors = {}
        if not self.order_form_reference.strip():
            errors["order_form_reference"] = (
                "Cite the customer's Order Form that authorises this data (PP 7)."
            )
        if self.customer_id is None:
            errors["customer"] = "Only a customer's Order Form can authorise the data (PP 7)."
        if errors:
            raise ValidationError(errors)
