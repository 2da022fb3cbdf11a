"""Instructions (DOMAIN.md C8, DPA 2.2–2.4): the customer's documented instructions beyond the
DPA, Harmonyze's notices about them, and what the customer did in response."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers import deadlines
from customers.models.accounts import Customer
from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import TrackedModel, TrackedQuerySet


class InstructionChannel(models.TextChoices):
    WRITTEN = "written", "In writing (letter, email, signed form)"
    ORDER_FORM = "order_form", "In an Order Form or amendment"
    PLATFORM = "platform", "Through the customer's use of the Harmonyze Platform"


class InstructionQuerySet(TrackedQuerySet["Instruction"]):
    def in_force(self) -> InstructionQuerySet:
        return self.filter(withdrawn_on__isnull=True)


InstructionManager = models.Manager.from_queryset(InstructionQuerySet)


class Instruction(TrackedModel):
    """A documented instruction from the customer that goes beyond the DPA (C8, DPA 2.2)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="instructions", verbose_name="Customer"
    )
    received_on = models.DateField("Received on")
    given_by = models.CharField(
        "Given by", max_length=200, help_text="Who at the customer gave it, with their role."
    )
    channel = models.CharField(
        "How it was given", max_length=20, choices=InstructionChannel.choices
    )
    instruction = models.TextField(
        "Instruction", help_text="What the customer instructs Harmonyze to do, as documented."
    )
    withdrawn_on = models.DateField(
        "Withdrawn or superseded on",
        null=True,
        blank=True,
        help_text="When the customer withdrew or replaced it.",
    )

    objects: ClassVar[InstructionManager] = InstructionManager()

    class Meta:
        verbose_name = "documented instruction"
        verbose_name_plural = "documented instructions"
        ordering = ["customer", "-received_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True)
                | Q(withdrawn_on__gte=models.F("received_on")),
                name="instruction_withdrawn_after_received",
                violation_error_message="An instruction cannot be withdrawn before it was given.",
            )
        ]

    def __str__(self) -> str:
        summary = self.instruction if len(self.instruction) <= 60 else self.instruction[:59] + "…"
        return f"{self.customer}: {summary}"


class NoticeKind(models.TextChoices):
    INFRINGEMENT = "infringement", "Instruction infringes data protection law (DPA 2.3)"
    CANNOT_COMPLY = "cannot_comply", "Applicable law precludes complying (DPA 2.3)"
    CANNOT_MEET_OBLIGATIONS = (
        "cannot_meet_obligations",
        "Harmonyze cannot meet its obligations (DPA 2.4)",
    )


# The open C8 notice, written once: the QuerySet method and the partial index share it.
NOTICE_UNSENT = Q(sent_at__isnull=True)


class InstructionNoticeQuerySet(TrackedQuerySet["InstructionNotice"]):
    def unsent(self) -> InstructionNoticeQuerySet:
        """C8: a notice still to be sent (the partial index ``c8_notice_unsent``)."""
        return self.filter(NOTICE_UNSENT)

    def overdue(self, today: date) -> InstructionNoticeQuerySet:
        return self.unsent().filter(due_on__lt=today)


InstructionNoticeManager = models.Manager.from_queryset(InstructionNoticeQuerySet)


class InstructionNotice(TrackedModel):
    """Harmonyze's notice to the customer that an instruction infringes the Data Protection
    Laws, that the law precludes complying with it (DPA 2.3), or that Harmonyze can no longer
    meet its obligations (DPA 2.4). Due the legal day it is identified (C8)."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="instruction_notices",
        verbose_name="Customer",
    )
    instruction = models.ForeignKey(
        Instruction,
        on_delete=models.PROTECT,
        related_name="notices",
        null=True,
        blank=True,
        verbose_name="Instruction",
        help_text="The instruction concerned (required for DPA 2.3 notices).",
    )
    kind = models.CharField("Notice", max_length=30, choices=NoticeKind.choices)
    identified_at = models.DateTimeField(
        "Harmonyze identified it at",
        help_text="When Harmonyze formed the opinion or made the determination: the notice is "
        "due that same legal day (New York time).",
    )
    reasons = models.TextField(
        "Harmonyze's reasons", help_text="Why the instruction infringes, or what cannot be met."
    )
    # The legal date of identified_at (customers.deadlines), stored so "due" is one filter.
    due_on = models.DateField("Notice due", db_index=True, editable=False)
    subject = models.CharField("Subject", max_length=200, blank=True)
    body = models.TextField(
        "Text of the notice", blank=True, help_text="Drafted from the template when sent."
    )
    sent_at = models.DateTimeField("Sent at", null=True, blank=True, editable=False)
    sent_to = models.TextField("Sent to", blank=True, editable=False)
    message_id = models.CharField("Message-ID", max_length=255, blank=True, editable=False)

    objects: ClassVar[InstructionNoticeManager] = InstructionNoticeManager()

    class Meta:
        verbose_name = "notice about instructions"
        verbose_name_plural = "notices about instructions"
        ordering = ["-identified_at"]
        indexes = [
            models.Index(fields=["due_on"], condition=NOTICE_UNSENT, name="c8_notice_unsent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=NoticeKind.CANNOT_MEET_OBLIGATIONS) | Q(instruction__isnull=False),
                name="instruction_notice_names_instruction",
                violation_error_message="A DPA 2.3 notice names the instruction it is about.",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(sent_at__gte=models.F("identified_at")),
                name="instruction_notice_sent_after_identified",
                violation_error_message="A notice cannot be sent before the issue was identified.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.customer}"

    def clean(self) -> None:
        super().clean()
        if self.identified_at and self.identified_at > timezone.now():
            # The send would then come "before" it and the database refuse to record it.
            raise ValidationError({"identified_at": "This time is still in the future."})
        if self.kind != NoticeKind.CANNOT_MEET_OBLIGATIONS and self.instruction_id is None:
            raise ValidationError(
                {"instruction": "A DPA 2.3 notice names the instruction it is about."}
            )
        instruction = self.instruction if self.instruction_id else None
        if instruction is not None and self.customer_id != instruction.customer_id:
            raise ValidationError({"instruction": "This instruction is another customer's."})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.due_on = deadlines.instruction_notice_due(self.identified_at, _tz())
        super().save(*args, **kwargs)

    @property
    def is_late(self) -> bool:
        """C8: sent on a later legal day than identified (DPA 2.3: "immediately")."""
        return deadlines.instruction_notice_late(self.identified_at, self.sent_at, _tz())

    def overdue(self, today: date) -> bool:
        return self.sent_at is None and self.due_on < today


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class ResponseKind(models.TextChoices):
    WITHDRAWN = "withdrawn", "Withdrew the instruction"
    AMENDED = "amended", "Amended the instruction"
    MAINTAINED = "maintained", "Maintained the instruction"
    REMEDIATION = "remediation", "Took steps to remediate (DPA 2.2)"
    AUDIT = "audit", "Exercised its audit rights (DPA 2.4)"
    SUSPENDED = "suspended", "Suspended the processing"
    TERMINATED = "terminated", "Terminated the Agreement"


class InstructionResponse(TrackedModel):
    """What the customer did after a notice: its response or remediation steps (C8)."""

    notice = models.ForeignKey(
        InstructionNotice,
        on_delete=models.CASCADE,
        related_name="responses",
        verbose_name="Notice",
    )
    received_on = models.DateField("Received or taken on")
    kind = models.CharField("Response", max_length=20, choices=ResponseKind.choices)
    description = models.TextField(
        "What the customer did", help_text="As the customer described it, with any reference."
    )

    class Meta:
        verbose_name = "customer's response to a notice"
        verbose_name_plural = "customers' responses to notices"
        ordering = ["notice", "received_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.received_on}"

    def clean(self) -> None:
        super().clean()
        notice = self.notice if self.notice_id else None
        if notice is None or self.received_on is None or notice.identified_at is None:
            return
        if self.received_on < deadlines.instruction_notice_due(notice.identified_at, _tz()):
            raise ValidationError(
                {"received_on": "A response cannot come before the issue was identified."}
            )


def late_by(notice: InstructionNotice) -> int | None:
    """Whole legal days a sent notice came after its due day, or None when on time."""
    if notice.sent_at is None or not notice.is_late:
        return None
    sent: datetime = notice.sent_at
    return (legal_date(sent, _tz()) - notice.due_on).days
