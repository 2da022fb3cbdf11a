"""Sub-processor agreements and transfers (S7, DPA 5.2, 5.3): the register staff export, and
the copies a customer receives on written request (C6)."""

from __future__ import annotations

import csv
import hashlib
import zipfile
from io import BytesIO, StringIO
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from import_export import resources
from import_export.fields import Field

from customers.models.assistance import AssistanceKind, AssistanceRequest, AssistanceStatus
from harmonyze_portal.exports import (
    Computed,
    ReportDateWidget,
    choice_label,
    local_time,
    neutralise_formula,
)
from harmonyze_portal.history import person_name
from subprocessors.locations import ProcessingLocation, country_names
from subprocessors.models import SubProcessor, SubProcessorQuerySet

MANIFEST_HEADERS = [
    "Sub-processor",
    "Countries (ISO 3166)",
    "Transfer mechanisms outside the United States",
    "Agreement signed on",
    "Flow-down terms checked (DPA 5.2)",
    "File",
    "SHA-256",
]


def with_locations(queryset: SubProcessorQuerySet) -> SubProcessorQuerySet:
    return queryset.select_related("flowdown_checked_by").prefetch_related(
        Prefetch("processing_locations", queryset=ProcessingLocation.objects.order_by("country"))
    )


def country_codes(sp: SubProcessor) -> str:
    """The machine-readable countries: ISO 3166 codes separated by spaces ("IE US")."""
    return " ".join(str(location.country) for location in sp.processing_locations.all())


def transfers(sp: SubProcessor) -> str:
    return "; ".join(
        f"{location.country}: {location.get_transfer_mechanism_display()}"
        for location in sp.processing_locations.all()
        if location.transfer_mechanism
    )


def flowdown(sp: SubProcessor) -> str:
    if not sp.flowdown_checked:
        return "not checked"
    who = person_name(sp.flowdown_checked_by) if sp.flowdown_checked_by else ""
    return f"checked by {who} at {local_time(sp.flowdown_checked_at)}"


class AgreementRegisterResource(resources.ModelResource):
    """One row per sub-processor: its agreement, flow-down check, countries and transfers."""

    name = Field(attribute="name", column_name="Sub-processor")
    status = Field(column_name="Status")
    countries = Field(column_name="Countries (ISO 3166)")
    transfers = Field(column_name="Transfer mechanisms")
    signed_on = Field(
        attribute="agreement_signed_on",
        column_name="Agreement signed on",
        widget=ReportDateWidget(),
    )
    document = Field(column_name="Signed agreement on file")
    copy = Field(column_name="Copy for customers on file (DPA 5.3)")
    flowdown = Field(column_name="Flow-down terms (DPA 5.2)")

    class Meta:
        model = SubProcessor
        fields = (
            "name",
            "status",
            "countries",
            "transfers",
            "signed_on",
            "document",
            "copy",
            "flowdown",
        )

    def dehydrate_status(self, sp: SubProcessor) -> str:
        return sp.get_status_display()

    def dehydrate_countries(self, sp: SubProcessor) -> str:
        return country_codes(sp)

    def dehydrate_transfers(self, sp: SubProcessor) -> str:
        return transfers(sp)

    def dehydrate_document(self, sp: SubProcessor) -> str:
        return "yes" if sp.agreement_document else "no"

    def dehydrate_copy(self, sp: SubProcessor) -> str:
        return "yes" if sp.agreement_copy else "no"

    def dehydrate_flowdown(self, sp: SubProcessor) -> str:
        return flowdown(sp)


_SUBPROCESSOR_STATUS = choice_label(SubProcessor, "status")
_MECHANISM = choice_label(ProcessingLocation, "transfer_mechanism")


def mechanism_text(mechanism: str) -> str:
    return _MECHANISM(mechanism) or "none needed (United States)"


class TransferRegisterResource(resources.ModelResource):
    """One row per processing location: the sub-processor, the country, the mechanism."""

    subprocessor = Field(attribute="subprocessor__name", column_name="Sub-processor")
    status = Computed(
        column_name="Sub-processor status",
        reads=("subprocessor__status",),
        compute=_SUBPROCESSOR_STATUS,
    )
    country = Computed(column_name="Country (ISO 3166)", reads=("country",), compute=str)
    country_name = Computed(
        column_name="Country", reads=("country",), compute=lambda code: country_names([str(code)])
    )
    transfer_mechanism = Computed(
        column_name="Transfer mechanism", reads=("transfer_mechanism",), compute=mechanism_text
    )
    details = Field(attribute="details", column_name="Place or facility")

    class Meta:
        model = ProcessingLocation
        fields = (
            "subprocessor",
            "status",
            "country",
            "country_name",
            "transfer_mechanism",
            "details",
        )

    def filter_export(
        self, queryset: QuerySet[ProcessingLocation], **kwargs: Any
    ) -> QuerySet[ProcessingLocation]:
        return queryset.select_related("subprocessor")


def copies_missing(subprocessors: list[SubProcessor]) -> list[str]:
    """What stops the copies going out: each current sub-processor needs a copy with
    commercial terms removed (DPA 5.3) of an agreement whose flow-down terms were checked."""
    problems = []
    for sp in subprocessors:
        if not sp.agreement_copy:
            problems.append(f"{sp}: no copy with commercial terms removed is on file")
        elif not sp.flowdown_checked:
            problems.append(f"{sp}: the agreement's flow-down terms are not checked")
    return problems


def open_copy_requests() -> list[AssistanceRequest]:
    """C6: open written requests for copies of sub-processor agreements."""
    return list(
        AssistanceRequest.objects.open()
        .filter(kind=AssistanceKind.SUBPROCESSOR_AGREEMENTS)
        .select_related("customer")
        .order_by("due_on", "pk")
    )


def copies_tool(obj: Any, user: Any) -> list[tuple[str, str]]:
    """On a C6 request for copies (DPA 5.3), the link that answers it from these records."""
    if not (
        isinstance(obj, AssistanceRequest)
        and obj.kind == AssistanceKind.SUBPROCESSOR_AGREEMENTS
        and user.has_perm("subprocessors.view_subprocessor")
        and user.has_perm("customers.view_assistancerequest")
    ):
        return []
    return [
        (
            "Copies of sub-processor agreements (ZIP, DPA 5.3)",
            reverse("admin:subprocessors_subprocessor_copies_zip", args=[obj.pk]),
        )
    ]


def agreement_copies_zip(request: AssistanceRequest) -> bytes:
    """C6 (DPA 5.3): the copies, commercial terms removed, of the agreements of every current
    sub-processor, with a manifest (countries, transfers, flow-down check, SHA-256 of each
    file). Refused, naming what is missing, rather than sent incomplete."""
    if request.kind != AssistanceKind.SUBPROCESSOR_AGREEMENTS:
        raise ValidationError("This request is not for copies of sub-processor agreements.")
    if request.status in (AssistanceStatus.DECLINED,) or not request.in_writing:
        raise ValidationError("Copies are given on a written request that is not declined.")
    current = list(with_locations(SubProcessor.objects.current().order_by("name")))
    if not current:
        raise ValidationError("Harmonyze has no current sub-processor.")
    missing = copies_missing(current)
    if missing:
        raise ValidationError(missing)
    manifest = StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_HEADERS)
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, sp in enumerate(current, start=1):
            with sp.agreement_copy.open("rb") as handle:
                data = handle.read()
            name = f"{number:02d}-agreement-{sp.pk}.pdf"
            archive.writestr(name, data)
            row: list[Any] = [
                sp.name,
                country_codes(sp),
                transfers(sp),
                sp.agreement_signed_on.isoformat() if sp.agreement_signed_on else "",
                flowdown(sp),
                name,
                hashlib.sha256(data).hexdigest(),
            ]
            writer.writerow([neutralise_formula(value) for value in row])
        archive.writestr("manifest.csv", manifest.getvalue())
        archive.writestr(
            "README.txt",
            f"Copies of Harmonyze's sub-processor agreements, commercial terms removed "
            f"(DPA 5.3), for {request.customer}, written request received "
            f"{request.received_on.isoformat()}.\n",
        )
    return buffer.getvalue()
