from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers import deadlines
from customers.models.accounts import Customer
from harmonyze_portal.dates import Computation
from harmonyze_portal.history import TrackedModel, TrackedQuerySet


class BreachStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    CLOSED = "closed", "Closed"


class Breach(TrackedModel):
    """A Personal Data Breach affecting Customer Personal Data (C5, DPA 7)."""

    title = models.CharField(
        "Title", max_length=200, help_text="A short name the team will recognise."
    )
    aware_at = models.DateTimeField(
        "Harmonyze became aware at",
        help_text="Starts the notice target for every affected customer (C5).",
    )
    description = models.TextField(
        "What happened", help_text="Quoted in the notices to affected customers."
    )
    data_categories = models.TextField(
        "Categories of data affected", help_text="Quoted in the notices to affected customers."
    )
    status = models.CharField(
        "Status",
        max_length=20,
        choices=BreachStatus.choices,
        default=BreachStatus.INVESTIGATING,
    )
    customers = models.ManyToManyField(
        Customer,
        through="BreachNotice",
        related_name="breaches",
        blank=True,
        verbose_name="affected customers",
    )

    class Meta:
        verbose_name = "personal data breach"
        verbose_name_plural = "personal data breaches"
        ordering = ["-aware_at"]
        indexes = [
            # The changelist's order, whole and by status: a page is an index range (issue 16,
            # P5); Django's admin adds -pk unless the order is already total.
            models.Index(fields=["aware_at", "id"], name="breach_list_order"),
            models.Index(fields=["status", "aware_at", "id"], name="breach_list_by_status"),
        ]

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
    """One affected customer of a breach, and when it was first notified (C5).

    The notices themselves (first notice, updates, closing notice) are
    :class:`customers.models.breach_log.BreachMessage` rows; ``notified_at`` and
    ``notified_to`` are the first notice's, copied when it is sent, so the 72-hour target is
    judged on it and the pending filter stays one indexed column.
    """

    breach = models.ForeignKey(
        Breach,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name="breach",
        help_text="The breach that affects this customer's personal data.",
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="breach_notices",
        verbose_name="customer",
        help_text="A customer whose Customer Personal Data the breach affects.",
    )
    # aware_at + the target (BREACH_NOTICE_TARGET_HOURS), stored when the customer is added.
    notice_due_at = models.DateTimeField(
        "Notice target", db_index=True, editable=False, help_text="Awareness + the target (C5)."
    )
    notified_at = models.DateTimeField(
        "First notified at",
        null=True,
        blank=True,
        help_text="When the first notice was sent; judged against the target (C5).",
    )
    notified_to = models.TextField(
        "First notified to", blank=True, help_text="Addresses, one per line."
    )
    message_id = models.CharField("Message-ID", max_length=255, blank=True, editable=False)

    objects: ClassVar[BreachNoticeManager] = BreachNoticeManager()

    class Meta:
        verbose_name = "affected customer"
        verbose_name_plural = "affected customers"
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
        if self.pk is not None:
            # The first notice sent is the source of truth for "notified" (C5): an edit here
            # cannot make the customer look notified earlier, or to someone else.
            first = self.messages.filter(kind="first", sent_at__isnull=False).first()
            if first is not None:
                self.notified_at = first.sent_at
                self.notified_to = first.sent_to
                self.message_id = first.message_id
        super().save(*args, **kwargs)

    def deadline_lines(self) -> list[Computation]:
        """T5: how the C5 target was computed, for the change page."""
        if self.notice_due_at is None or self.breach_id is None:
            return []
        zone = ZoneInfo(settings.TIME_ZONE)
        return [
            deadlines.breach_notice_due_explained(self.breach.aware_at, self.notice_due_at, zone)
        ]

    @property
    def is_late(self) -> bool:
        return self.notified_at is not None and self.notified_at > self.notice_due_at

    def hours_left(self, now: datetime) -> float | None:
        """Hours until the target for a pending notice (negative once overdue)."""
        if self.notified_at is not None:
            return None
        return (self.notice_due_at - now).total_seconds() / 3600
