from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from simple_history import register

from harmonyze_portal.history import (
    HistoryActorFields,
    LabelledHistoryManager,
    TrackedHistoricalRecords,
    TrackedModel,
    TrackedQuerySet,
)
from harmonyze_portal.uploads import PrivateUploadPath


class PublicHolidayQuerySet(TrackedQuerySet["PublicHoliday"]):
    def between(self, start: date, end: date) -> set[date]:
        return set(self.filter(date__range=(start, end)).values_list("date", flat=True))


PublicHolidayManager = models.Manager.from_queryset(PublicHolidayQuerySet)


class PublicHoliday(TrackedModel):
    """A closure day staff add (DOMAIN.md T4): a day on which statutory deadlines do not end,
    for every regime, on top of each regime's own calendar from the ``holidays`` library.
    Adding, moving or removing one recomputes the open deadlines it touches (the requests area
    listens for it).

    Contractual DPA deadlines ignore it (T2, T3).
    """

    date = models.DateField(unique=True, verbose_name="Date")
    name = models.CharField(max_length=120, verbose_name="Name")

    objects: ClassVar[PublicHolidayManager] = PublicHolidayManager()

    class Meta:
        verbose_name = "public holiday"
        verbose_name_plural = "public holidays"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(TrackedModel):
    """A staff member's personal calendar subscription (``/staff/calendar.ics?token=…``).

    The token is the only credential of the feed (calendar apps carry no session), so only its
    SHA-256 is stored: the history and its exports, which other staff may read, never hold a
    usable feed URL. Revoking keeps the row (the old token keeps answering 404); a new feed is
    a new row. At most one unrevoked feed per user.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="calendar_feeds",
        verbose_name="Staff member",
    )
    token_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name="Token (hash)"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="Created at")
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name="Revoked at")

    class Meta:
        verbose_name = "calendar feed"
        verbose_name_plural = "calendar feeds"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_calendar_feed_per_user",
            )
        ]

    @classmethod
    def issue(cls, user: Any) -> tuple[CalendarFeed, str]:
        """A new feed for ``user`` and its token, which is shown once and not stored."""
        token = secrets.token_urlsafe(32)
        feed = cls(user=user, token_hash=feed_token_hash(token))
        feed.save()
        return feed, token

    @classmethod
    def active_user(cls, token: str) -> Any:
        """The active staff user whose unrevoked feed has this token, or None."""
        feed = (
            cls.objects.select_related("user")
            .filter(token_hash=feed_token_hash(token), revoked_at__isnull=True)
            .first()
        )
        if feed is None or not (feed.user.is_active and feed.user.is_staff):
            return None
        return feed.user

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"Calendar feed of {self.user} ({state})"


class StaffPreference(TrackedModel):
    """Per-user settings of a staff member (the daily deadline digest, opt-in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_preference",
        verbose_name="Staff member",
    )
    daily_digest = models.BooleanField(
        default=False,
        help_text="Email me every morning what is overdue and due this week.",
        verbose_name="Daily digest",
    )

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    class Meta:
        verbose_name = "staff preference"
        verbose_name_plural = "staff preferences"


class DigestSent(TrackedModel):
    """One daily digest queued for a user on a legal day: the guard that makes the command
    idempotent (a second run the same day finds the row and sends nothing)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="digests_sent",
        verbose_name="Staff member",
    )
    day = models.DateField(verbose_name="Legal day")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="Sent at")

    class Meta:
        verbose_name = "deadline digest sent"
        verbose_name_plural = "deadline digests sent"
        ordering = ["-day", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_user_and_day")
        ]

    def __str__(self) -> str:
        return f"Digest for {self.user} on {self.day:%Y-%m-%d}"


# Staff accounts are records too (H1): who was given which role, who was deactivated. The
# password hash and the login timestamp are left out of the history on purpose.
register(
    get_user_model(),
    app="harmonyze_portal",
    bases=[HistoryActorFields],
    history_manager=LabelledHistoryManager,
    records_class=TrackedHistoricalRecords,
    excluded_fields=["password", "last_login"],
    m2m_fields=["groups"],
)


class StaffDeletionRefused(PermissionDenied):
    pass


@receiver(pre_delete, sender=get_user_model())
def _refuse_user_deletion(
    sender: type[models.Model], instance: models.Model, **kwargs: object
) -> None:
    # Users are actors in every history row; deleting one would blank the "who" of H1.
    raise StaffDeletionRefused(
        f"Staff account {instance} cannot be deleted; deactivate it instead (is_active = False)."
    )


GENESIS = "0" * 64  # the "previous seal" of a chain's first seal


class HistorySeal(TrackedModel):
    """One link of a history table's hash chain (DOMAIN.md H3): the SHA-256 of the previous
    seal and of every history row of ``history_table`` after the previous seal's ``last_id``
    up to its own, in id order.

    Written only by ``manage.py seal_history`` (:mod:`harmonyze_portal.seals`), never edited.
    The constraints keep each table's chain a line: one seal per number, one successor per seal,
    so two runs at once cannot fork it (the second one's insert is refused).
    """

    history_table = models.CharField(
        "history table",
        max_length=120,
        help_text="The historical model the seal covers, as app.model "
        "(customers.historicalcustomer).",
    )
    number = models.PositiveIntegerField(
        "seal number", help_text="Position in the table's chain, from 1, without gaps."
    )
    first_id = models.BigIntegerField(
        "first history id", help_text="The lowest history id the seal covers."
    )
    last_id = models.BigIntegerField(
        "last history id", help_text="The highest history id the seal covers."
    )
    row_count = models.PositiveIntegerField(
        "history rows", help_text="How many history rows the seal covers."
    )
    previous_sha256 = models.CharField(
        "previous seal (SHA-256)",
        max_length=64,
        help_text="The hash of the table's previous seal; 64 zeros for the first seal.",
    )
    sha256 = models.CharField(
        "seal (SHA-256)",
        max_length=64,
        help_text="SHA-256 over the previous seal and every covered row (README: History seals).",
    )
    sealed_at = models.DateTimeField(
        "sealed at", auto_now_add=True, help_text="When the seal was written (UTC)."
    )

    class Meta:
        verbose_name = "history seal"
        verbose_name_plural = "history seals"
        ordering = ["history_table", "number"]
        constraints = [
            models.UniqueConstraint(fields=["history_table", "number"], name="one_seal_per_number"),
            models.UniqueConstraint(
                fields=["history_table", "previous_sha256"], name="one_successor_per_seal"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1)
                & models.Q(row_count__gte=1)
                & models.Q(first_id__lte=models.F("last_id")),
                name="seal_covers_rows",
                violation_error_message="A seal covers at least one history row (H3).",
            ),
            models.CheckConstraint(
                condition=models.Q(number=1, previous_sha256=GENESIS)
                | (models.Q(number__gt=1) & ~models.Q(previous_sha256=GENESIS)),
                name="only_the_first_seal_starts_a_chain",
                violation_error_message="Only a table's first seal follows no seal (H3).",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Seal {self.number} of {self.history_table} "
            f"(history ids {self.first_id}–{self.last_id})"
        )


class HistoryRedaction(TrackedModel):
    """One history row blanked by a PP 4 purge (:func:`harmonyze_portal.retention.forget`),
    disclosed so that the seals (H3) still verify: the verifier takes ``sealed_sha256`` for a
    row whose text now hashes to ``redacted_sha256``, and counts it as redacted. A row blanked
    without an entry, or changed again after its redaction, still breaks its seal.

    Written in the purge's transaction, never edited; it holds hashes and names, no personal
    data. Its own history is sealed like any other, so an entry slipped in later is caught.
    """

    history_table = models.CharField(
        "history table",
        max_length=120,
        help_text="The historical model of the blanked row, as app.model "
        "(subprocessors.historicalsignup).",
    )
    # Not "history_id": the entry's own history rows have that column.
    row_id = models.BigIntegerField(
        "history id", help_text="The id of the blanked history row in that table."
    )
    sealed_sha256 = models.CharField(
        "row hash before the redaction (SHA-256)",
        max_length=64,
        help_text="The SHA-256 of the row's version text as it was written and sealed.",
    )
    redacted_sha256 = models.CharField(
        "row hash after the redaction (SHA-256)",
        max_length=64,
        help_text="The SHA-256 of the row's version text once its personal data was blanked.",
    )
    redacted_at = models.DateTimeField(
        "redacted at", auto_now_add=True, help_text="When the row was blanked (UTC)."
    )
    job = models.CharField(
        "redacted by", max_length=150, help_text="The job that blanked the row (the purge task)."
    )
    reason = models.CharField(
        "ground for the redaction",
        max_length=200,
        help_text="Why the row was blanked, citing the rule (PP 4).",
    )

    class Meta:
        verbose_name = "history redaction"
        verbose_name_plural = "history redactions"
        ordering = ["history_table", "row_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["history_table", "row_id"], name="one_redaction_per_history_row"
            ),
            models.CheckConstraint(
                condition=~models.Q(sealed_sha256=models.F("redacted_sha256"))
                & ~models.Q(job="")
                & ~models.Q(reason=""),
                name="redaction_changes_the_row_and_says_who_and_why",
                violation_error_message="A redaction changes the row and says who blanked it "
                "and why (H3, PP 4).",
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionDenied("A history redaction is never edited (H3).")
        self.full_clean()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("A history redaction is never deleted (H3).")

    def __str__(self) -> str:
        return f"Redaction of {self.history_table} row {self.row_id}"


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Being built"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


def may_include_law_enforcement(user: Any) -> bool:
    """R6: law-enforcement records are counsel's alone; whoever may view every restricted model
    (counsel, and nobody else by the role matrix) may put them in a pack."""
    from harmonyze_portal.restricted import restricted_models

    if user is None or not getattr(user, "is_active", False):
        return False
    return all(
        user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        for model in restricted_models()
    )


def may_build_evidence_packs(user: Any) -> bool:
    return (
        user is not None
        and getattr(user, "is_active", False)
        and user.has_perm("harmonyze_portal.add_evidencepack")
    )


class EvidencePack(TrackedModel):
    """A ZIP of what the portal holds about one customer for a period (DOMAIN.md H2, H3; issue
    17): the summary PDF, the documents, a CSV per section and a manifest of SHA-256 hashes.

    Built by a task (:mod:`harmonyze_portal.evidence`); the row records who asked, for what and
    how far the build got. Law-enforcement records (R6) go in only when counsel ticks the box.
    """

    customer = models.ForeignKey(
        settings.PORTAL_CUSTOMER_MODEL,
        on_delete=models.PROTECT,
        related_name="evidence_packs",
        verbose_name="customer",
        help_text="The customer whose records the pack holds.",
    )
    period_start = models.DateField(
        "period from", help_text="First legal day of the period (included)."
    )
    period_end = models.DateField("period to", help_text="Last legal day of the period (included).")
    include_law_enforcement = models.BooleanField(
        "include law-enforcement demands",
        default=False,
        help_text="R6: counsel only. Demands and their customer notices go in the pack only "
        "when ticked; every demand included is logged.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="requested by",
        help_text="The staff member who asked for the pack (H1).",
    )
    status = models.CharField(
        "status",
        max_length=10,
        choices=PackStatus.choices,
        default=PackStatus.QUEUED,
        help_text="Queued, being built, ready or failed.",
    )
    progress = models.PositiveSmallIntegerField(
        "progress (%)", default=0, help_text="How far the build has got, in percent."
    )
    file = models.FileField(
        "evidence pack (ZIP)",
        upload_to=PrivateUploadPath("evidence-packs"),
        blank=True,
        help_text="The ZIP, served to signed-in staff only.",
    )
    sha256 = models.CharField(
        "ZIP file (SHA-256)",
        max_length=64,
        blank=True,
        help_text="SHA-256 of the whole ZIP file, for whoever receives it.",
    )
    error = models.TextField(
        "why the build failed", blank=True, help_text="Set when the build failed."
    )
    requested_at = models.DateTimeField(
        "requested at", auto_now_add=True, help_text="When the pack was asked for (UTC)."
    )
    built_at = models.DateTimeField(
        "built at", null=True, blank=True, help_text="When the ZIP was finished (UTC)."
    )

    class Meta:
        verbose_name = "evidence pack"
        verbose_name_plural = "evidence packs"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end"))
                & models.Q(period_end__lt=date.max),
                name="evidence_pack_period_in_order",
                violation_error_message="The period of an evidence pack ends on or after the "
                "day it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100),
                name="evidence_pack_progress_percent",
                violation_error_message="Progress is a percentage (0 to 100).",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | (~models.Q(file="") & ~models.Q(sha256="")),
                name="ready_evidence_pack_has_its_file",
                violation_error_message="A ready evidence pack has its ZIP and the ZIP's SHA-256.",
            ),
        ]

    def __str__(self) -> str:
        return f"Evidence pack: {self.customer} {self.period_start} – {self.period_end}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.period_start and self.period_end and self.period_start > self.period_end:
            errors["period_end"] = (
                f"The period ends ({self.period_end:%d %b %Y}) before it starts "
                f"({self.period_start:%d %b %Y}): give the last day on or after the first."
            )
        if self.period_end and self.period_end >= date.max:
            errors["period_end"] = f"Give a last day before {date.max:%d %b %Y}."
        if self.include_law_enforcement and not may_include_law_enforcement(
            self.requested_by if self.requested_by_id else None
        ):
            errors["include_law_enforcement"] = (
                "Only privacy counsel may include law-enforcement demands in a pack (R6)."
            )
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Who may ask, and R6, hold on every write path (command, task, shell), not only in
        # the admin form. Asking is checked once, when the pack is asked for.
        if self._state.adding and not may_build_evidence_packs(
            self.requested_by if self.requested_by_id else None
        ):
            raise PermissionDenied("Only counsel and analysts may build evidence packs.")
        if self.include_law_enforcement and not may_include_law_enforcement(
            self.requested_by if self.requested_by_id else None
        ):
            raise PermissionDenied(
                "Only privacy counsel may include law-enforcement demands in a pack (R6)."
            )
        super().save(*args, **kwargs)
