from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from customers.models import Customer
from harmonyze_portal.clock import legal_today
from harmonyze_portal.dates import Computation, legal_date
from harmonyze_portal.history import TrackedModel, TrackedQuerySet, acting_user
from harmonyze_portal.uploads import PrivateUploadPath, validate_pdf
from subprocessors import deadlines
from subprocessors.locations import country_names, outside_us


def validate_new_pdf(upload: Any) -> None:
    """``validate_pdf`` for an upload; a document already stored was checked when it came
    in, and an edit of the record's other fields does not read it again (S7)."""
    if getattr(upload, "_committed", False):
        return
    validate_pdf(upload)


class SubProcessorStatus(models.TextChoices):
    ANNOUNCED = "announced", "Announced"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class SubProcessorQuerySet(TrackedQuerySet["SubProcessor"]):
    def current(self) -> SubProcessorQuerySet:
        return self.filter(status=SubProcessorStatus.ACTIVE)

    def flowdown_unchecked(self) -> SubProcessorQuerySet:
        """S7 (DPA 5.2): sub-processors that access, or have a date to access, customer data
        without an agreement whose flow-down terms someone has checked; due by the earliest
        access date (the partial index ``s7_flowdown_unchecked``)."""
        return self.filter(FLOWDOWN_UNCHECKED)


# S7: announced with an access date, or active, and the flow-down check not recorded.
FLOWDOWN_UNCHECKED = Q(
    status__in=[SubProcessorStatus.ANNOUNCED, SubProcessorStatus.ACTIVE],
    earliest_access_on__isnull=False,
    flowdown_checked=False,
)


SubProcessorManager = models.Manager.from_queryset(SubProcessorQuerySet)


class SubProcessor(TrackedModel):
    """A sub-processor on the public list (S1)."""

    name = models.CharField(max_length=200, unique=True, verbose_name="Name")
    purpose = models.TextField("What it does for Harmonyze")
    # S1: the words the public list shows; the countries are ProcessingLocation rows (S7).
    locations = models.CharField(
        "Where it processes data, in words",
        max_length=300,
        help_text='As the public list describes it (e.g. "United States (Virginia)"); the '
        "countries themselves are the processing locations below.",
    )
    data_categories = models.TextField("Data it touches")
    website = models.URLField(blank=True, verbose_name="Website")
    status = models.CharField(
        max_length=20,
        choices=SubProcessorStatus.choices,
        default=SubProcessorStatus.ANNOUNCED,
        verbose_name="Status",
    )
    # Derived on every save from the latest published change that announces it (S3), never
    # typed: the database can then refuse activation or an access date before the gate opens.
    earliest_access_on = models.DateField(
        null=True, blank=True, editable=False, db_index=True, verbose_name="Earliest access on"
    )
    access_began_on = models.DateField("Access to customer data began on", null=True, blank=True)
    retired_on = models.DateField(null=True, blank=True, verbose_name="Retired on")
    # S7 (DPA 5.2, 5.3): the agreement that flows the DPA's obligations down.
    agreement_signed_on = models.DateField(
        "Agreement signed on",
        null=True,
        blank=True,
        help_text="The date of Harmonyze's agreement with this sub-processor (DPA 5.2).",
    )
    agreement_document = models.FileField(
        "Signed agreement (PDF)",
        upload_to=PrivateUploadPath("subprocessor-agreements"),
        validators=[validate_new_pdf],
        blank=True,
        help_text="The agreement as signed, commercial terms included.",
    )
    agreement_copy = models.FileField(
        "Copy for customers (PDF, commercial terms removed)",
        upload_to=PrivateUploadPath("subprocessor-agreements"),
        validators=[validate_new_pdf],
        blank=True,
        help_text="What a customer receives on written request for copies (DPA 5.3, C6).",
    )
    flowdown_checked = models.BooleanField(
        "Flow-down terms checked",
        default=False,
        help_text="The agreement imposes substantially the same obligations as the DPA "
        "(DPA 5.2). Who ticked it, and when, is recorded.",
    )
    # Set by save() from the signed-in staff member, never typed (S7).
    flowdown_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="Flow-down terms checked by",
    )
    flowdown_checked_at = models.DateTimeField(
        "Flow-down terms checked at", null=True, blank=True, editable=False
    )

    objects: ClassVar[SubProcessorManager] = SubProcessorManager()

    class Meta:
        verbose_name_plural = "sub-processors"
        verbose_name = "sub-processor"
        verbose_name_plural = "sub-processors"
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["earliest_access_on"],
                condition=FLOWDOWN_UNCHECKED,
                name="s7_flowdown_unchecked",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    flowdown_checked=False,
                    flowdown_checked_by__isnull=True,
                    flowdown_checked_at__isnull=True,
                )
                | (
                    Q(
                        flowdown_checked=True,
                        flowdown_checked_by__isnull=False,
                        flowdown_checked_at__isnull=False,
                        agreement_signed_on__isnull=False,
                    )
                    & ~Q(agreement_document="")
                ),
                name="s7_flowdown_check_names_agreement_and_checker",
                violation_error_message="The flow-down terms are checked on a signed agreement "
                "on file (its date and PDF), and the check names who made it (S7, DPA 5.2).",
            ),
            models.CheckConstraint(
                condition=Q(access_began_on__isnull=True)
                | Q(
                    earliest_access_on__isnull=False,
                    access_began_on__gte=models.F("earliest_access_on"),
                ),
                name="subprocessor_access_after_notice_period",
                violation_error_message="Access cannot begin before the earliest access date "
                "of a published change (Notice date + 15 days, DPA 5.1).",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubProcessorStatus.ACTIVE) | Q(access_began_on__isnull=False),
                name="active_subprocessor_has_access_date",
                violation_error_message="An active sub-processor needs the date its access began.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubProcessorStatus.ACTIVE)
                | Q(
                    earliest_access_on__isnull=False,
                    access_began_on__gte=models.F("earliest_access_on"),
                ),
                name="active_subprocessor_passed_the_gate",
                violation_error_message="A sub-processor becomes active only through a published "
                "change whose earliest access date has arrived (S3, DPA 5.1).",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def withdrawal(self) -> tuple[datetime, date] | None:
        """When this sub-processor was last recorded as withdrawn (retired), and the day it was
        withdrawn (``retired_on`` as typed then, else that moment's legal date), from its
        history (H1: every save is there, and a later status does not erase it)."""
        if self.pk is None:
            return None
        history = self.history  # simple-history's manager on the instance
        row = history.filter(status=SubProcessorStatus.RETIRED).order_by("-history_date").first()
        if row is None:
            return None
        return row.history_date, row.retired_on or legal_date(row.history_date, settings.TIME_ZONE)

    def _announcing(self) -> tuple[Change | None, date | None]:
        """The change that announces this sub-processor (S3), and, when none has since it was
        withdrawn, the day it was. A withdrawn sub-processor that comes back is an intended
        addition again: the change that admitted it before does not admit it twice."""
        if self.pk is None:
            return None, None
        changes = self.changes.published()
        withdrawal = None
        if self.status != SubProcessorStatus.RETIRED:
            withdrawal = self.withdrawal()
            if withdrawal is not None:
                changes = changes.filter(published_at__gt=withdrawal[0])
        change = changes.order_by("-published_at", "-pk").first()
        return change, withdrawal[1] if withdrawal and change is None else None

    def announcing_change(self) -> Change | None:
        """The latest published change that announces this sub-processor (S3); for one that
        was withdrawn and is not retired now, the latest published since the withdrawal."""
        return self._announcing()[0]

    def _refusal(self, change: Change | None, withdrawn_on: date | None, today: date) -> str | None:
        return deadlines.access_refusal(
            earliest_access_on=change.earliest_access_on if change else None,
            access_began_on=self.access_began_on,
            active=self.status == SubProcessorStatus.ACTIVE,
            today=today,
            withdrawn_on=withdrawn_on,
        )

    def gate_refusal(self, today: date) -> str | None:
        """Why this row may not be saved as it stands (S3), from the changes, not the stored
        ``earliest_access_on``."""
        return self._refusal(*self._announcing(), today)

    def clean(self) -> None:
        super().clean()
        problem = self.gate_refusal(legal_today())
        if problem:
            field = "status" if self.access_began_on is None else "access_began_on"
            raise ValidationError({field: problem})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """S3 on every write path (admin, action, service, shell): the earliest access date is
        taken from the changes, and activation or an access date before it arrives is refused
        here; the database's constraints refuse what slips past (a raw write)."""
        change, withdrawn_on = self._announcing()
        problem = self._refusal(change, withdrawn_on, legal_today())
        if problem:
            raise ValidationError(
                {"status" if self.access_began_on is None else "access_began_on": problem}
            )
        self.earliest_access_on = change.earliest_access_on if change else None
        self._stamp_flowdown_check()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "earliest_access_on",
                "flowdown_checked_by",
                "flowdown_checked_at",
            }
        super().save(*args, **kwargs)

    def _stamp_flowdown_check(self) -> None:
        """S7: who checked the flow-down terms, and when, come from the staff member saving
        the tick (the request's, or the one a task runs for), never from a typed value. A new
        agreement document saved with the tick is a new check; untick, and the check is gone."""
        if not self.flowdown_checked:
            self.flowdown_checked_by, self.flowdown_checked_at = None, None
            return
        stored = (
            SubProcessor.objects.filter(pk=self.pk)
            .values_list("flowdown_checked", "agreement_document")
            .first()
            if self.pk
            else None
        )
        if stored is not None and stored == (True, self.agreement_document.name or ""):
            return
        checker = acting_user()
        if checker is None:
            raise ValidationError(
                {
                    "flowdown_checked": "Only a signed-in staff member can record that the "
                    "flow-down terms were checked (S7): the record names who checked."
                }
            )
        self.flowdown_checked_by = checker
        self.flowdown_checked_at = timezone.now()

    def countries(self) -> list[str]:
        """S7: the ISO 3166 codes of its processing locations, in order."""
        if self.pk is None:
            return []
        return [str(code) for code in self.processing_locations.values_list("country", flat=True)]

    def countries_outside_us(self) -> list[str]:
        return outside_us(self.countries())


class ChangeKind(models.TextChoices):
    ADDITION = "addition", "Addition"
    REPLACEMENT = "replacement", "Replacement"


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


# S3: a published change with its earliest access date (the partial index's part of the open
# filter: the sub-processor's status is on another table).
ACCESS_DATED = Q(status=ChangeStatus.PUBLISHED, earliest_access_on__isnull=False)


TRANSFER_UNACKNOWLEDGED = (
    'The Privacy Policy says "All data processing occurs in the United States" (PP 5): a '
    "change naming a location outside the United States is published only with counsel's "
    "acknowledgement and a reason (S7)."
)


class ChangeQuerySet(TrackedQuerySet["Change"]):
    def published(self) -> ChangeQuerySet:
        return self.filter(status=ChangeStatus.PUBLISHED)

    def access_pending(self) -> ChangeQuerySet:
        """S1, S3: announced with an earliest access date, and the sub-processor neither
        active nor withdrawn yet: the day it may access customer data is still ahead of
        the team (or passed without access being recorded)."""
        return self.filter(ACCESS_DATED, subprocessor__status=SubProcessorStatus.ANNOUNCED)

    def in_notice_period(self, today: date) -> ChangeQuerySet:
        return self.published().filter(
            Q(earliest_access_on__isnull=True) | Q(earliest_access_on__gt=today)
        )

    def announced(self) -> ChangeQuerySet:
        """S1: published changes whose sub-processor is neither active nor withdrawn (retired),
        in their notice period or past it: listed as announced every day until staff record
        that access began, so it is never on neither list. One row per sub-processor: its
        latest published change."""
        later = Change.objects.published().filter(
            subprocessor=OuterRef("subprocessor"), published_at__gt=OuterRef("published_at")
        )
        return (
            self.published()
            .filter(subprocessor__status=SubProcessorStatus.ANNOUNCED)
            .exclude(Exists(later))
        )

    def gate_held(self) -> ChangeQuerySet:
        """S3: published changes whose Notice date is held by deliveries that failed for good
        and that counsel has not decided to proceed without; annotated with how many."""
        holding = Q(deliveries__status=DeliveryStatus.FAILED, deliveries__waived_at__isnull=True)
        return (
            self.published()
            .filter(holding)
            .annotate(holding_deliveries=Count("deliveries", filter=holding))
        )


ChangeManager = models.Manager.from_queryset(ChangeQuerySet)


class Change(TrackedModel):
    """An intended addition or replacement of a sub-processor (S3)."""

    kind = models.CharField(
        max_length=20, choices=ChangeKind.choices, verbose_name="Kind of change"
    )
    subprocessor = models.ForeignKey(
        SubProcessor,
        on_delete=models.PROTECT,
        related_name="changes",
        null=True,
        blank=True,
        verbose_name="Sub-processor",
    )
    replaces = models.ForeignKey(
        SubProcessor,
        on_delete=models.PROTECT,
        related_name="replaced_by_changes",
        null=True,
        blank=True,
        verbose_name="Replaces",
    )
    summary = models.TextField(
        help_text="Shown on the public list and in the Notice.", verbose_name="Summary"
    )
    status = models.CharField(
        max_length=20,
        choices=ChangeStatus.choices,
        default=ChangeStatus.DRAFT,
        verbose_name="Status",
    )
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name="Published at"
    )
    # S3: the legal date of the last successful delivery, once no delivery holds the gate
    # (refresh_notice_date; save() refuses any other); the earliest access date follows it.
    notice_date = models.DateField(
        null=True, blank=True, editable=False, verbose_name="Notice date"
    )
    earliest_access_on = models.DateField(
        null=True, blank=True, editable=False, db_index=True, verbose_name="Earliest access on"
    )
    notice_subject = models.CharField(
        max_length=200, blank=True, editable=False, verbose_name="Notice subject"
    )
    notice_body = models.TextField(blank=True, editable=False, verbose_name="Notice text")
    notice_sha256 = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name="Notice fingerprint (SHA-256)"
    )
    # S7, PP 5: the countries the sub-processor's locations named when the change was
    # published (ISO 3166 codes), kept as published even if its locations change later.
    countries = models.CharField(
        "Processing countries when published", max_length=300, blank=True, editable=False
    )
    countries_outside_us = models.CharField(
        "Countries outside the United States when published",
        max_length=300,
        blank=True,
        editable=False,
    )
    transfer_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="Processing outside the United States acknowledged by",
    )
    transfer_acknowledged_at = models.DateTimeField(
        "Processing outside the United States acknowledged at",
        null=True,
        blank=True,
        editable=False,
    )
    transfer_acknowledgement = models.TextField(
        "Why publish despite the Privacy Policy's United States statement",
        blank=True,
        editable=False,
        help_text="Counsel's reason (S7, PP 5).",
    )

    objects: ClassVar[ChangeManager] = ChangeManager()

    class Meta:
        verbose_name = "sub-processor change"
        verbose_name_plural = "sub-processor changes"
        ordering = ["-published_at", "-pk"]
        permissions = [
            (
                "acknowledge_transfer",
                "Can acknowledge a change that names processing outside the United States",
            ),
        ]
        indexes = [
            # The changelist's order, whole and by status: a page is an index range (issue 16,
            # P5); Django's admin adds -pk unless the order is already total.
            models.Index(fields=["published_at", "id"], name="change_list_order"),
            models.Index(fields=["status", "published_at", "id"], name="change_list_by_status"),
            models.Index(
                fields=["earliest_access_on"], condition=ACCESS_DATED, name="s3_access_dated"
            ),
        ]
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
            models.CheckConstraint(
                condition=Q(status=ChangeStatus.PUBLISHED)
                | Q(notice_date__isnull=True, earliest_access_on__isnull=True),
                name="only_a_published_change_has_a_notice_date",
                violation_error_message="Only a published change has a Notice date (S3).",
            ),
            models.CheckConstraint(
                condition=~Q(status=ChangeStatus.PUBLISHED)
                | Q(countries_outside_us="")
                | Q(transfer_acknowledged_at__isnull=False),
                name="s7_outside_us_change_acknowledged",
                violation_error_message=TRANSFER_UNACKNOWLEDGED,
            ),
            models.CheckConstraint(
                condition=Q(transfer_acknowledged_at__isnull=True)
                | (Q(transfer_acknowledged_by__isnull=False) & ~Q(transfer_acknowledgement="")),
                name="s7_acknowledgement_names_who_and_why",
                violation_error_message="Counsel's acknowledgement names who gave it and why (S7).",
            ),
        ]

    def __str__(self) -> str:
        who = self.subprocessor or "(no sub-processor yet)"
        if self.kind == ChangeKind.REPLACEMENT and self.replaces:
            return f"Replacement of {self.replaces} by {who}"
        return f"Addition of {who}"

    def deadline_lines(self) -> list[Computation]:
        """T5: how the S3 earliest access date was computed, for the change page."""
        if self.notice_date is None:
            return []
        return [deadlines.earliest_access_explained(self.notice_date)]

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

    def notice_date_due(self) -> date | None:
        """S3: the Notice date the deliveries give (``deadlines.notice_date``): the legal date of
        the last successful delivery, once no delivery holds the gate."""
        if self.status != ChangeStatus.PUBLISHED or self.published_at is None:
            return None
        last_sent_at, holding = None, 0
        if self.pk is not None:
            deliveries = self.deliveries.all()
            last_sent_at = deliveries.filter(status=DeliveryStatus.SENT).aggregate(
                last=Max("sent_at")
            )["last"]
            holding = deliveries.holding_the_gate().count()
        return deadlines.notice_date(
            published_on=legal_date(self.published_at, settings.TIME_ZONE),
            last_sent_on=legal_date(last_sent_at, settings.TIME_ZONE) if last_sent_at else None,
            holding=holding,
        )

    def _access_began(self) -> bool:
        return bool(
            self.subprocessor_id and self.subprocessor and self.subprocessor.access_began_on
        )

    def notice_date_refusal(self) -> str | None:
        """Why this change may not be saved with its Notice date (S3); None when it may."""
        if self.status != ChangeStatus.PUBLISHED:
            return None  # the database refuses a draft's Notice date
        stored = (
            Change.objects.filter(pk=self.pk).values_list("notice_date", flat=True).first()
            if self.pk
            else None
        )
        if self.notice_date == stored:
            return None
        return deadlines.notice_date_refusal(
            typed=self.notice_date,
            stored=stored,
            due=self.notice_date_due(),
            access_began=self._access_began(),
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        """S3 on every write path: the Notice date is what the deliveries give, never typed
        (a failed delivery holds it), and the earliest access date follows it."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "notice_date" in update_fields:
            problem = self.notice_date_refusal()
            if problem:
                raise ValidationError(problem)
        if self._being_published():
            # S7 on every path that publishes (service, admin, shell): the countries are
            # taken as they are now, and one outside the United States needs counsel.
            self._snapshot_countries()
            problem = self.transfer_refusal()
            if problem:
                raise ValidationError({"subprocessor": problem})
            if update_fields is not None:
                update_fields = kwargs["update_fields"] = {
                    *update_fields,
                    "countries",
                    "countries_outside_us",
                }
        self.earliest_access_on = (
            deadlines.earliest_access(self.notice_date) if self.notice_date else None
        )
        if update_fields is not None and "notice_date" in update_fields:
            kwargs["update_fields"] = {*update_fields, "earliest_access_on"}
        super().save(*args, **kwargs)

    def _being_published(self) -> bool:
        if self.status != ChangeStatus.PUBLISHED:
            return False
        stored = (
            Change.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if self.pk
            else None
        )
        return stored != ChangeStatus.PUBLISHED

    def _snapshot_countries(self) -> None:
        codes = self.subprocessor.countries() if self.subprocessor is not None else []
        self.countries = ",".join(codes)
        self.countries_outside_us = ",".join(outside_us(codes))

    def outside_us(self) -> list[str]:
        """S7, PP 5: the countries outside the United States this change names: as published,
        or, for a draft, from its sub-processor's locations now (the flag before publishing)."""
        if self.status == ChangeStatus.PUBLISHED:
            return [code for code in self.countries_outside_us.split(",") if code]
        if self.subprocessor_id is None or self.subprocessor is None:
            return []
        return self.subprocessor.countries_outside_us()

    def transfer_flag(self) -> str:
        """S7: the warning shown before publishing, or "" when all processing is in the US."""
        codes = self.outside_us()
        if not codes:
            return ""
        return (
            f"{self.subprocessor} processes data in {country_names(codes)}, outside the United "
            "States. " + TRANSFER_UNACKNOWLEDGED
        )

    def transfer_refusal(self) -> str | None:
        """S7: why this change may not be published as it stands; None when it may. Only
        counsel (``acknowledge_transfer``) acknowledges processing outside the United States,
        with a reason."""
        if not self.outside_us():
            return None
        who = self.transfer_acknowledged_by
        if self.transfer_acknowledged_at is None or who is None:
            return self.transfer_flag()
        if not who.has_perm("subprocessors.acknowledge_transfer"):
            return "Only counsel may acknowledge processing outside the United States (S7)."
        if not self.transfer_acknowledgement.strip():
            return "Counsel's acknowledgement needs a reason (S7)."
        return None

    def set_notice_date(self, notice_date: date | None) -> None:
        self.notice_date = notice_date
        self.earliest_access_on = deadlines.earliest_access(notice_date) if notice_date else None

    def refresh_notice_date(self) -> None:
        """S3 (revised): the Notice date is the legal date of the last successful delivery,
        once no delivery holds the gate (queued, or failed for good without counsel's waiver);
        the earliest access date follows (+15 days), on the change and its sub-processor.

        It moves when a failed delivery is sent later, until access has begun: from then the
        date that admitted the access stays (a late delivery still gets its own S4 deadline).
        Call it with the change locked (``select_for_update``)."""
        if self.status != ChangeStatus.PUBLISHED or self.published_at is None:
            return
        if self.notice_date is not None and self._access_began():
            return
        notice_date = self.notice_date_due()
        if self.notice_date == notice_date:
            return
        self.set_notice_date(notice_date)
        self._change_reason = (
            f"Notice date {notice_date}: the last delivery reached its address"
            if notice_date
            else "Notice date held: a delivery has not reached its address (S3)"
        )
        self.save()
        if self.subprocessor is not None:
            self.subprocessor._change_reason = f"Earliest access date from {self}"  # type: ignore[attr-defined]
            self.subprocessor.save()

    def objection_deadline_for(
        self, *, signup: Signup | None = None, customer: Customer | None = None
    ) -> date | None:
        """S4 (DPA 5.1): the last day an objection to this change is in time, for whoever
        objects. The public form, the services and the admin all ask here.

        "Within seven days of receiving the Notice": the legal date the Notice reached this
        address + 7 days. An address the Notice did not reach (signed up after publication, or
        its delivery is still queued or failed) objects for its customer, so the customer's
        first delivery counts (+ 7 days); so does an objection staff enter for a customer
        without an address. If the Notice reached neither, there is no deadline: the 7 days
        have not started, and the objection is in time.
        """
        # Each sent delivery stores its own deadline (its legal delivery date + 7 days).
        sent = self.deliveries.filter(status=DeliveryStatus.SENT)
        deadline = None
        if signup is not None:
            deadline = sent.filter(signup=signup).aggregate(d=Min("objection_deadline"))["d"]
            customer = customer or signup.customer
        if deadline is None and customer is not None:
            deadline = sent.filter(signup__customer=customer).aggregate(
                d=Min("objection_deadline")
            )["d"]
        return deadline


class SignupStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    ACTIVE = "active", "Active"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class SignupQuerySet(TrackedQuerySet["Signup"]):
    def active(self) -> SignupQuerySet:
        return self.filter(status=SignupStatus.ACTIVE)

    def never_confirmed_before(self, cutoff: datetime) -> SignupQuerySet:
        """S2, PP 4: pending signups that were never active (an address that unsubscribed and
        signed up again keeps its record, the proof of the notices it received) whose newest
        confirmation link was sent before ``cutoff``."""
        sent_before = Q(link_sent_at__lt=cutoff) | Q(
            link_sent_at__isnull=True, created_at__lt=cutoff
        )
        return self.filter(
            sent_before,
            status=SignupStatus.PENDING,
            confirmed_at__isnull=True,
            unsubscribed_at__isnull=True,
        )


SignupManager = models.Manager.from_queryset(SignupQuerySet)


class Signup(TrackedModel):
    """An email address signed up to the Notice Form (S2), with its proof of consent."""

    email = models.EmailField(max_length=254, verbose_name="Email address")
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signups",
        verbose_name="Customer",
    )
    status = models.CharField(
        max_length=20,
        choices=SignupStatus.choices,
        default=SignupStatus.PENDING,
        verbose_name="Status",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="Signed up at")
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name="Confirmed at")
    unsubscribed_at = models.DateTimeField(null=True, blank=True, verbose_name="Unsubscribed at")
    signup_ip = models.GenericIPAddressField(
        null=True, blank=True, verbose_name="Signed up from IP"
    )
    confirm_ip = models.GenericIPAddressField(
        null=True, blank=True, verbose_name="Confirmed from IP"
    )
    # S2: the confirmation link carries this number and must match it. It moves on each
    # unsubscribe and each new signup of the address, so a link from an earlier round can
    # never confirm a later one (the owner may have unsubscribed for good reason).
    link_version = models.PositiveIntegerField(
        default=0, editable=False, verbose_name="Link version"
    )
    # When the newest confirmation link was sent: a pending signup that asks again gets a new
    # link, and is purged only once that one has expired too (PP 4).
    link_sent_at = models.DateTimeField(
        "Confirmation link sent at", null=True, blank=True, editable=False
    )

    objects: ClassVar[SignupManager] = SignupManager()

    class Meta:
        verbose_name = "Notice Form signup"
        verbose_name_plural = "Notice Form signups"
        ordering = ["email"]
        indexes = [
            # The changelist's order, whole and by status: a page is an index range (issue 16,
            # P5); Django's admin adds -pk unless the order is already total.
            models.Index(fields=["email", "-id"], name="signup_list_order"),
            models.Index(fields=["status", "email", "-id"], name="signup_list_by_status"),
        ]
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
    # Claimed by a worker: the attempt is counted and committed before the SMTP exchange, so a
    # crash cannot hide it. Claimed again once its lease has run out (S6).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


# S6: a delivery still to be sent, with a next attempt time (the back-off or the lease).
UNFINISHED = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


class DeliveryQuerySet(TrackedQuerySet["Delivery"]):
    def unsent(self) -> DeliveryQuerySet:
        return self.exclude(status=DeliveryStatus.SENT)

    def awaiting_attempt(self) -> DeliveryQuerySet:
        """S6: queued deliveries and those a worker has claimed, each with its stored next
        attempt time (the back-off, or the end of the claim's lease)."""
        return self.filter(status__in=UNFINISHED)

    def due_for_attempt(self, now: datetime) -> DeliveryQuerySet:
        """S6: queued deliveries whose back-off has passed and claimed ones whose worker died
        (lease run out): the cron's retries, and what the desk counts as late. One indexed
        filter (``delivery_due_for_attempt``)."""
        return self.awaiting_attempt().filter(next_attempt_at__lte=now)

    def holding_the_gate(self) -> DeliveryQuerySet:
        """S3: deliveries without which the Notice date cannot be set: still queued (being
        retried), or failed for good with no decision by counsel to proceed without them."""
        return self.filter(
            Q(status__in=UNFINISHED) | Q(status=DeliveryStatus.FAILED, waived_at__isnull=True)
        )


DeliveryManager = models.Manager.from_queryset(DeliveryQuerySet)


class Delivery(TrackedModel):
    """One Notice to one signup: Harmonyze's proof of notice (S6)."""

    change = models.ForeignKey(
        Change,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name="Sub-processor change",
    )
    signup = models.ForeignKey(
        Signup, on_delete=models.PROTECT, related_name="deliveries", verbose_name="Signup"
    )
    status = models.CharField(
        max_length=20,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.QUEUED,
        verbose_name="Status",
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name="Attempts")
    queued_at = models.DateTimeField(auto_now_add=True, verbose_name="Queued at")
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name="Last attempt at")
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name="Sent at")
    message_id = models.CharField(max_length=255, blank=True, verbose_name="Email Message-ID")
    last_error = models.TextField(blank=True, verbose_name="Last error")
    # S6: when a queued delivery is tried again (deadlines.next_attempt), derived on every
    # save; none once sent or failed for good. Stored so "due" is one indexed filter.
    next_attempt_at = models.DateTimeField("Next attempt", null=True, blank=True, editable=False)
    # S4: the legal date of delivery + 7 days, per signup.
    objection_deadline = models.DateField(
        null=True, blank=True, db_index=True, verbose_name="Objection deadline"
    )
    # S3: counsel's recorded decision to proceed without an address the Notice could not reach.
    waived_at = models.DateTimeField("Proceeding without this address since", null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="Decided by",
    )
    waiver_reason = models.TextField("Why proceed without this address", blank=True)

    objects: ClassVar[DeliveryManager] = DeliveryManager()

    class Meta:
        verbose_name = "Notice delivery"
        verbose_name_plural = "Notice deliveries"
        ordering = ["change", "signup__email"]
        permissions = [
            ("waive_delivery", "Can proceed without an address the Notice could not reach"),
        ]
        indexes = [
            # The changelist by status, in its order; the whole list reads the (change, signup)
            # constraint's index (issue 16, P5).
            models.Index(fields=["status", "change", "signup"], name="delivery_list_by_status"),
            # Matches DeliveryQuerySet.due_for_attempt: only unfinished rows are ever due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=UNFINISHED),
                name="delivery_due_for_attempt",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["change", "signup"], name="one_delivery_per_signup"),
            models.CheckConstraint(
                condition=Q(status__in=UNFINISHED, next_attempt_at__isnull=False)
                | (~Q(status__in=UNFINISHED) & Q(next_attempt_at__isnull=True)),
                name="queued_delivery_has_next_attempt",
                violation_error_message="A queued or sending delivery has a next attempt time; "
                "a sent or failed one has none (S6).",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT)
                | Q(sent_at__isnull=False, objection_deadline__isnull=False),
                name="sent_delivery_has_time_and_deadline",
            ),
            models.CheckConstraint(
                condition=Q(waived_at__isnull=True)
                | (Q(waived_by__isnull=False) & ~Q(waiver_reason="")),
                name="delivery_waiver_names_who_and_why",
                violation_error_message="Proceeding without an address needs counsel's name and "
                "a reason (S3).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change} → {self.signup}"

    def deadline_lines(self) -> list[Computation]:
        """T5: how this delivery's S4 objection deadline was computed."""
        if self.objection_deadline is None:
            return []
        delivered = deadlines.delivered_on(self.objection_deadline)
        return [deadlines.objection_deadline_explained(delivered)]

    def scheduled_attempt(self) -> datetime | None:
        """S6: when this delivery is tried again: after the back-off when queued, when its
        lease runs out when claimed; None once sent or failed for good."""
        if self.status == DeliveryStatus.SENDING:
            return deadlines.claim_expires(
                claimed_at=self.last_attempt_at or timezone.now(),
                lease_minutes=settings.NOTICE_LEASE_MINUTES,
            )
        if self.status != DeliveryStatus.QUEUED:
            return None
        return deadlines.next_attempt(
            queued_at=self.queued_at or timezone.now(),
            attempts=self.attempts,
            last_attempt_at=self.last_attempt_at,
            retry_minutes=settings.NOTICE_RETRY_MINUTES,
        )

    def _waiver_changed(self, update_fields: Any) -> tuple[bool, bool]:
        """Whether this save records (or undoes) a waiver, and whether it is a new one."""
        fields = {"waived_at", "waived_by", "waived_by_id", "waiver_reason"}
        if update_fields is not None and not fields & set(update_fields):
            return False, False
        stored = (
            Delivery.objects.filter(pk=self.pk)
            .values_list("waived_at", "waived_by_id", "waiver_reason")
            .first()
            if self.pk
            else None
        )
        if stored is None or stored[0] is None:
            return self.waived_at is not None, self.waived_at is not None
        return stored != (self.waived_at, self.waived_by_id, self.waiver_reason), False

    def waiver_refusal(self, *, new: bool) -> str | None:
        """S3: why the waiver this row records may not be saved; None when it may. Only counsel
        (``waive_delivery``) decides to proceed without an address, and only one the Notice
        failed for good to reach."""
        if self.waived_at is None:
            return None
        if self.waived_by is None or not self.waived_by.has_perm("subprocessors.waive_delivery"):
            return "Only counsel may decide to proceed without an address (S3)."
        if new and self.status != DeliveryStatus.FAILED:
            return f"The Notice to {self.signup} has not failed for good: nothing to waive."
        return None

    def save(self, *args: Any, **kwargs: Any) -> None:
        """On every write path (task, admin retry or action, service, shell, import):
        S6, the next attempt time follows the status and the attempts, whatever was typed (the
        constraint refuses a raw write); S3, a waiver is counsel's, and the Notice date follows
        it at once (the change is locked, then refreshed)."""
        self.next_attempt_at = self.scheduled_attempt()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "next_attempt_at"}
        changed, new = self._waiver_changed(update_fields)
        if not changed:
            super().save(*args, **kwargs)
            return
        problem = self.waiver_refusal(new=new)
        if problem:
            raise ValidationError({"waived_by": problem})
        with transaction.atomic():
            super().save(*args, **kwargs)
            Change.objects.select_for_update().get(pk=self.change_id).refresh_notice_date()


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    WITHDRAWN = "withdrawn", "Withdrawn"
    TERMINATED = "terminated", "Ended in termination"


class ObjectionChannel(models.TextChoices):
    NOTICE_LINK = "notice link", "The link in the Notice"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"


OBJECTION_DUE = Q(status=ObjectionStatus.OPEN, deadline__isnull=False)


class ObjectionQuerySet(TrackedQuerySet["Objection"]):
    def open(self) -> ObjectionQuerySet:
        return self.filter(status=ObjectionStatus.OPEN)

    def awaiting_resolution(self) -> ObjectionQuerySet:
        """S4, S5: open objections with their deadline, to resolve (the partial index
        ``s4_objection_due``)."""
        return self.filter(OBJECTION_DUE)


ObjectionManager = models.Manager.from_queryset(ObjectionQuerySet)


class Objection(TrackedModel):
    """A customer's objection to a change (S4, S5)."""

    change = models.ForeignKey(
        Change,
        on_delete=models.PROTECT,
        related_name="objections",
        verbose_name="Sub-processor change",
    )
    signup = models.ForeignKey(
        Signup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections",
        verbose_name="Signup",
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections",
        verbose_name="Customer",
    )
    channel = models.CharField(
        max_length=20,
        choices=ObjectionChannel.choices,
        default=ObjectionChannel.NOTICE_LINK,
        verbose_name="Received through",
    )
    received_at = models.DateTimeField("Recorded at")
    # S4: judged on the legal date it was received (typed by staff for an email or a letter).
    received_on = models.DateField("Received on", null=True, blank=True)
    deadline = models.DateField("In time until", null=True, blank=True)
    in_time = models.BooleanField(verbose_name="In time")
    reason = models.TextField(verbose_name="Reason")
    status = models.CharField(
        max_length=20,
        choices=ObjectionStatus.choices,
        default=ObjectionStatus.OPEN,
        verbose_name="Status",
    )
    resolution_note = models.TextField(blank=True, verbose_name="Resolution")

    objects: ClassVar[ObjectionManager] = ObjectionManager()

    class Meta:
        verbose_name = "objection"
        verbose_name_plural = "objections"
        ordering = ["-received_at"]
        indexes = [
            # The changelist's order, whole and by status: a page is an index range (issue 16,
            # P5); Django's admin adds -pk unless the order is already total.
            models.Index(fields=["received_at", "id"], name="objection_list_order"),
            models.Index(fields=["status", "received_at", "id"], name="objection_list_by_status"),
            models.Index(fields=["deadline"], condition=OBJECTION_DUE, name="s4_objection_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(signup__isnull=False) | Q(customer__isnull=False),
                name="objection_names_signup_or_customer",
                violation_error_message="Name the signup or the customer who objects.",
            ),
            # S4: the Notice's link records one objection per address and change; reposting
            # it (a double click, a retry) must not file it, and email the inbox, again.
            models.UniqueConstraint(
                fields=["change", "signup"],
                condition=Q(channel=ObjectionChannel.NOTICE_LINK),
                name="one_link_objection_per_signup_and_change",
                violation_error_message=(
                    "This address has already objected to this change through the Notice's "
                    "link (S4)."
                ),
            ),
        ]

    def __str__(self) -> str:
        who = self.customer or self.signup
        return f"Objection by {who} to {self.change}"

    def deadline_lines(self) -> list[Computation]:
        """T5: how the S4 deadline this objection is judged by was computed."""
        if self.deadline is None:
            return []
        return [deadlines.objection_deadline_explained(deadlines.delivered_on(self.deadline))]
