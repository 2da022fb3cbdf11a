from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
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
