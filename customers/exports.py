"""The area's reports, exported from the admin changelists with their filters: the DPA
register (C2, C3) as CSV and XLSX, and the breach notification log (C5) as CSV and PDF."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import tablib
from django.db.models import QuerySet
from django.utils import timezone
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats

from customers.models import DPA, BreachNotice
from customers.models.accounts import Customer
from harmonyze_portal.exports import ReportDateWidget, choice_label, local_time
from harmonyze_portal.pdf import render_pdf


class PDF(base_formats.Format):
    """A dataset as a table in a PDF, rendered by ``template`` (xhtml2pdf)."""

    template = "customers/export_table.html"
    title = "Export"

    def get_title(self) -> str:
        return "pdf"

    def get_extension(self) -> str:
        return "pdf"

    def get_content_type(self) -> str:
        return "application/pdf"

    def can_export(self) -> bool:
        return True

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        return render_pdf(
            self.template,
            {
                "title": self.title,
                "headers": dataset.headers,
                "rows": list(dataset),
                "generated_at": timezone.localtime(),
            },
        )


class BreachLogPDF(PDF):
    title = "Breach notification log"


_DPA_STATUS = choice_label(DPA, "status")
_CUSTOMER_STATUS = choice_label(Customer, "status")


class DPARegisterResource(resources.ModelResource):
    """One row per DPA: what was signed, the terms in force, and the customer's deletion clock."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    version = Field(attribute="version", column_name="DPA version")
    signed_on = Field(attribute="signed_on", column_name="Signed on", widget=ReportDateWidget())
    effective_on = Field(
        attribute="effective_on", column_name="Effective on", widget=ReportDateWidget()
    )
    transfer_terms = Field(column_name="Transfer terms")
    supervisory_authority = Field(
        attribute="supervisory_authority", column_name="Supervisory authority"
    )
    supervisory_authority_country = Field(
        attribute="supervisory_authority_country", column_name="Authority country"
    )
    status = Field(column_name="DPA status")
    customer_status = Field(column_name="Customer status")
    termination_date = Field(
        attribute="customer__termination_date",
        column_name="Terminated on",
        widget=ReportDateWidget(),
    )
    deletion_due = Field(
        attribute="customer__deletion_due",
        column_name="Deletion due (C3)",
        widget=ReportDateWidget(),
    )
    deletion_done = Field(
        attribute="customer__deletion_completed_on",
        column_name="Deletion done",
        widget=ReportDateWidget(),
    )

    class Meta:
        model = DPA
        fields = (
            "customer",
            "version",
            "signed_on",
            "effective_on",
            "transfer_terms",
            "supervisory_authority",
            "supervisory_authority_country",
            "status",
            "customer_status",
            "termination_date",
            "deletion_due",
            "deletion_done",
        )
        export_order = fields

    def filter_export(self, queryset: QuerySet[DPA], **kwargs: Any) -> QuerySet[DPA]:
        return queryset.select_related("customer")

    def dehydrate_transfer_terms(self, dpa: DPA) -> str:
        return "; ".join(dpa.transfer_terms)

    def dehydrate_status(self, dpa: DPA) -> str:
        return _DPA_STATUS(dpa.status)

    def dehydrate_customer_status(self, dpa: DPA) -> str:
        return _CUSTOMER_STATUS(dpa.customer.status)


def duration(delta: timedelta) -> str:
    """Whole minutes, rounded up: a notice 20 seconds late is late."""
    minutes = math.ceil(abs(delta.total_seconds()) / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def notice_outcome(notice: BreachNotice, now: datetime) -> str:
    """On time or late against the target (C5); a pending notice says how long is left."""
    if notice.notified_at is not None:
        if notice.is_late:
            return f"late by {duration(notice.notified_at - notice.notice_due_at)}"
        return "on time"
    left = notice.notice_due_at - now
    if left < timedelta(0):
        return f"not notified, overdue by {duration(left)}"
    return f"not notified, {duration(left)} left"


class BreachLogResource(resources.ModelResource):
    """One row per affected customer of a breach, and how its notice went (C5)."""

    breach = Field(attribute="breach__title", column_name="Breach")
    aware_at = Field(column_name="Aware at")
    customer = Field(attribute="customer__legal_name", column_name="Customer")
    target = Field(column_name="Target")
    notified_at = Field(column_name="Notified at")
    notified_to = Field(column_name="Notified to")
    outcome = Field(column_name="On time / late")

    class Meta:
        model = BreachNotice
        fields = (
            "breach",
            "aware_at",
            "customer",
            "target",
            "notified_at",
            "notified_to",
            "outcome",
        )
        export_order = fields

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._now = timezone.now()  # one "now" for every pending notice of the file

    def filter_export(
        self, queryset: QuerySet[BreachNotice], **kwargs: Any
    ) -> QuerySet[BreachNotice]:
        return queryset.select_related("breach", "customer")

    def dehydrate_aware_at(self, notice: BreachNotice) -> str:
        return local_time(notice.breach.aware_at)

    def dehydrate_target(self, notice: BreachNotice) -> str:
        return local_time(notice.notice_due_at)

    def dehydrate_notified_at(self, notice: BreachNotice) -> str:
        return local_time(notice.notified_at)

    def dehydrate_notified_to(self, notice: BreachNotice) -> str:
        return "; ".join(line.strip() for line in notice.notified_to.splitlines() if line.strip())

    def dehydrate_outcome(self, notice: BreachNotice) -> str:
        return notice_outcome(notice, self._now)
