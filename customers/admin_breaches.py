"""The breach pages of the admin (C5, DPA 7): each breach with its affected customers and
remediation steps, the notices sent to each customer, and the exports of all of it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from import_export.formats import base_formats

from customers import services
from customers.exports import (
    BreachLogPDF,
    BreachLogResource,
    BreachMessageResource,
    BreachRemediationResource,
)
from customers.models import Breach, BreachMessage, BreachNotice, BreachRemediation
from customers.models.breach_log import NoticeKind
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.exports import ReportExportMixin
from harmonyze_portal.history import person_name
from harmonyze_portal.templatetags.portal_rules import rule_filter
from harmonyze_portal.timefmt import staff_datetime
from harmonyze_portal.wording import counted


def notice_state(notice: BreachNotice) -> str:
    """The first notice against the target (C5)."""
    if not notice.pk:
        return "–"
    if notice.notified_at is not None:
        if notice.is_late:
            late_by = (notice.notified_at - notice.notice_due_at).total_seconds() / 3600
            return format_html('<strong class="overdue">late by {} h</strong>', f"{late_by:.1f}")
        return "on time"
    left = notice.hours_left(timezone.now()) or 0.0
    if left < 0:
        return format_html('<strong class="overdue">overdue by {} h</strong>', f"{-left:.1f}")
    return f"pending, {left:.1f} h left"


class BreachNoticeInline(admin.TabularInline):
    model = BreachNotice
    extra = 0
    fields = ["customer", "notice_due_display", "notified_at", "notified_to", "state"]
    # "Notified" is the first notice's sending, recorded by the notice itself (C5).
    readonly_fields = ["notice_due_display", "notified_at", "notified_to", "state"]
    autocomplete_fields = ["customer"]
    show_change_link = True

    @admin.display(description="Target (C5)")
    def notice_due_display(self, obj: BreachNotice) -> str:
        if not obj.pk:
            return "–"
        return format_html(
            "{} <small>({})</small>", staff_datetime(obj.notice_due_at), rule_filter("C5")
        )

    @admin.display(description="State")
    def state(self, obj: BreachNotice) -> str:
        return notice_state(obj)


class BreachRemediationInline(admin.TabularInline):
    model = BreachRemediation
    extra = 0
    fields = ["taken_at", "action", "taken_by"]


class BreachNoticeForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of notice",
        choices=NoticeKind.choices,
        help_text="A first notice goes to each customer not yet notified; an update or the "
        "closing notice to each customer already notified.",
    )
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(
        label="Text of the notice",
        widget=forms.Textarea(attrs={"rows": 18, "cols": 90}),
        help_text="The statement that the notice admits no fault or liability (DPA 7) is added "
        "at the end if the text lacks it.",
    )


@admin.register(Breach)
class BreachAdmin(TrackedAdmin):
    list_display = ["title", "aware_at", "status", "notices_summary"]
    list_filter = ["status", ("aware_at", admin.DateFieldListFilter)]
    search_fields = ["title", "description", "notices__customer__legal_name"]
    inlines = [BreachNoticeInline, BreachRemediationInline]
    actions = ["send_notices"]

    @admin.display(description="Notices (C5)")
    def notices_summary(self, obj: Breach) -> str:
        notices = list(obj.notices.all())
        sent = sum(1 for notice in notices if notice.notified_at)
        late = sum(1 for notice in notices if notice.is_late)
        return f"{sent}/{len(notices)} notified" + (f", {late} late" if late else "")

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, BreachRemediationInline) and request.method == "GET":
            # "By whom": the person recording the step, unless they write someone else.
            kwargs["form_kwargs"] = {"initial": {"taken_by": person_name(request.user)}}
        return kwargs

    @admin.action(description="Send a breach notice to affected customers", permissions=["change"])
    def send_notices(self, request: HttpRequest, queryset: QuerySet[Breach]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one breach at a time.", messages.ERROR)
            return None
        breach = queryset.get()
        kind = request.POST.get("kind", NoticeKind.FIRST)
        kind = kind if kind in NoticeKind.values else NoticeKind.FIRST
        if "confirm" in request.POST:
            data = request.POST.copy()
            data.setdefault("kind", NoticeKind.FIRST)
            form = BreachNoticeForm(data)
            if form.is_valid():
                try:
                    queued, missing = services.breach_notices_queue(
                        breach=breach, **form.cleaned_data
                    )
                except ValidationError as exc:
                    for message in exc.messages:
                        self.message_user(request, message, messages.ERROR)
                    return None
                self.message_user(request, f"Queued {counted(len(queued), 'notice')} for sending.")
                if missing:
                    self.message_user(
                        request,
                        "No notice contact, nothing sent: "
                        + ", ".join(str(c) for c in missing)
                        + ". Add one on the customer and send again.",
                        messages.WARNING,
                    )
                return None
        else:
            subject, body = services.breach_notice_draft(breach, kind)
            form = BreachNoticeForm(initial={"kind": kind, "subject": subject, "body": body})
        recipients = services.breach_notice_recipients(breach, kind)
        return render(
            request,
            "admin/customers/breach/send_notices.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Send breach notice: {breach}",
                "breach": breach,
                "form": form,
                "kind": NoticeKind(kind).label,
                "pending": [(n, n.customer.notice_contact) for n in recipients],
                "opts": self.model._meta,
                "action_name": "send_notices",
                "selected": breach.pk,
            },
        )


class BreachMessageInline(admin.TabularInline):
    model = BreachMessage
    extra = 0
    fields = ["kind", "subject", "queued_at", "sent_at", "sent_to"]
    readonly_fields = ["kind", "subject", "queued_at", "sent_at", "sent_to"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # notices are sent from the breach, or recorded on the notices page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BreachNotice)
class BreachNoticeAdmin(ReportExportMixin, TrackedAdmin):
    """The changelist, filtered as wanted, exports as the breach log: each affected customer
    with every notice sent and the breach's remediation steps (C5)."""

    resource_classes = [BreachLogResource]
    export_formats = [base_formats.CSV, base_formats.XLSX, BreachLogPDF]
    report_name = "breach-notification-log"
    list_display = ["breach", "customer", "notice_due_at", "notified_at", "notified_to", "state"]
    list_filter = [("notified_at", admin.EmptyFieldListFilter), "breach", "breach__status"]
    search_fields = ["customer__legal_name", "breach__title", "notified_to"]
    readonly_fields = ["notice_due_at", "notified_at", "notified_to", "message_id"]
    autocomplete_fields = ["customer", "breach"]
    inlines = [BreachMessageInline]

    @admin.display(description="State")
    def state(self, obj: BreachNotice) -> str:
        return notice_state(obj)


@admin.register(BreachMessage)
class BreachMessageAdmin(ReportExportMixin, TrackedAdmin):
    """Every notice sent to a customer about a breach (C5). A notice given outside the portal
    (by letter, say) is recorded here with its time and recipients; a sent notice is kept
    as sent."""

    resource_classes = [BreachMessageResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "breach-notices"
    list_display = ["affected", "kind", "queued_at", "sent_at", "sent_to"]
    # Each row is named "breach → customer": both come with the row.
    list_select_related = ["affected__breach", "affected__customer"]
    list_filter = [
        "kind",
        ("sent_at", admin.EmptyFieldListFilter),
        "affected__breach",
        "affected__customer",
        "from_upgrade",
    ]
    search_fields = ["affected__customer__legal_name", "affected__breach__title", "sent_to"]
    autocomplete_fields = ["affected"]
    readonly_fields = ["queued_at", "message_id", "from_upgrade"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if isinstance(obj, BreachMessage) and obj.sent_at is not None:
            return False  # the proof of notice (C5): shown, never rewritten
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if isinstance(obj, BreachMessage) and obj.sent_at is not None:
            return False  # the proof of notice (C5)
        return super().has_delete_permission(request, obj)


@admin.register(BreachRemediation)
class BreachRemediationAdmin(ReportExportMixin, TrackedAdmin):
    """The remediation log of every breach (C5, DPA 7), exported with its filters."""

    resource_classes = [BreachRemediationResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    report_name = "breach-remediation-log"
    list_display = ["breach", "taken_at", "taken_by", "action"]
    list_filter = ["breach", ("taken_at", admin.DateFieldListFilter), "breach__status"]
    search_fields = ["breach__title", "action", "taken_by"]
    autocomplete_fields = ["breach"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        return {"taken_by": person_name(request.user), **initial}
