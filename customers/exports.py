"""The area's reports, exported from the admin changelists with their filters: the DPA
register (C2, C3, with C9 holds) as CSV and XLSX, the breach notification log (C5: each affected
customer with its notices and the breach's remediation steps) as CSV, XLSX and PDF, the notices
and the remediation log on their own, the legal holds (C9), the instructions and the notices
about them (C8) as CSV and XLSX."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import tablib
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats

from customers.models import (
    DPA,
    BreachMessage,
    BreachNotice,
    BreachRemediation,
    Instruction,
    InstructionNotice,
    LegalHold,
)
from customers.models.accounts import Customer
from customers.models.dpas import terms_in_force
from customers.models.instructions import late_by
from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import Computed, ReportDateWidget, choice_label, local_time
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


def deletion_held(hold_basis: str | None, deletion_due: date | None, deleted: date | None) -> str:
    """C9: an open deletion that a legal hold keeps waiting says so, with the reason."""
    if not hold_basis:
        return ""
    if deletion_due is None:
        return f"Hold active, no deletion due yet: {hold_basis}"
    if deleted is not None:
        return f"Deleted except what the hold keeps: {hold_basis}"
    return f"Held: {hold_basis}"


class DPARegisterResource(resources.ModelResource):
    """One row per DPA: what was signed, the terms in force, and the customer's deletion clock."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    version = Field(attribute="version", column_name="DPA version")
    signed_on = Field(attribute="signed_on", column_name="Signed on", widget=ReportDateWidget())
    effective_on = Field(
        attribute="effective_on", column_name="Effective on", widget=ReportDateWidget()
    )
    transfer_terms = Computed(
        column_name="Transfer terms",
        reads=("eu_sccs_module_two", "uk_addendum", "swiss_fadp"),
        compute=lambda *flags: "; ".join(terms_in_force(*flags)),
    )
    supervisory_authority = Field(
        attribute="supervisory_authority", column_name="Supervisory authority"
    )
    supervisory_authority_country = Field(
        attribute="supervisory_authority_country", column_name="Authority country"
    )
    status = Computed(column_name="DPA status", reads=("status",), compute=_DPA_STATUS)
    customer_status = Computed(
        column_name="Customer status", reads=("customer__status",), compute=_CUSTOMER_STATUS
    )
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
    deletion_held = Computed(
        column_name="Deletion held (C9)",
        reads=("hold_basis", "customer__deletion_due", "customer__deletion_completed_on"),
        compute=deletion_held,
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
            "deletion_held",
        )
        export_order = fields

    def filter_export(self, queryset: QuerySet[DPA], **kwargs: Any) -> QuerySet[DPA]:
        holds = LegalHold.objects.active().filter(customer=OuterRef("customer"))
        first = holds.order_by("started_on", "pk").values("legal_basis")[:1]
        return queryset.select_related("customer").annotate(hold_basis=Subquery(first))


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


def recipients(sent_to: str) -> str:
    """The addresses a notice went to, one a line in the record, on one line in a cell."""
    return "; ".join(line.strip() for line in sent_to.splitlines() if line.strip())


def notice_line(message: BreachMessage) -> str:
    """One notice as the breach log writes it: kind, when sent (or queued) and to whom."""
    if message.sent_at is None:
        return f"{message.get_kind_display()}: queued {local_time(message.queued_at)}, not sent"
    sent = f"sent {local_time(message.sent_at)} to {recipients(message.sent_to)}"
    return f"{message.get_kind_display()}: {sent}"


def step_line(step: BreachRemediation) -> str:
    return f"{local_time(step.taken_at)} by {step.taken_by}: {' '.join(step.action.split())}"


class BreachLogResource(resources.ModelResource):
    """One row per affected customer of a breach: how its first notice went against the
    target, every notice it was sent, and the breach's remediation log (C5)."""

    breach = Field(attribute="breach__title", column_name="Breach")
    aware_at = Field(column_name="Aware at")
    customer = Field(attribute="customer__legal_name", column_name="Customer")
    target = Field(column_name="Target")
    notified_at = Field(column_name="Notified at")
    notified_to = Field(column_name="Notified to")
    outcome = Field(column_name="On time / late")
    notices = Field(column_name="Notices sent")
    remediation = Field(column_name="Remediation steps")

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
            "notices",
            "remediation",
        )
        export_order = fields

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._now = timezone.now()  # one "now" for every pending notice of the file

    def filter_export(
        self, queryset: QuerySet[BreachNotice], **kwargs: Any
    ) -> QuerySet[BreachNotice]:
        notices = Prefetch("messages", BreachMessage.objects.order_by("queued_at", "pk"))
        steps = Prefetch(
            "breach__remediation_steps", BreachRemediation.objects.order_by("taken_at", "pk")
        )
        related = queryset.select_related("breach", "customer")
        return related.prefetch_related(notices).prefetch_related(steps)

    def dehydrate_aware_at(self, notice: BreachNotice) -> str:
        return local_time(notice.breach.aware_at)

    def dehydrate_target(self, notice: BreachNotice) -> str:
        return local_time(notice.notice_due_at)

    def dehydrate_notified_at(self, notice: BreachNotice) -> str:
        return local_time(notice.notified_at)

    def dehydrate_notified_to(self, notice: BreachNotice) -> str:
        return recipients(notice.notified_to)

    def dehydrate_outcome(self, notice: BreachNotice) -> str:
        return notice_outcome(notice, self._now)

    def dehydrate_notices(self, notice: BreachNotice) -> str:
        return "\n".join(notice_line(message) for message in notice.messages.all())

    def dehydrate_remediation(self, notice: BreachNotice) -> str:
        return "\n".join(step_line(step) for step in notice.breach.remediation_steps.all())


_MESSAGE_KIND = choice_label(BreachMessage, "kind")


class BreachMessageResource(resources.ModelResource):
    """One row per notice sent to a customer about a breach (C5)."""

    breach = Field(attribute="affected__breach__title", column_name="Breach")
    customer = Field(attribute="affected__customer__legal_name", column_name="Customer")
    kind = Computed(column_name="Kind of notice", reads=("kind",), compute=_MESSAGE_KIND)
    subject = Field(attribute="subject", column_name="Subject")
    queued_at = Computed(column_name="Queued at", reads=("queued_at",), compute=local_time)
    sent_at = Computed(column_name="Sent at", reads=("sent_at",), compute=local_time)
    sent_to = Computed(column_name="Sent to", reads=("sent_to",), compute=recipients)
    message_id = Field(attribute="message_id", column_name="Message-ID")
    body = Field(attribute="body", column_name="Text of the notice")

    class Meta:
        model = BreachMessage
        fields = (
            "breach",
            "customer",
            "kind",
            "subject",
            "queued_at",
            "sent_at",
            "sent_to",
            "message_id",
            "body",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[BreachMessage], **kwargs: Any
    ) -> QuerySet[BreachMessage]:
        return queryset.select_related("affected__breach", "affected__customer")


class BreachRemediationResource(resources.ModelResource):
    """One row per remediation step (C5, DPA 7)."""

    breach = Field(attribute="breach__title", column_name="Breach")
    taken_at = Computed(column_name="Taken at", reads=("taken_at",), compute=local_time)
    taken_by = Field(attribute="taken_by", column_name="Taken by")
    action = Field(attribute="action", column_name="What was done")

    class Meta:
        model = BreachRemediation
        fields = ("breach", "taken_at", "taken_by", "action")
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[BreachRemediation], **kwargs: Any
    ) -> QuerySet[BreachRemediation]:
        return queryset.select_related("breach")


_HOLD_REQUESTER = choice_label(LegalHold, "requested_by")


class LegalHoldResource(resources.ModelResource):
    """C9: one row per legal hold, as the holds changelist is filtered."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    legal_basis = Field(attribute="legal_basis", column_name="Legal basis")
    requested_by = Computed(
        column_name="Who asked", reads=("requested_by",), compute=_HOLD_REQUESTER
    )
    requester = Field(attribute="requester", column_name="Requesting body or person")
    data_kept = Field(attribute="data_kept", column_name="Data kept")
    started_on = Field(attribute="started_on", column_name="Started on", widget=ReportDateWidget())
    review_on = Field(
        attribute="review_on", column_name="Review due (C9)", widget=ReportDateWidget()
    )
    released_on = Field(
        attribute="released_on", column_name="Released on", widget=ReportDateWidget()
    )
    release_reason = Field(attribute="release_reason", column_name="Why released")
    deletion_due = Field(
        attribute="customer__deletion_due",
        column_name="Deletion due (C3)",
        widget=ReportDateWidget(),
    )

    class Meta:
        model = LegalHold
        fields = (
            "customer",
            "legal_basis",
            "requested_by",
            "requester",
            "data_kept",
            "started_on",
            "review_on",
            "released_on",
            "release_reason",
            "deletion_due",
        )
        export_order = fields

    def filter_export(self, queryset: QuerySet[LegalHold], **kwargs: Any) -> QuerySet[LegalHold]:
        return queryset.select_related("customer")


class InstructionResource(resources.ModelResource):
    """C8: the register of documented instructions beyond the DPA, as filtered."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    received_on = Field(
        attribute="received_on", column_name="Received on", widget=ReportDateWidget()
    )
    given_by = Field(attribute="given_by", column_name="Given by")
    channel = Field(column_name="How it was given")
    instruction = Field(attribute="instruction", column_name="Instruction")
    withdrawn_on = Field(
        attribute="withdrawn_on", column_name="Withdrawn on", widget=ReportDateWidget()
    )
    notices = Field(column_name="Notices about it (C8)")

    class Meta:
        model = Instruction
        fields = (
            "customer",
            "received_on",
            "given_by",
            "channel",
            "instruction",
            "withdrawn_on",
            "notices",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[Instruction], **kwargs: Any
    ) -> QuerySet[Instruction]:
        return queryset.select_related("customer").prefetch_related("notices")

    def dehydrate_channel(self, instruction: Instruction) -> str:
        return instruction.get_channel_display()

    def dehydrate_notices(self, instruction: Instruction) -> str:
        return "; ".join(
            f"{notice.get_kind_display()}, due {notice.due_on}"
            + (f", sent {local_time(notice.sent_at)}" if notice.sent_at else ", not sent")
            for notice in instruction.notices.all()
        )


class InstructionNoticeResource(resources.ModelResource):
    """C8: one row per notice about instructions, with its text, when it was due and sent,
    whether it was late, and what the customer did in response."""

    customer = Field(attribute="customer__legal_name", column_name="Customer")
    kind = Field(column_name="Notice")
    instruction = Field(column_name="Instruction")
    instruction_received_on = Field(
        attribute="instruction__received_on",
        column_name="Instruction received on",
        widget=ReportDateWidget(),
    )
    identified_at = Field(column_name="Identified at")
    due_on = Field(attribute="due_on", column_name="Due (C8)", widget=ReportDateWidget())
    sent_at = Field(column_name="Sent at")
    sent_to = Field(attribute="sent_to", column_name="Sent to")
    on_time = Field(column_name="On time / late")
    reasons = Field(attribute="reasons", column_name="Harmonyze's reasons")
    text = Field(column_name="Text sent")
    responses = Field(column_name="Customer's response")

    class Meta:
        model = InstructionNotice
        fields = (
            "customer",
            "kind",
            "instruction",
            "instruction_received_on",
            "identified_at",
            "due_on",
            "sent_at",
            "sent_to",
            "on_time",
            "reasons",
            "text",
            "responses",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[InstructionNotice], **kwargs: Any
    ) -> QuerySet[InstructionNotice]:
        return queryset.select_related("customer", "instruction").prefetch_related("responses")

    def dehydrate_kind(self, notice: InstructionNotice) -> str:
        return notice.get_kind_display()

    def dehydrate_instruction(self, notice: InstructionNotice) -> str:
        return notice.instruction.instruction if notice.instruction else ""

    def dehydrate_identified_at(self, notice: InstructionNotice) -> str:
        return local_time(notice.identified_at)

    def dehydrate_sent_at(self, notice: InstructionNotice) -> str:
        return local_time(notice.sent_at)

    def dehydrate_on_time(self, notice: InstructionNotice) -> str:
        return instruction_notice_state(notice, legal_today())

    def dehydrate_text(self, notice: InstructionNotice) -> str:
        return f"{notice.subject}\n\n{notice.body}" if notice.sent_at else ""

    def dehydrate_responses(self, notice: InstructionNotice) -> str:
        return "\n".join(
            f"{response.received_on:%Y-%m-%d} {response.get_kind_display()}: {response.description}"
            for response in notice.responses.all()
        )


def instruction_notice_state(notice: InstructionNotice, today: date) -> str:
    """C8: on time, late by n days, or not sent (due today, overdue by n days)."""
    if notice.sent_at is not None:
        days = late_by(notice)
        return f"late by {days} day{'' if days == 1 else 's'}" if days else "on time"
    if notice.due_on < today:
        days = (today - notice.due_on).days
        return f"not sent, overdue by {days} day{'' if days == 1 else 's'}"
    return "not sent, due today" if notice.due_on == today else f"not sent, due {notice.due_on}"
