"""Where each sub-processor processes data, as countries, and how data reaches those outside
the United States (S7, DPA 5.2; PP 5: "All data processing occurs in the United States")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django_countries import countries
from django_countries.fields import CountryField

from harmonyze_portal.history import TrackedModel, TrackedQuerySet

HOME_COUNTRY = "US"


class TransferMechanism(models.TextChoices):
    """The mechanisms S7 accepts for processing outside the United States."""

    SCCS = "sccs", "EU Standard Contractual Clauses (SCCs)"
    DPF = "dpf", "EU-US Data Privacy Framework"
    UK_IDTA = "uk_idta", "UK International Data Transfer Agreement (IDTA)"
    UK_ADDENDUM = "uk_addendum", "UK Addendum to the EU SCCs"


def outside_us(codes: Iterable[str]) -> list[str]:
    """S7, PP 5: the ISO 3166 codes among ``codes`` that are not the United States, in order.

    >>> outside_us(["US", "IE", "us", "DE"])
    ['IE', 'DE']
    """
    return [code.upper() for code in codes if code and code.upper() != HOME_COUNTRY]


def country_names(codes: Iterable[str]) -> str:
    """Readable names for ISO codes: "Ireland, United States of America"."""
    return ", ".join(str(countries.name(code)) or str(code) for code in codes)


class ProcessingLocationQuerySet(TrackedQuerySet["ProcessingLocation"]):
    def outside_us(self) -> ProcessingLocationQuerySet:
        return self.exclude(country=HOME_COUNTRY)


ProcessingLocationManager = models.Manager.from_queryset(ProcessingLocationQuerySet)


class ProcessingLocation(TrackedModel):
    """One country where a sub-processor processes customer data, and, outside the United
    States, the transfer mechanism that covers it (S7)."""

    subprocessor = models.ForeignKey(
        "subprocessors.SubProcessor",
        on_delete=models.CASCADE,
        related_name="processing_locations",
        verbose_name="sub-processor",
    )
    country = CountryField(
        "Country", help_text="Where the sub-processor processes customer data (ISO 3166)."
    )
    transfer_mechanism = models.CharField(
        "Transfer mechanism",
        max_length=20,
        choices=TransferMechanism.choices,
        blank=True,
        help_text="Required for any country other than the United States (S7); none for the "
        "United States.",
    )
    details = models.CharField(
        "Place or facility",
        max_length=200,
        blank=True,
        help_text="Optional: the region, city or data centre (e.g. Dublin).",
    )

    objects: ClassVar[ProcessingLocationManager] = ProcessingLocationManager()

    class Meta:
        verbose_name = "processing location"
        verbose_name_plural = "processing locations"
        ordering = ["subprocessor", "country"]
        constraints = [
            models.UniqueConstraint(
                fields=["subprocessor", "country"],
                name="one_location_per_country",
                violation_error_message="This country is already listed for this sub-processor.",
            ),
            models.CheckConstraint(
                condition=Q(country=HOME_COUNTRY, transfer_mechanism="")
                | (~Q(country=HOME_COUNTRY) & ~Q(transfer_mechanism="")),
                name="transfer_mechanism_outside_us",
                violation_error_message="Processing outside the United States needs a transfer "
                "mechanism (SCCs, EU-US Data Privacy Framework, UK IDTA or Addendum), and "
                "processing in the United States none (S7, DPA 5.2).",
            ),
        ]

    def __str__(self) -> str:
        where = country_names([str(self.country)])
        if self.details:
            where = f"{where} ({self.details})"
        return f"{self.subprocessor}: {where}"
