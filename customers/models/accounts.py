from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Lower

from customers import deadlines
from harmonyze_portal.conflicts import (
    TerminationConflictError,
    confirmed_reason,
    termination_conflicts,
)
from harmonyze_portal.dates import Computation
from harmonyze_portal.history import TrackedModel, TrackedQuerySet, current_reason

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain(value: str) -> str:
    return (value or "").strip().lower().removeprefix("@")


def validate_domain(value: str) -> None:
    if not _DOMAIN.match(value):
        raise ValidationError(
            f"{value!r} is not an email domain (write it like acme.com, without @ or https://)."
        )


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TERMINATED = "terminated", "Terminated"


class TerminatedBy(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    HARMONYZE = "harmonyze", "Harmonyze"
    MUTUAL = "mutual", "Mutual agreement"


class TerminationRoute(models.TextChoices):
    ORDINARY = "ordinary", "Under the Agreement"
    OBJECTION = "objection", "Unresolved sub-processor objection (DPA 5.1)"


# The open C3 and C4 deadlines, written once: the QuerySet methods below and the partial
# indexes that keep the dashboard's exact counts cheap share them.
DELETION_OPEN = Q(deletion_due__isnull=False, deletion_completed_on__isnull=True)
PURGE_OPEN = Q(credential_purge_due__isnull=False, credential_purge_completed_on__isnull=True)


class CustomerQuerySet(TrackedQuerySet["Customer"]):
    def terminated(self) -> CustomerQuerySet:
        return self.filter(status=CustomerStatus.TERMINATED)

    def deletion_open(self) -> CustomerQuerySet:
        """C3: the customer's personal data is due for deletion and not yet deleted."""
        return self.filter(DELETION_OPEN)

    def deletion_overdue(self, today: date) -> CustomerQuerySet:
        return self.deletion_open().filter(deletion_due__lt=today)

    def with_hold(self) -> CustomerQuerySet:
        """C9: ``hold_basis``, the legal basis of the customer's first active legal hold, or
        None: one subquery, so a list shows "held" without a query per row."""
        # The hold model by its relation: holds.py imports this module, not the reverse.
        hold_model: Any = self.model._meta.get_field("legal_holds").related_model
        holds = hold_model._default_manager.active().filter(customer=OuterRef("pk"))
        first = holds.order_by("started_on", "pk").values("legal_basis")[:1]
        return self.annotate(hold_basis=Subquery(first))

    def deletion_open_with_hold(self) -> CustomerQuerySet:
        """C3 as the dashboard lists it: open deletions, each saying whether a hold keeps data
        (C9: held, never silently dropped)."""
        return self.deletion_open().with_hold()

    def deletion_due_between(self, start: date, end: date) -> CustomerQuerySet:
        return self.deletion_open().filter(deletion_due__range=(start, end))

    def purge_open(self) -> CustomerQuerySet:
        """C4: data and credentials are due for purging and not yet purged."""
        return self.filter(PURGE_OPEN)

    def purge_overdue(self, today: date) -> CustomerQuerySet:
        return self.purge_open().filter(credential_purge_due__lt=today)

    def for_email(self, email: str) -> CustomerQuerySet:
        """Customers whose domains match the email's domain (used by the other areas)."""
        domain = email.rpartition("@")[2].strip().lower()
        return self.filter(domains__domain=domain)


CustomerManager = models.Manager.from_queryset(CustomerQuerySet)


class Customer(TrackedModel):
    """A customer of Harmonyze and controller of its Service Data (C1)."""

    legal_name = models.CharField(max_length=200, unique=True, verbose_name="Legal name")
    status = models.CharField(
        max_length=20,
        choices=CustomerStatus.choices,
        default=CustomerStatus.ACTIVE,
        verbose_name="Status",
    )
    agreement_effective_on = models.DateField("Agreement effective date")

    termination_date = models.DateField(null=True, blank=True, verbose_name="Termination date")
    terminated_by = models.CharField(
        max_length=20, choices=TerminatedBy.choices, blank=True, verbose_name="Terminated by"
    )
    termination_route = models.CharField(
        max_length=20,
        choices=TerminationRoute.choices,
        blank=True,
        verbose_name="Termination route",
    )
    termination_reason = models.TextField(blank=True, verbose_name="Reason for termination")
    earlier_deletion_requested_on = models.DateField(
        "Earlier deletion requested on",
        null=True,
        blank=True,
        help_text="If the customer asked for deletion before the 30 days ran out (C4).",
    )
    # Stored and indexed so "what is due" is one filter (C3, C4).
    deletion_due = models.DateField(
        null=True, blank=True, db_index=True, editable=False, verbose_name="Deletion due"
    )
    credential_purge_due = models.DateField(
        null=True, blank=True, db_index=True, editable=False, verbose_name="Credential purge due"
    )
    deletion_completed_on = models.DateField(
        null=True, blank=True, verbose_name="Deletion completed on"
    )
    credential_purge_completed_on = models.DateField(
        null=True, blank=True, verbose_name="Credential purge completed on"
    )

    created_at = models.DateTimeField(auto_now_add=True, verbose_name="Recorded at")

    objects: ClassVar[CustomerManager] = CustomerManager()

    # C9: set by whoever confirmed a termination despite an active hold or an open demand
    # (the change form's tick box, an import column, the objection route, a service call).
    confirm_termination_conflicts: bool = False

    class Meta:
        verbose_name = "customer"
        verbose_name_plural = "customers"
        ordering = ["legal_name"]
        indexes = [
            # The changelist by status, in its order (issue 16, P5).
            models.Index(fields=["status", "legal_name"], name="customer_list_by_status"),
            models.Index(fields=["deletion_due"], condition=DELETION_OPEN, name="c3_deletion_open"),
            models.Index(
                fields=["credential_purge_due"], condition=PURGE_OPEN, name="c4_purge_open"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True)
                | Q(termination_date__gte=models.F("agreement_effective_on")),
                name="customer_terminated_after_effective",
                violation_error_message="The termination date is before the Agreement's "
                "effective date.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        status=CustomerStatus.ACTIVE,
                        termination_date__isnull=True,
                        deletion_due__isnull=True,
                        credential_purge_due__isnull=True,
                    )
                    | Q(
                        status=CustomerStatus.TERMINATED,
                        termination_date__isnull=False,
                        deletion_due__isnull=False,
                        credential_purge_due__isnull=False,
                    )
                ),
                name="customer_status_matches_termination",
            ),
            models.CheckConstraint(
                condition=Q(deletion_completed_on__isnull=True)
                | Q(deletion_completed_on__gte=models.F("termination_date")),
                name="customer_deletion_after_termination",
                violation_error_message="Deletion cannot be recorded before the termination date.",
            ),
            models.CheckConstraint(
                condition=Q(credential_purge_completed_on__isnull=True)
                | Q(credential_purge_completed_on__gte=models.F("termination_date")),
                name="customer_purge_after_termination",
                violation_error_message="The credential purge cannot be recorded before the "
                "termination date.",
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def notice_contact(self) -> Contact | None:
        return self.contacts.filter(is_notice_contact=True).first()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Status and the C3/C4 clocks follow the termination date, whatever path wrote it.
        Clearing the date reopens the customer and clears the clocks (history keeps them)."""
        self._follow_termination()
        if self._terminating():
            conflicts = termination_conflicts(self)
            if conflicts and not self.confirm_termination_conflicts:
                raise TerminationConflictError(conflicts, field="termination_date")
            if conflicts:
                reason = getattr(self, "_change_reason", None) or current_reason() or "Terminated"
                self._change_reason = confirmed_reason(reason, conflicts)
        super().save(*args, **kwargs)
        self.confirm_termination_conflicts = False  # a confirmation covers this one write

    def _terminating(self) -> bool:
        """Whether this write sets a termination date the stored row does not have yet."""
        if self.termination_date is None or self.pk is None:
            return False
        stored = type(self)._default_manager.filter(pk=self.pk, termination_date__isnull=True)
        return stored.exists()

    def _follow_termination(self) -> None:
        if self.termination_date is None:
            self.status = CustomerStatus.ACTIVE
            self.deletion_due = self.credential_purge_due = None
            self.deletion_completed_on = self.credential_purge_completed_on = None
            self.earlier_deletion_requested_on = None
        else:
            self.status = CustomerStatus.TERMINATED
            self.deletion_due = deadlines.deletion_due(self.termination_date)
            self.credential_purge_due = deadlines.credential_purge_due(
                self.termination_date, self.earlier_deletion_requested_on
            )

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.termination_date is None:
            for name in ("terminated_by", "termination_route"):
                if getattr(self, name):
                    errors[name] = "Only for a terminated customer: set the termination date."
        else:
            if not self.terminated_by:
                errors["terminated_by"] = "Say who terminated the Agreement."
            if not self.termination_route:
                self.termination_route = TerminationRoute.ORDINARY
            if self.agreement_effective_on and self.termination_date < self.agreement_effective_on:
                errors["termination_date"] = (
                    "The termination date is before the Agreement's effective date "
                    f"({self.agreement_effective_on:%Y-%m-%d})."
                )
        for name in ("deletion_completed_on", "credential_purge_completed_on"):
            value = getattr(self, name)
            if value and (self.termination_date is None or value < self.termination_date):
                errors[name] = "Record this on or after the termination date."
        if not errors and self._terminating() and not self.confirm_termination_conflicts:
            conflicts = termination_conflicts(self)
            if conflicts:
                raise TerminationConflictError(conflicts, field="termination_date")
        # full_clean() checks the constraints next: they must see the status and clocks that
        # save() will write, not the ones from before the termination date changed.
        self._follow_termination()
        if errors:
            raise ValidationError(errors)

    def deadline_lines(self) -> list[Computation]:
        """T5: how the C3 and C4 dates were computed, for the change page."""
        if self.termination_date is None:
            return []
        return [
            deadlines.deletion_due_explained(self.termination_date),
            deadlines.credential_purge_due_explained(
                self.termination_date, self.earlier_deletion_requested_on
            ),
        ]

    def deletion_overdue(self, today: date) -> bool:
        return bool(
            self.deletion_due and not self.deletion_completed_on and self.deletion_due < today
        )

    def purge_overdue(self, today: date) -> bool:
        return bool(
            self.credential_purge_due
            and not self.credential_purge_completed_on
            and self.credential_purge_due < today
        )


class CustomerDomain(TrackedModel):
    """An email domain that identifies the customer; unique across all customers."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="domains", verbose_name="Customer"
    )
    domain = models.CharField(max_length=253, validators=[validate_domain], verbose_name="Domain")

    class Meta:
        verbose_name = "email domain"
        verbose_name_plural = "email domains"
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"),
                name="customer_domain_unique",
                violation_error_message="This domain already belongs to a customer.",
            )
        ]

    def __str__(self) -> str:
        return self.domain

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # Tidy before the validator sees it, so " @Acme.COM" is stored as "acme.com".
        self.domain = normalize_domain(self.domain)
        super().clean_fields(exclude=exclude)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whatever path wrote it (an import, a script): lookups compare lower case (for_email).
        self.domain = normalize_domain(self.domain)
        super().save(*args, **kwargs)


class ContactRole(models.TextChoices):
    LEGAL = "legal", "Legal"
    PRIVACY = "privacy", "Privacy / DPO"
    SECURITY = "security", "Security"
    OTHER = "other", "Other"


class Contact(TrackedModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name="Customer"
    )
    name = models.CharField(max_length=200, verbose_name="Name")
    email = models.EmailField(verbose_name="Email address")
    role = models.CharField(max_length=20, choices=ContactRole.choices, verbose_name="Role")
    is_notice_contact = models.BooleanField(
        "Notice contact",
        default=False,
        help_text="Receives breach notices and other formal notices. One per customer.",
    )

    class Meta:
        verbose_name = "contact"
        verbose_name_plural = "contacts"
        ordering = ["customer", "-is_notice_contact", "name"]
        indexes = [
            # A search for a whole address is LOWER(email) = … (harmonyze_portal/admin_lists).
            models.Index(Lower("email"), name="contact_email_exact"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_notice_contact=True),
                name="one_notice_contact_per_customer",
                violation_error_message="This customer already has a notice contact.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
