from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q

from customers.models import Customer
from harmonyze_portal.history import TrackedModel, TrackedQuerySet, bulk_create_with_history
from harmonyze_portal.timefmt import staff_datetime
from requests import deadlines

# R6: exports of demand data (dashboard, transparency report) are counsel's alone: the
# permission is declared counsel-only on RequestsConfig (requests/apps.py).
EXPORT_PERMISSION = "requests.export_demands"


class LegalProcess(models.TextChoices):
    SUBPOENA = "subpoena", "Subpoena"
    COURT_ORDER = "court_order", "Court order"
    SEARCH_WARRANT = "search_warrant", "Search warrant"
    NATIONAL_SECURITY = "national_security", "National security process"
    EMERGENCY = "emergency", "Emergency request"
    OTHER = "other", "Other"


class Disclosure(models.TextChoices):
    PENDING = "pending", "Not decided yet"
    NOTHING = "nothing", "Nothing disclosed"
    PART = "part", "Some data disclosed"
    ALL = "all", "All data sought disclosed"


class DemandOutcome(models.TextChoices):
    """R5: how a demand ended, as the transparency report counts it, in the report's order.
    Derived from the redirect and the disclosure, never stored; the value is the report's
    word."""

    REDIRECTED = "redirected", "Redirected"
    NOTHING = "nothing disclosed", "Nothing disclosed"
    PART = "some disclosed", "Some disclosed"
    ALL = "all disclosed", "All disclosed"
    PENDING = "pending", "Pending"


_OUTCOME_OF_DISCLOSURE = {
    Disclosure.NOTHING: DemandOutcome.NOTHING,
    Disclosure.PART: DemandOutcome.PART,
    Disclosure.ALL: DemandOutcome.ALL,
}


class StepKind(models.TextChoices):
    """What SCC Clause 15 asks Harmonyze to do, and document, about a demand."""

    LEGALITY_REVIEW = "legality_review", "Legality of the demand reviewed (SCC 15.2(a))"
    CHALLENGE = "challenge", "Demand challenged (SCC 15.2(a))"
    MINIMAL_DISCLOSURE = "minimal_disclosure", "Only the minimum disclosed (SCC 15.2(c))"
    LIFT_ORDER = "lift_order", "Effort to lift the non-disclosure order (SCC 15.1(b))"


CUSTOMER_NOTICE_DUE = Q(customer_notice_due_on__isnull=False, customer_notified_on__isnull=True)
ORDER_REVIEW_DUE = Q(order_review_due_on__isnull=False, customer_notified_on__isnull=True)


class DemandQuerySet(TrackedQuerySet["LawEnforcementDemand"]):
    """The open R4 deadlines, each written once: the dashboard, the admin list filter, the
    calendar feed and the digest all call these (the due dates are stored, see ``save()``)."""

    def customer_notice_open(self) -> DemandQuerySet:
        """R4: the customer must be told and has not been; ``customer_notice_due_on`` says
        from when (receipt, or the day after the order's last binding day)."""
        return self.filter(CUSTOMER_NOTICE_DUE)

    def order_review_open(self) -> DemandQuerySet:
        """R4, SCC 15.1(b): an order without an end date binds, the customer is not told, and
        ``order_review_due_on`` says when efforts to lift it are next reviewed."""
        return self.filter(ORDER_REVIEW_DUE)

    def open(self) -> DemandQuerySet:
        """C9: a demand not yet settled (nothing decided on disclosure, or the customer still
        to be told, or an order still under review): terminating its customer is a conflict."""
        return self.filter(
            Q(disclosure=Disclosure.PENDING) | CUSTOMER_NOTICE_DUE | ORDER_REVIEW_DUE
        )

    def in_half_year(self, year: int, half: int) -> DemandQuerySet:
        start = date(year, 1 if half == 1 else 7, 1)
        end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        return self.filter(received_on__range=(start, end))


DemandManager = models.Manager.from_queryset(DemandQuerySet)


class LawEnforcementDemand(TrackedModel):
    """A law-enforcement or government demand for Customer data (R4, R5; PP 5; DPA 3.2.4).

    Restricted to privacy counsel; every view is logged (``DemandView``).
    """

    agency = models.CharField(max_length=200, verbose_name="Agency")
    country = models.CharField(max_length=100, verbose_name="Country")
    legal_process = models.CharField(
        max_length=30, choices=LegalProcess.choices, verbose_name="Legal process"
    )
    received_on = models.DateField(db_index=True, verbose_name="Received on")
    # H1: the links are records of their own (``DemandCustomer``), so adding or removing a
    # customer is history, whichever path writes it.
    customers = models.ManyToManyField(
        Customer,
        through="DemandCustomer",
        related_name="demands",
        blank=True,
        verbose_name="Customers concerned",
    )
    data_sought = models.TextField("What is sought")

    # The workflow the Privacy Policy promises, in order.
    redirect_attempted_on = models.DateField(
        "Redirect to the customer attempted on", null=True, blank=True
    )
    redirect_contact = models.CharField(
        "Customer contact named to the agency", max_length=200, blank=True
    )
    contact_details_given = models.BooleanField(
        "Customer's basic contact details given to the agency", default=False
    )
    compelled = models.BooleanField("Harmonyze is legally compelled", default=False)
    nondisclosure_order = models.BooleanField("Non-disclosure order", default=False)
    nondisclosure_order_starts = models.DateField(
        null=True, blank=True, verbose_name="Non-disclosure order starts"
    )
    nondisclosure_order_ends = models.DateField(
        "Non-disclosure order's last binding day",
        null=True,
        blank=True,
        help_text="Leave empty for an order without an end date: it then comes up for review "
        "every few months (R4, SCC 15.1(b)).",
    )
    # Computed by requests.deadlines on every save (R4); the dashboard filters on them.
    customer_notice_due_on = models.DateField(
        "Customer notice due", null=True, blank=True, editable=False, db_index=True
    )
    order_review_due_on = models.DateField(
        "Non-disclosure order review due", null=True, blank=True, editable=False, db_index=True
    )
    customer_notified_on = models.DateField(
        null=True, blank=True, verbose_name="Customer notified on"
    )
    customer_notified_to = models.CharField(
        max_length=200, blank=True, verbose_name="Customer notified at (address)"
    )
    challenged = models.BooleanField("Challenged or objected", default=False)
    challenge_note = models.TextField(blank=True, verbose_name="Challenge")
    disclosure = models.CharField(
        max_length=20,
        choices=Disclosure.choices,
        default=Disclosure.PENDING,
        verbose_name="Disclosure",
    )
    disclosed_on = models.DateField(null=True, blank=True, verbose_name="Disclosed on")
    notes = models.TextField(blank=True, verbose_name="Notes")

    objects: ClassVar[DemandManager] = DemandManager()

    class Meta:
        verbose_name_plural = "law-enforcement demands"
        verbose_name = "law-enforcement demand"
        ordering = ["-received_on"]
        indexes = [
            # The changelist's order: a page is an index range (issue 16, P5).
            models.Index(fields=["received_on", "id"], name="demand_list_order"),
            models.Index(
                fields=["customer_notice_due_on"],
                condition=CUSTOMER_NOTICE_DUE,
                name="r4_customer_notice_due",
            ),
            models.Index(
                fields=["order_review_due_on"],
                condition=ORDER_REVIEW_DUE,
                name="r4_order_review_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(nondisclosure_order_ends__isnull=True)
                | Q(nondisclosure_order_starts__isnull=True)
                | Q(nondisclosure_order_ends__gte=models.F("nondisclosure_order_starts")),
                name="ndo_ends_after_start",
                violation_error_message="The non-disclosure order ends before it starts.",
            ),
            models.CheckConstraint(
                # R4: the customer hears first, unless an order forbids telling it.
                condition=Q(disclosed_on__isnull=True)
                | Q(nondisclosure_order=True)
                | Q(
                    customer_notified_on__isnull=False,
                    customer_notified_on__lte=models.F("disclosed_on"),
                ),
                name="customer_notified_before_disclosure",
                violation_error_message="Notify the customer before disclosing anything, unless "
                "a non-disclosure order forbids it.",
            ),
        ]
        permissions = [
            ("view_demand_history", "Can export law-enforcement history"),
            ("export_demands", "Can export law-enforcement data (counsel, R6)"),
        ]

    def __str__(self) -> str:
        return f"{self.get_legal_process_display()} from {self.agency} ({self.received_on})"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.nondisclosure_order and not self.nondisclosure_order_starts:
            errors["nondisclosure_order_starts"] = "When does the order start?"
        if (
            self.nondisclosure_order_starts
            and self.nondisclosure_order_ends
            and self.nondisclosure_order_ends < self.nondisclosure_order_starts
        ):
            errors["nondisclosure_order_ends"] = "The order cannot end before it starts."
        if self.disclosed_on and not self.nondisclosure_order:
            if self.customer_notified_on is None:
                errors["disclosed_on"] = (
                    "Notify the customer before disclosing anything (R4), or record the "
                    "non-disclosure order that forbids it."
                )
            elif self.customer_notified_on > self.disclosed_on:
                errors["disclosed_on"] = "The customer was notified after the disclosure."
        if self.disclosure in (Disclosure.PART, Disclosure.ALL) and not self.disclosed_on:
            errors["disclosed_on"] = "Record when the data was disclosed."
        if self.disclosure in (Disclosure.PART, Disclosure.ALL) and not self.compelled:
            errors["compelled"] = "Harmonyze discloses nothing voluntarily (R4, PP 5)."
        if errors:
            raise ValidationError(errors)

    def last_order_review(self) -> date | None:
        """The latest recorded effort to lift the non-disclosure order (SCC 15.1(b))."""
        if self.pk is None:
            return None
        found: date | None = self.steps.filter(kind=StepKind.LIFT_ORDER).aggregate(
            last=Max("taken_on")
        )["last"]
        return found

    def refresh_deadlines(self) -> bool:
        """Recompute the stored R4 due dates; whether either moved."""
        before = (self.customer_notice_due_on, self.order_review_due_on)
        self.customer_notice_due_on = deadlines.customer_notice_due(
            received=self.received_on,
            compelled=self.compelled,
            nondisclosure_order=self.nondisclosure_order,
            order_ends=self.nondisclosure_order_ends,
        )
        self.order_review_due_on = deadlines.order_review_due(
            nondisclosure_order=self.nondisclosure_order,
            order_starts=self.nondisclosure_order_starts,
            order_ends=self.nondisclosure_order_ends,
            last_review=self.last_order_review(),
            review_days=settings.NDO_REVIEW_DAYS,
        )
        return before != (self.customer_notice_due_on, self.order_review_due_on)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_deadlines()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "customer_notice_due_on",
                "order_review_due_on",
            }
        super().save(*args, **kwargs)

    @property
    def outcome(self) -> DemandOutcome:
        """R5 outcome for the transparency report."""
        if self.disclosure == Disclosure.PENDING and self.redirect_attempted_on:
            return DemandOutcome.REDIRECTED
        return _OUTCOME_OF_DISCLOSURE.get(Disclosure(self.disclosure), DemandOutcome.PENDING)


class DemandCustomerQuerySet(TrackedQuerySet["DemandCustomer"]):
    def bulk_create(
        self, objs: Iterable[DemandCustomer], *args: Any, **kwargs: Any
    ) -> list[DemandCustomer]:
        # Django's related manager (``demand.customers.add()``, ``set()``, the admin form)
        # adds links with bulk_create(), which writes no history. A demand names a handful of
        # customers: save each, so every link gets its history row, actor and reason (H1).
        from harmonyze_portal.history import _bulk_allowed

        if _bulk_allowed.get():
            return super().bulk_create(objs, *args, **kwargs)
        saved = []
        for link in objs:
            link.save()
            saved.append(link)
        return saved


DemandCustomerManager = models.Manager.from_queryset(DemandCustomerQuerySet)


class DemandCustomer(TrackedModel):
    """A Customer a demand concerns (R4). A record of its own so that each link added or
    removed is in the history (H1), on the demand's History page and in the export."""

    demand = models.ForeignKey(
        LawEnforcementDemand,
        on_delete=models.CASCADE,
        related_name="customer_links",
        verbose_name="Demand",
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="demand_links", verbose_name="Customer"
    )

    objects: ClassVar[DemandCustomerManager] = DemandCustomerManager()

    class Meta:
        verbose_name = "customer concerned by a demand"
        verbose_name_plural = "customers concerned by demands"
        constraints = [
            models.UniqueConstraint(fields=["demand", "customer"], name="demand_customer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} — {self.demand}"


class DemandStepQuerySet(TrackedQuerySet["DemandStep"]):
    pass


DemandStepManager = models.Manager.from_queryset(DemandStepQuerySet)


class DemandStep(TrackedModel):
    """A documented step under SCC Clause 15: the legality review, a challenge, the minimum
    disclosed (15.2), an effort to lift a non-disclosure order (15.1(b)). Recording an effort
    to lift an open-ended order moves its next review (R4)."""

    demand = models.ForeignKey(
        LawEnforcementDemand, on_delete=models.CASCADE, related_name="steps", verbose_name="Demand"
    )
    kind = models.CharField("Step", max_length=30, choices=StepKind.choices)
    taken_on = models.DateField("Date")
    note = models.TextField(
        help_text="What was done and why: the record SCC 15.2(b) asks for.", verbose_name="Note"
    )

    objects: ClassVar[DemandStepManager] = DemandStepManager()

    class Meta:
        verbose_name_plural = "SCC Clause 15 steps"
        verbose_name = "SCC Clause 15 step"
        ordering = ["taken_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(note=""),
                name="demand_step_documented",
                violation_error_message="Document the step: SCC Clause 15.2(b) asks for a "
                "written record of each.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.taken_on}"

    def clean(self) -> None:
        super().clean()
        try:
            # The admin's inline sets the demand as the form left it (not yet saved).
            demand = self.demand
        except LawEnforcementDemand.DoesNotExist:
            return
        if self.taken_on and demand.received_on and self.taken_on < demand.received_on:
            raise ValidationError({"taken_on": "A step cannot come before the demand arrived."})
        if self.kind == StepKind.LIFT_ORDER and not demand.nondisclosure_order:
            raise ValidationError(
                {"kind": "There is no non-disclosure order to lift (SCC 15.1(b))."}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)
            self._refresh_demand()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            result = super().delete(*args, **kwargs)
            self._refresh_demand()
        return result

    def _refresh_demand(self) -> None:
        demand = LawEnforcementDemand.objects.get(pk=self.demand_id)
        if demand.refresh_deadlines():
            demand._change_reason = (  # type: ignore[attr-defined]
                f"R4: the order review moved with the step “{self}” (SCC 15.1(b))"
            )
            demand.save()


class DemandViewQuerySet(TrackedQuerySet["DemandView"]):
    pass


DemandViewManager = models.Manager.from_queryset(DemandViewQuerySet)


class DemandView(TrackedModel):
    """Every view of a law-enforcement record, for accountability."""

    # PROTECT: the access log of a demand is kept as long as the demand.
    demand = models.ForeignKey(
        LawEnforcementDemand, on_delete=models.PROTECT, related_name="views", verbose_name="Demand"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="Staff member",
    )
    viewed_at = models.DateTimeField(auto_now_add=True, verbose_name="Viewed at")
    path = models.CharField(max_length=300, verbose_name="Page")

    objects: ClassVar[DemandViewManager] = DemandViewManager()

    class Meta:
        verbose_name = "view of a demand"
        verbose_name_plural = "views of demands"
        ordering = ["-viewed_at"]
        indexes = [
            # The changelist's order: a page is an index range (issue 16, P5).
            models.Index(fields=["viewed_at", "id"], name="demand_view_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.user} viewed {self.demand} at {staff_datetime(self.viewed_at)}"

    @classmethod
    def log(cls, *, user: Any, demand_ids: Sequence[int], path: str) -> None:
        """One row per demand shown, written in one INSERT (and one for their history): the
        changelist, the dashboard and every export log what they showed (R6)."""
        # The demands in one query: each history row is named after its view, which names
        # its demand. A demand deleted meanwhile has nothing left to log a view of.
        demands = LawEnforcementDemand.objects.in_bulk(sorted(set(demand_ids)))
        if not demands:
            return
        bulk_create_with_history(
            [cls(demand=demand, user=user, path=path[:300]) for demand in demands.values()],
            cls,
            user=user,
        )
