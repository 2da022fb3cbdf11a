"""Legal holds (DOMAIN.md C9, DPA 9): Customer Personal Data kept because a law requires it."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers import deadlines
from customers.models.accounts import Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet


class HoldRequester(models.TextChoices):
    """Who asked Harmonyze to keep the data."""

    REGULATOR = "regulator", "A regulator or supervisory authority"
    COURT = "court", "A court order"
    LITIGATION = "litigation", "Litigation (pending or reasonably anticipated)"
    LAW_ENFORCEMENT = "law_enforcement", "A law-enforcement or government demand (R4)"
    STATUTE = "statute", "A statutory retention duty"


# The open C9 review, written once: the QuerySet method and the partial index share it.
HOLD_ACTIVE = Q(released_on__isnull=True)


class LegalHoldQuerySet(TrackedQuerySet["LegalHold"]):
    def active(self) -> LegalHoldQuerySet:
        """C9: not yet released (the partial index ``c9_hold_review_open``)."""
        return self.filter(HOLD_ACTIVE)

    def review_open(self) -> LegalHoldQuerySet:
        """C9: an active hold comes up for review on its review date (the dashboard's filter)."""
        return self.active()

    def active_on(self, day: date) -> LegalHoldQuerySet:
        """C9: holds that keep data on ``day`` (see ``deadlines.hold_active_on``)."""
        return self.filter(Q(started_on__lte=day) & (HOLD_ACTIVE | Q(released_on__gt=day)))

    def review_overdue(self, today: date) -> LegalHoldQuerySet:
        return self.review_open().filter(review_on__lt=today)


LegalHoldManager = models.Manager.from_queryset(LegalHoldQuerySet)


class LegalHold(TrackedModel):
    """Customer Personal Data kept beyond the C3 deletion because applicable law requires it
    (C9, DPA 9): why, at whose request, what is kept, and until it is reviewed or released."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="legal_holds", verbose_name="Customer"
    )
    legal_basis = models.CharField(
        "Legal basis",
        max_length=300,
        help_text="The law or order that requires the data to be kept, e.g. "
        "“Litigation hold, Smith v. Acme, S.D.N.Y. 1:26-cv-0142”.",
    )
    requested_by = models.CharField(
        "Who asked", max_length=30, choices=HoldRequester.choices, help_text="Who requires it."
    )
    requester = models.CharField(
        "Requesting body or person",
        max_length=200,
        help_text="The regulator, court, opposing counsel or agency, by name. For a demand "
        "under R4, write “see the demand on file” and leave its details in the demand.",
    )
    data_kept = models.TextField(
        "Data kept",
        help_text="What is kept and where: this is what a certificate of deletion names as "
        "retained (DPA 9).",
    )
    started_on = models.DateField("Hold started on")
    review_on = models.DateField(
        "Review date",
        db_index=True,
        help_text="When counsel next checks that the law still requires the data (C9).",
    )
    released_on = models.DateField(
        "Released on",
        null=True,
        blank=True,
        help_text="From this day the data is no longer held and is deleted (C3).",
    )
    release_reason = models.TextField("Why it was released", blank=True)

    objects: ClassVar[LegalHoldManager] = LegalHoldManager()

    class Meta:
        verbose_name = "legal hold"
        verbose_name_plural = "legal holds"
        ordering = ["released_on", "review_on"]
        indexes = [
            models.Index(fields=["review_on"], condition=HOLD_ACTIVE, name="c9_hold_review_open")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_on__gte=models.F("started_on")),
                name="hold_review_after_start",
                violation_error_message="The review date is before the hold started.",
            ),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | Q(released_on__gte=models.F("started_on")),
                name="hold_released_after_start",
                violation_error_message="A hold cannot be released before it started.",
            ),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | ~Q(release_reason=""),
                name="hold_release_explained",
                violation_error_message="Say why the hold is released: the data it kept is "
                "then deleted (DPA 9).",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold on {self.customer}: {self.legal_basis}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.started_on and self.review_on and self.review_on < self.started_on:
            errors["review_on"] = "The review date is before the hold started."
        if self.released_on and self.started_on and self.released_on < self.started_on:
            errors["released_on"] = "A hold cannot be released before it started."
        if self.released_on and not self.release_reason.strip():
            errors["release_reason"] = (
                "Say why the hold is released: the data it kept is then deleted (DPA 9)."
            )
        if errors:
            raise ValidationError(errors)

    def active_on(self, day: date) -> bool:
        return deadlines.hold_active_on(day, self.started_on, self.released_on)

    @property
    def is_active(self) -> bool:
        return self.released_on is None
