from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.signals import post_delete
from django.dispatch import receiver

from audits import deadlines
from customers.models import Breach, BreachNotice, Customer
from harmonyze_portal.dates import Computation
from harmonyze_portal.history import TrackedModel, TrackedQuerySet
from harmonyze_portal.uploads import PrivateUploadPath, validate_pdf

MAX_AUDIT_DAYS = 30


class ReportKind(models.TextChoices):
    SOC2_TYPE2 = "soc2_type2", "SOC 2 Type 2 / SSAE 18 Type 2"
    ISAE3402_TYPE2 = "isae3402_type2", "ISAE 3402 Type 2"
    SOC2_TYPE1 = "soc2_type1", "SOC 2 Type 1"
    ISO27001 = "iso27001", "ISO/IEC 27001 certificate"
    NIST = "nist", "NIST assessment"
    OTHER = "other", "Other"


TYPE2_KINDS = (ReportKind.SOC2_TYPE2, ReportKind.ISAE3402_TYPE2)
# A5 names ISO and NIST reports "or similar" alongside the Type 2 reports; a Type 1 report
# tests design at one moment, not operation over a period, so it never stands in for a Type 2.
OTHER_QUALIFYING_KINDS = (ReportKind.ISO27001, ReportKind.NIST)


class AuditReportQuerySet(TrackedQuerySet["AuditReport"]):
    def type2(self) -> AuditReportQuerySet:
        return self.filter(kind__in=TYPE2_KINDS)

    def qualifying(self, received: date) -> AuditReportQuerySet:
        """A5: audit period ended within the twelve months before ``received``."""
        return self.filter(
            period_end__gte=deadlines.report_window_start(received), period_end__lte=received
        )


AuditReportManager = models.Manager.from_queryset(AuditReportQuerySet)


_REPORT_KINDS = dict(ReportKind.choices)


def report_name(kind: str, auditor_firm: str, period_end: date) -> str:
    """An audit report as staff and exports name it (A5)."""
    return f"{_REPORT_KINDS.get(kind, kind)} by {auditor_firm}, period ending {period_end}"


class AuditReport(TrackedModel):
    """A third-party audit report Harmonyze holds (A5)."""

    kind = models.CharField(
        max_length=20, choices=ReportKind.choices, verbose_name="Kind of report"
    )
    auditor_firm = models.CharField(max_length=200, verbose_name="Audit firm")
    period_start = models.DateField("Audit period start")
    period_end = models.DateField("Audit period end", db_index=True)
    issued_on = models.DateField("Issue date")
    systems_covered = models.TextField(verbose_name="Systems covered")
    control_areas = models.TextField("Control areas covered")
    file = models.FileField(
        "Report (PDF)",
        upload_to=PrivateUploadPath("audits/reports"),
        validators=[validate_pdf],
        blank=True,
    )

    objects: ClassVar[AuditReportManager] = AuditReportManager()

    class Meta:
        verbose_name = "audit report"
        verbose_name_plural = "audit reports"
        ordering = ["-period_end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="report_period_ends_after_start",
                violation_error_message="The audit period ends before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(issued_on__gte=models.F("period_end")),
                name="report_issued_after_period",
                violation_error_message="A report is issued after its audit period ends.",
            ),
        ]

    def __str__(self) -> str:
        return report_name(self.kind, self.auditor_firm, self.period_end)

    @property
    def is_type2(self) -> bool:
        return self.kind in TYPE2_KINDS


class AuditStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Awaiting email confirmation"
    RECEIVED = "received", "Received"
    UNDER_REVIEW = "under_review", "Under review"
    REPORT_OFFERED = "report_offered", "Report offered in lieu"
    ACCEPTED_IN_LIEU = "accepted_in_lieu", "Report accepted in lieu"
    NEGOTIATION = "negotiation", "Plan negotiation"
    PLAN_AGREED = "plan_agreed", "Final plan agreed"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Statuses in which the request counts as an audit for the yearly entitlement (A1). A request
# whose report offer is still unanswered may yet become an audit, so it counts too.
COUNTS_AS_AUDIT = (
    AuditStatus.RECEIVED,
    AuditStatus.UNDER_REVIEW,
    AuditStatus.REPORT_OFFERED,
    AuditStatus.NEGOTIATION,
    AuditStatus.PLAN_AGREED,
    AuditStatus.SCHEDULED,
    AuditStatus.IN_PROGRESS,
    AuditStatus.COMPLETED,
)

# A breach ground needs the recorded breach (A1) except while the plan is still in from the
# public form: unconfirmed, or just received and not yet reviewed by staff.
AWAITING_BREACH_LINK = (AuditStatus.UNCONFIRMED, AuditStatus.RECEIVED)


class AuditGround(models.TextChoices):
    ANNUAL = "annual", "Yearly audit"
    BREACH = "breach", "A Personal Data Breach affected our data"
    CONCERNS = "concerns", "Genuine, documented concerns"
    LAW = "law", "Required by law or a regulator"


class AuditorObjectionGround(models.TextChoices):
    NOT_QUALIFIED = "not_qualified", "Not suitably qualified or independent"
    COMPETITOR = "competitor", "A competitor of Harmonyze"
    UNSUITABLE = "unsuitable", "Otherwise manifestly unsuitable"


class OfferAnswer(models.TextChoices):
    ACCEPTED_ALL = "accepted_all", "Accepted for all controls"
    ACCEPTED_SOME = "accepted_some", "Accepted for some controls"
    DECLINED = "declined", "Not accepted"


EVIDENCE_NEEDED = (
    "An additional audit's ground points at its evidence (A1): describe the documented "
    "concerns or attach the document; for a legal requirement name the law or the regulator."
)
BREACH_NOT_THEIRS = "This breach did not affect this customer (A1)."


# Audit requests still heading for an agreed plan (A2, A4).
PLANNING = (
    AuditStatus.RECEIVED,
    AuditStatus.UNDER_REVIEW,
    AuditStatus.REPORT_OFFERED,
    AuditStatus.NEGOTIATION,
)
# The open A2 and A4 items, written once (the QuerySet methods and the partial indexes).
LEAD_TIME_MISSED = Q(
    status__in=PLANNING, lead_time_met=False, earliest_compliant_start__isnull=False
)
FINAL_PLAN_OPEN = Q(
    status__in=PLANNING, final_plan_agreed_on__isnull=True, final_plan_due__isnull=False
)


class AuditRequestQuerySet(TrackedQuerySet["AuditRequest"]):
    def confirmed(self) -> AuditRequestQuerySet:
        return self.exclude(status=AuditStatus.UNCONFIRMED)

    def unconfirmed_before(self, cutoff: datetime) -> AuditRequestQuerySet:
        """Plans from the public form still awaiting their email confirmation that were sent
        before ``cutoff``: once their link has expired, they were never received (A2)."""
        return self.filter(status=AuditStatus.UNCONFIRMED, created_at__lt=cutoff)

    def lead_time_missed(self) -> AuditRequestQuerySet:
        """A2: a plan still being planned that missed the one-month lead time; its earliest
        compliant start is the date to move to."""
        return self.filter(LEAD_TIME_MISSED)

    def final_plan_open(self) -> AuditRequestQuerySet:
        """A4: a plan still being planned whose final plan is not agreed; ``final_plan_due``
        is the last day it may be."""
        return self.filter(FINAL_PLAN_OPEN)

    def yearly(self) -> AuditRequestQuerySet:
        """The audits that use up a customer's yearly entitlement (A1): yearly-ground requests
        that count as an audit. Additional audits (DPA 10.1 "in addition") never do."""
        return self.filter(ground=AuditGround.ANNUAL, status__in=COUNTS_AS_AUDIT)


AuditRequestManager = models.Manager.from_queryset(AuditRequestQuerySet)


class AuditRequest(TrackedModel):
    """A customer's audit request and its proposed plan (A1–A6)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="audit_requests", verbose_name="Customer"
    )
    # The public form matches the customer by the submitter's email; the name typed there is
    # kept as given, for staff to compare.
    customer_name_given = models.CharField("Customer name as given", max_length=200, blank=True)
    submitted_by_name = models.CharField(max_length=200, verbose_name="Submitted by (name)")
    submitted_by_email = models.EmailField(verbose_name="Submitted by (email)")
    status = models.CharField(
        max_length=20,
        choices=AuditStatus.choices,
        default=AuditStatus.RECEIVED,
        db_index=True,
        verbose_name="Status",
    )
    # The plan (A2): scope, start, duration and the auditor's identity.
    scope = models.TextField(verbose_name="Scope")
    proposed_start = models.DateField(verbose_name="Proposed start")
    duration_days = models.PositiveSmallIntegerField("Duration (business days)")
    self_audit = models.BooleanField("The customer audits itself", default=False)
    auditor_firm = models.CharField(max_length=200, blank=True, verbose_name="Audit firm")
    auditor_lead = models.CharField("Lead auditor", max_length=200, blank=True)
    ground = models.CharField(
        max_length=20,
        choices=AuditGround.choices,
        default=AuditGround.ANNUAL,
        verbose_name="Ground",
    )
    breach = models.ForeignKey(
        Breach,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_requests",
        verbose_name="Breach",
    )
    evidence = models.TextField("Evidence for the ground", blank=True)
    supporting_document = models.FileField(
        upload_to=PrivateUploadPath("audits/evidence"),
        validators=[validate_pdf],
        blank=True,
        verbose_name="Supporting document",
    )
    plan_file = models.FileField(
        "Plan (PDF)",
        upload_to=PrivateUploadPath("audits/plans"),
        validators=[validate_pdf],
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="Received at")
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name="Confirmed at")

    # Stored checks, recomputed on save (A2, A1, A5).
    received_on = models.DateField("Legal date of receipt", null=True, blank=True, db_index=True)
    earliest_compliant_start = models.DateField(
        null=True, blank=True, editable=False, verbose_name="Earliest compliant start"
    )
    lead_time_met = models.BooleanField(null=True, editable=False, verbose_name="Lead time met")
    entitled = models.BooleanField("Within the yearly entitlement", null=True, editable=False)
    previous_audit = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="Previous audit",
    )
    type2_report = models.ForeignKey(
        AuditReport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="Qualifying Type 2 report",
    )

    # The offer of the report in lieu (A5) and the customer's answer.
    offered_report = models.ForeignKey(
        AuditReport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name="Report offered",
    )
    offered_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name="Report offered at"
    )
    no_material_changes_confirmed = models.BooleanField(
        default=False, editable=False, verbose_name="No material changes confirmed"
    )
    offer_answer = models.CharField(
        max_length=20,
        choices=OfferAnswer.choices,
        blank=True,
        verbose_name="Customer's answer to the offer",
    )
    offer_answered_on = models.DateField(null=True, blank=True, verbose_name="Offer answered on")
    controls_accepted = models.TextField("Controls the report covers in lieu", blank=True)

    # A3: Harmonyze's objection to the auditor, and the replacement.
    auditor_objection = models.CharField(
        max_length=20,
        choices=AuditorObjectionGround.choices,
        blank=True,
        verbose_name="Objection to the auditor",
    )
    auditor_objected_on = models.DateField(
        null=True, blank=True, verbose_name="Objection to the auditor made on"
    )
    auditor_objection_note = models.TextField(blank=True, verbose_name="Grounds of the objection")
    replacement_auditor = models.CharField(
        max_length=200, blank=True, verbose_name="Replacement auditor"
    )

    # A4: the final plan, agreed on or before final_plan_due (start − 14 days, stored on save).
    final_plan_agreed_on = models.DateField(
        null=True, blank=True, verbose_name="Final plan agreed on"
    )
    final_plan_due = models.DateField(
        "Final plan due", null=True, blank=True, editable=False, db_index=True
    )

    objects: ClassVar[AuditRequestManager] = AuditRequestManager()

    class Meta:
        verbose_name = "audit request"
        verbose_name_plural = "audit requests"
        ordering = ["-received_on", "-created_at"]
        indexes = [
            # The changelist's order, whole and by status: a page is an index range (issue 16,
            # P5); a whole address searched for is LOWER(email) = … (admin_lists).
            models.Index(
                fields=["received_on", "created_at", "id"], name="audit_request_list_order"
            ),
            models.Index(
                fields=["status", "received_on", "created_at", "id"],
                name="audit_request_list_by_status",
            ),
            models.Index(Lower("submitted_by_email"), name="audit_request_email_exact"),
            models.Index(
                fields=["earliest_compliant_start"],
                condition=LEAD_TIME_MISSED,
                name="a2_lead_time_missed",
            ),
            models.Index(
                fields=["final_plan_due"], condition=FINAL_PLAN_OPEN, name="a4_final_plan_open"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_days__gte=1, duration_days__lte=MAX_AUDIT_DAYS),
                name="audit_duration_sensible",
                violation_error_message=f"An audit lasts 1 to {MAX_AUDIT_DAYS} business days.",
            ),
            models.CheckConstraint(
                condition=Q(self_audit=True) | ~Q(auditor_firm=""),
                name="third_party_auditor_named",
                violation_error_message="Name the third-party auditor, or tick that the "
                "customer audits itself.",
            ),
            # The public form cannot name a breach (breaches are not public): staff link it
            # while reviewing, so only requests past receipt must point at one.
            models.CheckConstraint(
                condition=~Q(ground=AuditGround.BREACH)
                | Q(breach__isnull=False)
                | Q(status__in=AWAITING_BREACH_LINK),
                name="breach_ground_names_breach",
                violation_error_message="A breach ground must point at the recorded breach.",
            ),
            # A1: documented concerns point at their document or description, a legal
            # requirement at the law or regulator (save() strips blank-only text first).
            models.CheckConstraint(
                condition=~Q(ground__in=[AuditGround.CONCERNS, AuditGround.LAW])
                | ~Q(evidence="")
                | ~Q(supporting_document=""),
                name="additional_ground_has_evidence",
                violation_error_message=EVIDENCE_NEEDED,
            ),
        ]

    def __str__(self) -> str:
        return f"Audit request by {self.customer} ({self.received_on or 'unconfirmed'})"

    def deadline_lines(self) -> list[Computation]:
        """T5: how the A1 entitlement, A2 lead time and A4 final-plan dates were computed."""
        lines = []
        if self.ground == AuditGround.ANNUAL and self.previous_audit is not None:
            lines.append(deadlines.next_yearly_start_explained(self.previous_audit.proposed_start))
        if self.received_on is not None:
            lines.append(deadlines.earliest_start_explained(self.received_on))
        if self.final_plan_due is not None:
            lines.append(deadlines.final_plan_latest_explained(self.proposed_start))
        return lines

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        received = self.received_on
        if received and self.proposed_start and self.proposed_start < received:
            errors["proposed_start"] = "The proposed start is before the plan was received."
        if self.duration_days is not None and not 1 <= self.duration_days <= MAX_AUDIT_DAYS:
            errors["duration_days"] = f"An audit lasts 1 to {MAX_AUDIT_DAYS} business days."
        if not self.self_audit and not self.auditor_firm.strip():
            errors["auditor_firm"] = (
                "Name the third-party auditor, or tick that the customer audits itself."
            )
        if self.ground == AuditGround.BREACH and self.breach_id is None:
            # A plan awaiting its email confirmation cannot name a breach; from receipt on,
            # staff must link it (stricter than the constraint, which lets plan_confirm save).
            if self.status != AuditStatus.UNCONFIRMED:
                errors["breach"] = "Choose the recorded breach that affected this customer."
        elif self.breach_not_theirs():
            errors["breach"] = BREACH_NOT_THEIRS
        if self.ground in (AuditGround.CONCERNS, AuditGround.LAW) and not (
            self.evidence.strip() or self.supporting_document
        ):
            errors["evidence"] = EVIDENCE_NEEDED
        if (
            self.final_plan_agreed_on
            and self.proposed_start
            and not deadlines.final_plan_in_time(self.final_plan_agreed_on, self.proposed_start)
        ):
            errors["final_plan_agreed_on"] = (
                "The final plan must be agreed at least 14 days before the start (A4): by "
                f"{deadlines.final_plan_latest(self.proposed_start):%Y-%m-%d}. Move the start "
                "or agree the plan earlier."
            )
        if self.auditor_objection and not self.auditor_objected_on:
            errors["auditor_objected_on"] = "Record when Harmonyze objected to the auditor."
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every path, clean() or not (a service, the shell): blank-only text is no evidence
        # for the constraint, and a breach ground names a breach of this very customer.
        self.evidence = self.evidence.strip()
        if self.breach_not_theirs():
            raise ValidationError({"breach": BREACH_NOT_THEIRS})
        self.refresh_checks()
        stored = self._stored_entitlement_inputs()
        with transaction.atomic():
            super().save(*args, **kwargs)
            current = self._entitlement_inputs()
            if stored != current:
                # A1: the later yearly audits were judged without this one (entered after
                # them), or against its old start, ground or status.
                verb = "entered" if stored is None else "changed"
                recheck_yearly_audits_after(
                    [current, *([stored] if stored else [])],
                    exclude_pk=self.pk,
                    reason=f"A1 entitlement rechecked: the audit request starting "
                    f"{self.proposed_start:%Y-%m-%d} was {verb}",
                )

    def _entitlement_inputs(self) -> tuple[Any, ...]:
        """What the A1 answer of this customer's other audits depends on."""
        return (self.customer_id, self.proposed_start, self.ground, self.status)

    def _stored_entitlement_inputs(self) -> tuple[Any, ...] | None:
        if self.pk is None:
            return None
        return (
            AuditRequest.objects.filter(pk=self.pk)
            .values_list("customer_id", "proposed_start", "ground", "status")
            .first()
        )

    def recheck_entitlement(self, *, reason: str) -> bool:
        """A1: recompute the stored checks and, when the entitlement answer changed, save it
        with a history row and ``reason``. Returns whether it changed."""
        stored = (self.entitled, self.previous_audit_id)
        self.refresh_checks()
        if (self.entitled, self.previous_audit_id) == stored:
            return False
        self._change_reason = reason
        self.save()
        return True

    def breach_not_theirs(self) -> bool:
        """A1 (1): the breach a breach ground points at must have affected this customer
        (a notice to them is recorded on it)."""
        return (
            self.ground == AuditGround.BREACH
            and self.breach_id is not None
            and self.customer_id is not None
            and not BreachNotice.objects.filter(
                breach_id=self.breach_id, customer_id=self.customer_id
            ).exists()
        )

    def refresh_checks(self) -> None:
        """Recompute the stored A4 due date, and the A2, A1 and A5 checks from the legal date
        of receipt."""
        self.final_plan_due = (
            deadlines.final_plan_latest(self.proposed_start) if self.proposed_start else None
        )
        received = self.received_on
        if received is None:
            self.earliest_compliant_start = self.lead_time_met = self.entitled = None
            self.previous_audit = self.type2_report = None
            return
        self.earliest_compliant_start = deadlines.earliest_start(received)
        self.lead_time_met = deadlines.lead_time_met(received, self.proposed_start)
        # A1: the latest yearly audit starting before this one; its anniversary decides. Of
        # two starting the same day, the one entered first is the yearly audit, whichever of
        # them is saved last.
        same_day = Q(proposed_start=self.proposed_start)
        if self.pk is not None:
            same_day &= Q(pk__lt=self.pk)
        previous = (
            AuditRequest.objects.yearly()
            .filter(customer_id=self.customer_id)
            .filter(Q(proposed_start__lt=self.proposed_start) | same_day)
            .exclude(pk=self.pk)
            .order_by("-proposed_start", "-pk")
            .first()
        )
        self.entitled = previous is None or deadlines.yearly_audit_allowed(
            previous.proposed_start, self.proposed_start
        )
        # Kept only when it is the audit that uses up the entitlement.
        self.previous_audit = None if self.entitled else previous
        self.type2_report = AuditReport.objects.type2().qualifying(received).first()

    @property
    def needs_exception_ground(self) -> bool:
        """A1: a yearly audit starting before the anniversary of the previous yearly audit's
        start needs a ground other than the yearly one."""
        return self.entitled is False and self.ground == AuditGround.ANNUAL

    @property
    def next_yearly_start(self) -> date | None:
        """A1: the first day a yearly audit could start, when this request is not entitled."""
        if self.previous_audit is None:
            return None
        return deadlines.next_yearly_start(self.previous_audit.proposed_start)

    def other_qualifying_reports(self) -> list[AuditReport]:
        if self.received_on is None:
            return []
        return list(
            AuditReport.objects.filter(kind__in=OTHER_QUALIFYING_KINDS).qualifying(self.received_on)
        )


def recheck_yearly_audits_after(
    starts: Sequence[tuple[Any, ...]], *, exclude_pk: Any = None, reason: str
) -> int:
    """A1: recheck the confirmed yearly audits of each ``(customer_id, start, ...)`` given
    that start within twelve months after ``start``: the only ones whose answer a yearly audit
    starting then can change. Each one whose answer changes is saved with a history row and
    ``reason``. Returns how many changed."""
    window = Q(pk__in=[])
    for customer_id, start, *_ in starts:
        window |= Q(
            customer_id=customer_id,
            proposed_start__gte=start,
            proposed_start__lt=deadlines.next_yearly_start(start),
        )
    later = (
        AuditRequest.objects.confirmed()
        .filter(window, ground=AuditGround.ANNUAL)
        .exclude(pk=exclude_pk)
        .order_by("proposed_start", "pk")
    )
    return sum(request.recheck_entitlement(reason=reason) for request in later)


@receiver(post_delete, sender=AuditRequest)
def _audit_request_deleted(sender: type[AuditRequest], instance: AuditRequest, **_: Any) -> None:
    recheck_yearly_audits_after(
        [instance._entitlement_inputs()],
        reason=f"A1 entitlement rechecked: the audit request starting "
        f"{instance.proposed_start:%Y-%m-%d} was deleted",
    )


class AuditFindingQuerySet(TrackedQuerySet["AuditFinding"]):
    def open(self) -> AuditFindingQuerySet:
        return self.filter(remediated_on__isnull=True)


AuditFindingManager = models.Manager.from_queryset(AuditFindingQuerySet)


class AuditFinding(TrackedModel):
    """Non-compliance the customer found and disclosed (A6)."""

    request = models.ForeignKey(
        AuditRequest,
        on_delete=models.CASCADE,
        related_name="findings",
        verbose_name="Audit request",
    )
    description = models.TextField(verbose_name="Description")
    disclosed_on = models.DateField("Disclosed to Harmonyze on")
    remediation = models.TextField(blank=True, verbose_name="Remediation")
    remediated_on = models.DateField(null=True, blank=True, verbose_name="Remediated on")

    objects: ClassVar[AuditFindingManager] = AuditFindingManager()

    class Meta:
        verbose_name = "audit finding"
        verbose_name_plural = "audit findings"
        ordering = ["disclosed_on"]
        indexes = [
            # The changelist's order: a page is an index range (issue 16, P5).
            models.Index(fields=["disclosed_on", "-id"], name="audit_finding_list_order"),
        ]

    def __str__(self) -> str:
        return f"Finding disclosed {self.disclosed_on} ({self.request.customer})"
