from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers import deadlines
from customers.models.accounts import Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet


class BreachStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    CLOSED = "closed", "Closed"


class Breach(TrackedModel):
    """A Personal Data Breach affecting Customer Personal Data (C5, DPA 7)."""

    title = models.CharField(max_length=200, verbose_name="Title")
    aware_at = models.DateTimeField("Harmonyze became aware at")
    description = models.TextField(verbose_name="Description")
    data_categories = models.TextField("Categories of data affected")
    status = models.CharField(
        max_length=20,
        choices=BreachStatus.choices,
        default=BreachStatus.INVESTIGATING,
        verbose_name="Status",
    )
    customers = models.ManyToManyField(
        Customer,
        through="BreachNotice",
        related_name="breaches",
        blank=True,
        verbose_name="Customers affected",
    )

    class Meta:
        verbose_name = "breach"
        verbose_name_plural = "breaches"
        ordering = ["-aware_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # A corrected awareness time moves every customer's target (C5).
        for notice in self.notices.all():
            due = deadlines.breach_notice_due(self.aware_at, settings.BREACH_NOTICE_TARGET_HOURS)
            if notice.notice_due_at != due:
                notice.save()


NOTICE_PENDING = Q(notified_at__isnull=True)


class BreachNoticeQuerySet(TrackedQuerySet["BreachNotice"]):
    def pending(self) -> BreachNoticeQuerySet:
        """C5: the customer is still to be notified (the partial index ``c5_notice_pending``)."""
        return self.filter(NOTICE_PENDING)

    def late(self) -> BreachNoticeQuerySet:
        return self.filter(
            Q(notified_at__gt=models.F("notice_due_at"))
            | (NOTICE_PENDING & Q(notice_due_at__lt=models.functions.Now()))
        )


BreachNoticeManager = models.Manager.from_queryset(BreachNoticeQuerySet)


class BreachNotice(TrackedModel):
    """One affected customer of a breach, and when and to whom it was notified (C5)."""

    breach = models.ForeignKey(
        Breach, on_delete=models.CASCADE, related_name="notices", verbose_name="Breach"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="breach_notices", verbose_name="Customer"
    )
    # aware_at + the target (BREACH_NOTICE_TARGET_HOURS), stored when the customer is added.
    notice_due_at = models.DateTimeField(
        db_index=True, editable=False, verbose_name="Notice due by"
    )
    notified_at = models.DateTimeField(null=True, blank=True, verbose_name="Notified at")
    notified_to = models.TextField("Notified to", blank=True, help_text="Addresses, one per line.")
    message_id = models.CharField(
        max_length=255, blank=True, editable=False, verbose_name="Email Message-ID"
    )

    objects: ClassVar[BreachNoticeManager] = BreachNoticeManager()

    class Meta:
        verbose_name = "breach notice"
        verbose_name_plural = "breach notices"
        ordering = ["breach", "customer"]
        indexes = [
            models.Index(
                fields=["notice_due_at"], condition=NOTICE_PENDING, name="c5_notice_pending"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["breach", "customer"], name="one_notice_per_customer")
        ]

    def __str__(self) -> str:
        return f"{self.breach} → {self.customer}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.notice_due_at = deadlines.breach_notice_due(
            self.breach.aware_at, settings.BREACH_NOTICE_TARGET_HOURS
        )
        super().save(*args, **kwargs)

    @property
    def is_late(self) -> bool:
        return self.notified_at is not None and self.notified_at > self.notice_due_at

    def hours_left(self, now: datetime) -> float | None:
        """Hours until the target for a pending notice (negative once overdue)."""
        if self.notified_at is not None:
            return None
        return (self.notice_due_at - now).total_seconds() / 3600
