"""What Harmonyze told each affected customer of a breach, and what it did about it (C5, DPA 7).

A customer may receive several notices about one breach: the first notice, updates, and a
closing notice. Each is a :class:`BreachMessage`, kept with its exact text, when it was sent
and to whom. The steps taken to remediate the breach are :class:`BreachRemediation` rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers.models.breaches import Breach, BreachNotice
from harmonyze_portal.history import TrackedModel, TrackedQuerySet

# DPA 7: "Harmonize's notice of or response to a Personal Data Breach under this Section 7 will
# not be an acknowledgement or admission by Harmonize of any fault or liability". Every notice
# carries this sentence; the database refuses a notice without NO_FAULT_PHRASE in its text.
NO_FAULT_STATEMENT = (
    "This notice is not an acknowledgement or admission by Harmonyze of any fault or liability "
    "with respect to the Personal Data Breach (section 7 of the Data Processing Addendum)."
)
NO_FAULT_PHRASE = "not an acknowledgement or admission by Harmonyze of any fault or liability"
NO_FAULT_MISSING = (
    "Every breach notice states that it is not an acknowledgement or admission of fault or "
    f'liability (DPA 7): include "{NO_FAULT_PHRASE}".'
)


def with_no_fault_statement(body: str) -> str:
    """The body as sent: the DPA 7 statement is added at the end when the text lacks it."""
    if NO_FAULT_PHRASE in body:
        return body
    return f"{body.rstrip()}\n\n{NO_FAULT_STATEMENT}\n"


class NoticeKind(models.TextChoices):
    FIRST = "first", "First notice"
    UPDATE = "update", "Update"
    CLOSING = "closing", "Closing notice"


MESSAGE_UNSENT = Q(sent_at__isnull=True)


class BreachMessageQuerySet(TrackedQuerySet["BreachMessage"]):
    def unsent(self) -> BreachMessageQuerySet:
        """Queued and not yet sent (the partial index ``c5_message_unsent``)."""
        return self.filter(MESSAGE_UNSENT)

    def sent(self) -> BreachMessageQuerySet:
        return self.exclude(MESSAGE_UNSENT)


BreachMessageManager = models.Manager.from_queryset(BreachMessageQuerySet)


class BreachMessage(TrackedModel):
    """One notice to one affected customer about a breach (C5, DPA 7): its kind, its exact
    text, and when and to whom it was sent. The first notice's sending time is judged
    against the target; updates and the closing notice follow it."""

    affected = models.ForeignKey(
        BreachNotice,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name="affected customer",
        help_text="The breach and the customer this notice goes to.",
    )
    kind = models.CharField(
        "Kind of notice",
        max_length=20,
        choices=NoticeKind.choices,
        help_text="One first notice and at most one closing notice per customer; any updates.",
    )
    subject = models.CharField("Subject", max_length=200)
    body = models.TextField(
        "Text of the notice",
        help_text="As sent. It must say that the notice is not an acknowledgement of fault or "
        "liability (DPA 7).",
    )
    queued_at = models.DateTimeField(
        "Queued at", auto_now_add=True, help_text="When the notice was handed to the mail queue."
    )
    sent_at = models.DateTimeField(
        "Sent at",
        null=True,
        blank=True,
        db_index=True,
        help_text="When the mail server accepted it, or when it was given outside the portal.",
    )
    sent_to = models.TextField("Sent to", blank=True, help_text="Addresses, one per line.")
    message_id = models.CharField("Message-ID", max_length=255, blank=True, editable=False)
    # Set only by the migration that turned each earlier "notified at" into a first notice:
    # the portal did not keep notice texts then, so the text cannot be shown to disclaim fault.
    from_upgrade = models.BooleanField(
        "Recorded at the upgrade",
        default=False,
        editable=False,
        help_text="A notice sent before the portal kept notice texts; its text was not kept.",
    )

    objects: ClassVar[BreachMessageManager] = BreachMessageManager()

    class Meta:
        verbose_name = "breach notice"
        verbose_name_plural = "breach notices"
        ordering = ["affected", "queued_at", "pk"]
        indexes = [
            models.Index(fields=["queued_at"], condition=MESSAGE_UNSENT, name="c5_message_unsent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(body__contains=NO_FAULT_PHRASE) | Q(from_upgrade=True),
                name="c5_notice_disclaims_fault",
                violation_error_message=NO_FAULT_MISSING,
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | ~Q(sent_to=""),
                name="c5_sent_notice_names_recipients",
                violation_error_message="A sent notice names who it was sent to (C5).",
            ),
            models.UniqueConstraint(
                fields=["affected"],
                condition=Q(kind=NoticeKind.FIRST),
                name="c5_one_first_notice",
                violation_error_message="This customer already has a first notice for this "
                "breach; send an update instead.",
            ),
            models.UniqueConstraint(
                fields=["affected"],
                condition=Q(kind=NoticeKind.CLOSING),
                name="c5_one_closing_notice",
                violation_error_message="This customer already has a closing notice for this "
                "breach.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.affected}"

    def clean(self) -> None:
        super().clean()
        if not self.from_upgrade and NO_FAULT_PHRASE not in self.body:
            # The check constraint holds this too, but a form that leaves out ``from_upgrade``
            # skips it: say it here, on the field.
            raise ValidationError({"body": NO_FAULT_MISSING})
        if self.affected_id is None:
            return
        others = BreachMessage.objects.filter(affected_id=self.affected_id).exclude(pk=self.pk)
        if self.kind != NoticeKind.FIRST and not others.filter(kind=NoticeKind.FIRST).exists():
            raise ValidationError(
                {"kind": "Send the first notice before an update or a closing notice (C5)."}
            )
        aware_at = self.affected.breach.aware_at
        if self.sent_at is not None and self.sent_at < aware_at:
            raise ValidationError(
                {"sent_at": "A notice cannot be sent before Harmonyze became aware of the breach."}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        if self.kind == NoticeKind.FIRST and self.sent_at is not None:
            # C5: the target is judged on the first notice, so the affected-customer row
            # carries its time and recipients (and leaves the pending index).
            affected = self.affected
            if (affected.notified_at, affected.notified_to, affected.message_id) != (
                self.sent_at,
                self.sent_to,
                self.message_id,
            ):
                affected.notified_at = self.sent_at
                affected.notified_to = self.sent_to
                affected.message_id = self.message_id
                affected.save()

    @property
    def is_late(self) -> bool:
        """Only the first notice has a target (C5)."""
        return (
            self.kind == NoticeKind.FIRST
            and self.sent_at is not None
            and self.sent_at > self.affected.notice_due_at
        )


class RemediationQuerySet(TrackedQuerySet["BreachRemediation"]):
    pass


RemediationManager = models.Manager.from_queryset(RemediationQuerySet)


class BreachRemediation(TrackedModel):
    """A step Harmonyze took to remediate a breach (C5, DPA 7: "promptly take measures
    designed to remediate the Personal Data Breach"): what, when, by whom."""

    breach = models.ForeignKey(
        Breach,
        on_delete=models.CASCADE,
        related_name="remediation_steps",
        verbose_name="breach",
        help_text="The breach this step remediates.",
    )
    taken_at = models.DateTimeField("Taken at", db_index=True, help_text="When the step was taken.")
    action = models.TextField("What was done", help_text="The measure taken, in plain words.")
    taken_by = models.CharField(
        "Taken by", max_length=200, help_text="The person or team who took the step."
    )

    objects: ClassVar[RemediationManager] = RemediationManager()

    class Meta:
        verbose_name = "remediation step"
        verbose_name_plural = "remediation steps"
        ordering = ["breach", "taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action="") & ~Q(taken_by=""),
                name="c5_remediation_says_what_and_who",
                violation_error_message="A remediation step says what was done and by whom "
                "(C5, DPA 7).",
            )
        ]

    def __str__(self) -> str:
        first_line = self.action.strip().splitlines()[0] if self.action.strip() else ""
        return f"{self.breach}: {first_line[:80]}"
