from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from customers.models.accounts import Customer
from customers.models.holds import LegalHold, LegalHoldQuerySet
from harmonyze_portal.history import TrackedModel, TrackedQuerySet
from harmonyze_portal.uploads import PrivateUploadPath, validate_pdf


class DPAStatus(models.TextChoices):
    IN_FORCE = "in_force", "In force"
    SUPERSEDED = "superseded", "Superseded"


class DPAQuerySet(TrackedQuerySet["DPA"]):
    def in_force(self) -> DPAQuerySet:
        return self.filter(status=DPAStatus.IN_FORCE)


DPAManager = models.Manager.from_queryset(DPAQuerySet)


class DPA(TrackedModel):
    """A Data Processing Addendum signed by a customer (C2)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="dpas", verbose_name="Customer"
    )
    version = models.CharField("DPA version", max_length=50, help_text="For example 2024-03.")
    status = models.CharField(
        max_length=20, choices=DPAStatus.choices, default=DPAStatus.IN_FORCE, verbose_name="Status"
    )
    signed_on = models.DateField("Signature date")
    effective_on = models.DateField("Effective date")
    signed_file = models.FileField(
        "Signed DPA (PDF)",
        upload_to=PrivateUploadPath("customers/dpas"),
        validators=[validate_pdf],
        blank=True,
    )
    # Transfer terms in force (DPA 3.2); several may apply at once.
    eu_sccs_module_two = models.BooleanField("EU SCCs, Module Two", default=True)
    uk_addendum = models.BooleanField("UK Addendum", default=False)
    swiss_fadp = models.BooleanField(
        "Swiss FADP adaptation", default=False, help_text="With the FDPIC as authority."
    )
    governing_law = models.CharField(
        max_length=100, default="Ireland", verbose_name="Governing law"
    )
    courts = models.CharField(max_length=100, default="Ireland", verbose_name="Courts")
    supervisory_authority = models.CharField(
        "Supervisory authority",
        max_length=200,
        blank=True,
        help_text="As communicated by the customer (DPA 3.2.9).",
    )
    supervisory_authority_country = models.CharField(
        "Authority country", max_length=100, blank=True
    )
    deviations = models.TextField(
        "Negotiated deviations",
        blank=True,
        help_text="Anything that differs from the standard DPA.",
    )

    objects: ClassVar[DPAManager] = DPAManager()

    class Meta:
        verbose_name = "DPA"
        verbose_name_plural = "DPAs"
        ordering = ["customer", "-effective_on"]
        indexes = [
            # The register's order, customer by customer (the customers' names from their own
            # index, each one's DPAs from this one), whole and by status (issue 16, P5).
            models.Index(fields=["customer", "-effective_on", "-id"], name="dpa_list_order"),
            models.Index(
                fields=["status", "customer", "-effective_on", "-id"], name="dpa_list_by_status"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status=DPAStatus.IN_FORCE),
                name="one_dpa_in_force_per_customer",
                violation_error_message="This customer already has a DPA in force; mark it "
                "superseded first.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} – DPA {self.version}"

    @property
    def transfer_terms(self) -> list[str]:
        return terms_in_force(self.eu_sccs_module_two, self.uk_addendum, self.swiss_fadp)

    def clean(self) -> None:
        super().clean()
        errors = {}
        customer = getattr(self, "customer", None) if self.customer_id else None
        if customer and self.effective_on and self.effective_on < customer.agreement_effective_on:
            errors["effective_on"] = (
                f"The DPA cannot take effect before the customer's Agreement "
                f"({customer.agreement_effective_on:%Y-%m-%d})."
            )
        if not (self.eu_sccs_module_two or self.uk_addendum or self.swiss_fadp):
            errors["eu_sccs_module_two"] = "Tick at least one transfer mechanism in force."
        if errors:
            raise ValidationError(errors)


class DeletionCertificate(TrackedModel):
    """A certificate of deletion, given only on the customer's written request (C3)."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="deletion_certificates",
        verbose_name="Customer",
    )
    dpa = models.ForeignKey(
        DPA, on_delete=models.PROTECT, null=True, blank=True, verbose_name="DPA"
    )
    requested_on = models.DateField("Written request received on")
    requested_by = models.CharField("Requested by", max_length=200)
    request_letter = models.FileField(
        "Request letter (PDF)",
        upload_to=PrivateUploadPath("customers/deletion-requests"),
        validators=[validate_pdf],
        blank=True,
    )
    data_deleted = models.TextField(
        "Data deleted",
        default="All Customer Personal Data processed under the DPA, including backups.",
    )
    data_retained = models.TextField(
        "Data retained under a legal hold",
        blank=True,
        help_text="Filled from the active legal holds when the certificate is issued; the "
        "certificate names it (C9, DPA 9).",
    )
    refused_on = models.DateField(
        "Refused on",
        null=True,
        blank=True,
        editable=False,
        help_text="A certificate refused because a legal hold keeps the data (C9).",
    )
    refusal_reason = models.TextField("Why it was refused", blank=True, editable=False)
    signatory_name = models.CharField(max_length=200, blank=True, verbose_name="Signatory's name")
    signatory_title = models.CharField(max_length=200, blank=True, verbose_name="Signatory's title")
    issued_on = models.DateField(null=True, blank=True, verbose_name="Issued on")
    pdf = models.FileField(
        "Issued certificate (PDF)",
        upload_to=PrivateUploadPath("customers/deletion-certificates"),
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = "deletion certificate"
        verbose_name_plural = "deletion certificates"
        ordering = ["-requested_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(issued_on__gte=models.F("requested_on")),
                name="certificate_issued_after_request",
                violation_error_message="A certificate cannot be issued before it was requested.",
            ),
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(refused_on__isnull=True),
                name="certificate_issued_or_refused",
                violation_error_message="A certificate is either issued or refused, not both.",
            ),
            models.CheckConstraint(
                condition=Q(refused_on__isnull=True)
                | (Q(refused_on__gte=models.F("requested_on")) & ~Q(refusal_reason="")),
                name="certificate_refusal_explained",
                violation_error_message="A refusal is dated on or after the request and says "
                "why (C9).",
            ),
        ]

    def __str__(self) -> str:
        return f"Certificate of deletion for {self.customer} (requested {self.requested_on})"

    def clean(self) -> None:
        super().clean()
        self.check_holds()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whatever path writes it: no certificate contradicts a hold (C9).
        self.check_holds()
        super().save(*args, **kwargs)

    def holds_on_issue(self) -> LegalHoldQuerySet:
        """The customer's legal holds that keep data on the issue date (C9)."""
        if self.issued_on is None or self.customer_id is None:
            return LegalHold.objects.none()
        return LegalHold.objects.active_on(self.issued_on).filter(customer_id=self.customer_id)

    def check_holds(self) -> None:
        """C9 (DPA 9): a certificate issued while a legal hold keeps data names what is
        retained; otherwise it is refused (``services.certificate_refuse``)."""
        if self.data_retained.strip() or not self.holds_on_issue().exists():
            return
        raise ValidationError(
            {
                "data_retained": f"A legal hold keeps {self.customer}'s data on "
                f"{self.issued_on:%Y-%m-%d}: the certificate must name what is retained, "
                "or be refused (C9, DPA 9)."
            }
        )


def terms_in_force(eu_sccs_module_two: bool, uk_addendum: bool, swiss_fadp: bool) -> list[str]:
    """The transfer terms in force (C2), in the order the DPA lists them."""
    terms = []
    if eu_sccs_module_two:
        terms.append("EU SCCs Module Two")
    if uk_addendum:
        terms.append("UK Addendum")
    if swiss_fadp:
        terms.append("Swiss FADP")
    return terms
