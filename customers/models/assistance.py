from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.conf import settings
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
            models.Index(fields=["due_on"], condition=ASSISTANCE_OPEN, name="c6_assistance_open")
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


FINDING_OPEN = Q(deletion_confirmed_on__isnull=True)


class FindingQuerySet(TrackedQuerySet["ProhibitedDataFinding"]):
    def open(self) -> FindingQuerySet:
        """C7: found and not yet confirmed deleted (the partial index ``c7_finding_open``)."""
        return self.filter(FINDING_OPEN)


FindingManager = models.Manager.from_queryset(FindingQuerySet)


class ProhibitedDataFinding(TrackedModel):
    """Prohibited Data found in the Services, tracked until its deletion is confirmed (C7)."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="prohibited_findings",
        null=True,
        blank=True,
        verbose_name="Customer",
    )
    category = models.CharField(
        max_length=30, choices=ProhibitedCategory.choices, verbose_name="Category of data"
    )
    location = models.TextField("Where it was found")
    learned_on = models.DateField("Harmonyze learned of it on")
    deletion_confirmed_on = models.DateField(
        null=True, blank=True, verbose_name="Deletion confirmed on"
    )
    notes = models.TextField(blank=True, verbose_name="Notes")

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
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} – learned {self.learned_on}"
