"""The instructions admin (C8, DPA 2.2–2.4): the register of documented instructions, the
notices about them (drafted from a template, sent through the task queue, each send recorded)
and the customer's responses; the notices' changelist exports with its filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from import_export.formats import base_formats

from customers import services
from customers.exports import (
    InstructionNoticeResource,
    InstructionResource,
    instruction_notice_state,
)
from customers.models import Instruction, InstructionNotice, InstructionResponse
from customers.models.instructions import InstructionNoticeQuerySet
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import ReportExportMixin


def notice_state_cell(notice: InstructionNotice) -> str:
    """C8: the state, in bold when late or overdue (flagged, DPA 2.3: "immediately")."""
    if notice.pk is None:
        return "–"
    state = instruction_notice_state(notice, legal_today())
    if notice.is_late or notice.overdue(legal_today()):
        return format_html('<strong class="overdue">{} <small>(C8)</small></strong>', state)
    return format_html("{} <small>(C8)</small>", state)


class InstructionInline(admin.TabularInline):
    model = Instruction
    extra = 0
    fields = ["received_on", "given_by", "channel", "instruction", "withdrawn_on"]
    show_change_link = True


@admin.register(Instruction)
class InstructionAdmin(ReportExportMixin, TrackedAdmin):
    """The changelist, filtered as wanted, exports as the register of instructions (C8)."""

    resource_classes = [InstructionResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "instructions"
    list_display = ["customer", "received_on", "given_by", "channel", "withdrawn_on"]
    list_filter = [
        ("withdrawn_on", admin.EmptyFieldListFilter),
        "channel",
        ("received_on", admin.DateFieldListFilter),
    ]
    search_fields = ["customer__legal_name", "instruction", "given_by"]
    autocomplete_fields = ["customer"]


class InstructionResponseInline(admin.TabularInline):
    model = InstructionResponse
    extra = 0
    fields = ["received_on", "kind", "description"]


class NoticeStateFilter(admin.SimpleListFilter):
    title = "state (C8)"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("unsent", "Not sent"), ("overdue", "Overdue"), ("sent", "Sent")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        notices: InstructionNoticeQuerySet = queryset  # type: ignore[assignment]
        value = self.value()
        # The same QuerySet methods as the dashboard (C8).
        if value == "unsent":
            return notices.unsent()
        if value == "overdue":
            return notices.overdue(legal_today())
        if value == "sent":
            return notices.filter(sent_at__isnull=False)
        return queryset


class SendNoticeForm(forms.Form):
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(
        label="Text of the notice", widget=forms.Textarea(attrs={"rows": 18, "cols": 90})
    )


@admin.register(InstructionNotice)
class InstructionNoticeAdmin(ReportExportMixin, TrackedAdmin):
    """The changelist, filtered as wanted, exports as the register of notices (C8)."""

    resource_classes = [InstructionNoticeResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "instruction-notices"
    list_display = ["customer", "kind", "identified_at", "due_on", "sent_at", "state"]
    list_filter = [
        NoticeStateFilter,
        "kind",
        ("due_on", admin.DateFieldListFilter),
    ]
    search_fields = ["customer__legal_name", "reasons", "instruction__instruction", "sent_to"]
    autocomplete_fields = ["customer", "instruction"]
    fields = [
        "customer",
        "instruction",
        "kind",
        "identified_at",
        "reasons",
        "due_on",
        "state",
        "subject",
        "body",
        "sent_at",
        "sent_to",
        "message_id",
    ]
    readonly_fields = ["due_on", "state", "subject", "body", "sent_at", "sent_to", "message_id"]
    inlines = [InstructionResponseInline]
    actions = ["send_notice"]

    @admin.display(description="State")
    def state(self, obj: InstructionNotice) -> str:
        return notice_state_cell(obj)

    @admin.action(description="Send the notice to the customer", permissions=["change"])
    def send_notice(
        self, request: HttpRequest, queryset: QuerySet[InstructionNotice]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one notice at a time.", messages.ERROR)
            return None
        notice = queryset.select_related("customer", "instruction").get()
        if "confirm" in request.POST:
            form = SendNoticeForm(request.POST)
            if form.is_valid():
                try:
                    services.instruction_notice_queue(notice=notice, **form.cleaned_data)
                except ValidationError as exc:
                    for message in exc.messages:
                        self.message_user(request, message, messages.ERROR)
                    return None
                self.message_user(request, f"Queued for sending: {notice}.")
                return None
        else:
            subject, body = services.instruction_notice_draft(notice)
            form = SendNoticeForm(initial={"subject": subject, "body": body})
        return render(
            request,
            "admin/customers/instructionnotice/send.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Send: {notice}",
                "notice": notice,
                "contact": notice.customer.notice_contact,
                "form": form,
                "opts": self.model._meta,
                "action_name": "send_notice",
                "selected": notice.pk,
            },
        )
