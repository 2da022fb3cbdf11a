from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from customers.models import Contact
from harmonyze_portal.admin import TrackedAdmin
from subprocessors import exports, services
from subprocessors.models import (
    Change,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    Signup,
    SignupStatus,
    SubProcessor,
)
from subprocessors.tasks import send_change_notices


def ruled(value: object, rule: str) -> str:
    """A computed date with the rule that computed it (T5)."""
    if value is None:
        return "–"
    return format_html("{} <small>({})</small>", value, rule)


def error_messages(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, exc: Exception
) -> None:
    problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    for message in problems:
        model_admin.message_user(request, message, messages.ERROR)


@admin.register(SubProcessor)
class SubProcessorAdmin(TrackedAdmin):
    """Activation and the access date are judged by ``SubProcessor.clean()``/``save()`` (S3):
    the form shows the refusal; no path around it."""

    list_display = ["name", "status", "locations", "earliest_access_display", "access_began_on"]
    list_filter = ["status"]
    search_fields = ["name", "purpose", "locations"]
    readonly_fields = ["earliest_access_display"]

    @admin.display(description="Earliest access (S3)", ordering="earliest_access_on")
    def earliest_access_display(self, obj: SubProcessor) -> str:
        return ruled(obj.earliest_access_on, "S3")


@admin.register(Change)
class ChangeAdmin(TrackedAdmin):
    list_display = [
        "__str__",
        "kind",
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "deliveries_summary",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["summary", "subprocessor__name", "replaces__name"]
    autocomplete_fields = ["subprocessor", "replaces"]
    actions = ["publish"]
    fields = [
        "kind",
        "subprocessor",
        "replaces",
        "summary",
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "notice_sha256",
        "proof_links",
    ]
    readonly_fields = [
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "notice_sha256",
        "proof_links",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if isinstance(obj, Change) and obj.status == ChangeStatus.PUBLISHED:
            # The Notice went out with these words: they are evidence now.
            fields = ["kind", "subprocessor", "replaces", "summary", *fields]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if isinstance(obj, Change) and obj.status == ChangeStatus.PUBLISHED:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Notice date (S3)", ordering="notice_date")
    def notice_date_display(self, obj: Change) -> str:
        return ruled(obj.notice_date, "S3")

    @admin.display(description="Earliest access (S3)", ordering="earliest_access_on")
    def earliest_access_display(self, obj: Change) -> str:
        return ruled(obj.earliest_access_on, "S3")

    @admin.display(description="Deliveries (S6)")
    def deliveries_summary(self, obj: Change) -> str:
        counts = dict.fromkeys(DeliveryStatus.values, 0)
        for status in obj.deliveries.values_list("status", flat=True):
            counts[status] += 1
        if not any(counts.values()):
            return "–"
        return ", ".join(f"{count} {status}" for status, count in counts.items() if count)

    @admin.display(description="Proof of notice")
    def proof_links(self, obj: Change) -> str:
        if obj.pk is None or obj.status != ChangeStatus.PUBLISHED:
            return "Available once the change is published."
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            reverse("admin:subprocessors_change_proof", args=[obj.pk, "pdf"]),
            reverse("admin:subprocessors_change_proof", args=[obj.pk, "csv"]),
        )

    def get_urls(self) -> list[URLPattern]:
        proof = path(
            "<int:object_id>/proof.<str:fmt>",
            self.admin_site.admin_view(self.proof_view),
            name="subprocessors_change_proof",
        )
        return [proof, *super().get_urls()]

    def proof_view(self, request: HttpRequest, object_id: int, fmt: str) -> HttpResponse:
        change = get_object_or_404(Change, pk=object_id)
        if not self.has_view_permission(request, change):
            raise PermissionDenied
        name = f"proof-of-notice-change-{change.pk}"
        if fmt == "csv":
            response = HttpResponse(exports.proof_csv(change), content_type="text/csv")
        elif fmt == "pdf":
            response = HttpResponse(exports.proof_pdf(change), content_type="application/pdf")
        else:
            return HttpResponse(status=404)
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response

    @admin.action(description="Publish and send the Notice", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Change]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one change at a time.", messages.ERROR)
            return None
        change = queryset.get()
        if "confirm" in request.POST:
            try:
                queued = services.change_publish(change=change)
            except ValidationError as exc:
                error_messages(self, request, exc)
                return None
            self.message_user(
                request,
                f"Published {change}; the Notice is queued for {queued} active signup(s). "
                "The Notice date is set once every delivery is sent.",
            )
            return None
        return render(
            request,
            "admin/subprocessors/change/publish.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Publish and send the Notice: {change}",
                "change": change,
                "recipients": Signup.objects.active().count(),
                "opts": self.model._meta,
                "action_name": "publish",
                "selected": change.pk,
            },
        )


@admin.register(Delivery)
class DeliveryAdmin(TrackedAdmin):
    """Deliveries are the proof of notice (S6): written by the task only, never by hand."""

    list_display = [
        "change",
        "signup",
        "status",
        "attempts",
        "sent_at",
        "objection_deadline_display",
        "last_error",
        "waived_at",
        "waived_by",
    ]
    list_filter = ["status", "change"]
    search_fields = ["signup__email", "message_id"]
    actions = ["retry", "waive"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subprocessors.change_delivery")

    def has_waive_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subprocessors.waive_delivery")

    @admin.display(description="Objection deadline (S4)", ordering="objection_deadline")
    def objection_deadline_display(self, obj: Delivery) -> str:
        return ruled(obj.objection_deadline, "S4")

    @admin.action(description="Retry failed/queued deliveries", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        requeued = 0
        with transaction.atomic():
            for delivery in queryset.select_for_update(of=("self",)).exclude(
                status=DeliveryStatus.SENT
            ):
                if delivery.status == DeliveryStatus.FAILED:
                    delivery.status = DeliveryStatus.QUEUED
                    delivery._change_reason = "Queued again by staff for a retry"  # type: ignore[attr-defined]
                    delivery.save()
                    requeued += 1
            change_ids = sorted(
                set(
                    queryset.filter(status=DeliveryStatus.QUEUED).values_list(
                        "change_id", flat=True
                    )
                )
            )
            for change_id in change_ids:
                # The task's rows are this staff member's work (H1).
                transaction.on_commit(
                    partial(
                        send_change_notices.enqueue, change_id=change_id, staff_id=request.user.pk
                    )
                )
        self.message_user(
            request,
            f"Queued {requeued} failed delivery(ies) again; sending for {len(change_ids)} "
            "change(s).",
        )

    @admin.action(description="Proceed without this address (counsel)", permissions=["waive"])
    def waive(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> HttpResponse | None:
        """S3: counsel's recorded decision, with a reason, to proceed without an address the
        Notice could not reach; the Notice date no longer waits for it."""
        form = WaiverForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            waived = 0
            for delivery in queryset.select_related("signup"):
                try:
                    services.delivery_waive(
                        delivery=delivery, by=request.user, reason=form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    error_messages(self, request, exc)
                else:
                    waived += 1
            self.message_user(
                request,
                f"Proceeding without {waived} address(es); the Notice date no longer waits for "
                "them (S3).",
            )
            return None
        return render(
            request,
            "admin/subprocessors/delivery/waive.html",
            {
                **self.admin_site.each_context(request),
                "title": "Proceed without these addresses",
                "deliveries": queryset.select_related("signup", "change"),
                "form": form,
                "opts": self.model._meta,
                "action_name": "waive",
            },
        )


class WaiverForm(forms.Form):
    reason = forms.CharField(
        label="Why Harmonyze proceeds without these addresses",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=2000,
    )


def contacts_to_invite() -> list[Contact]:
    """Customers' notice contacts not yet signed up, or whose confirmation is still pending.
    An address that unsubscribed is left alone: it said no."""
    settled = {
        email.lower()
        for email in Signup.objects.exclude(status=SignupStatus.PENDING).values_list(
            "email", flat=True
        )
    }
    contacts = Contact.objects.filter(is_notice_contact=True).select_related("customer")
    return [contact for contact in contacts if contact.email.lower() not in settled]


@admin.register(Signup)
class SignupAdmin(TrackedAdmin):
    """Signups come from the Notice Form or the invite tool and confirm by email (S2): staff
    cannot activate an address by hand."""

    change_list_template = "admin/subprocessors/signup/change_list.html"
    list_display = [
        "email",
        "customer",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "signup_ip",
        "confirm_ip",
    ]
    list_filter = ["status"]
    search_fields = ["email", "customer__legal_name"]
    autocomplete_fields = ["customer"]
    readonly_fields = [
        "email",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "signup_ip",
        "confirm_ip",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def can_invite(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subprocessors.add_signup")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_invite": self.can_invite(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[URLPattern]:
        invite = path(
            "invite-customer-contacts/",
            self.admin_site.admin_view(self.invite_view),
            name="subprocessors_signup_invite",
        )
        return [invite, *super().get_urls()]

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        if not self.can_invite(request):
            raise PermissionDenied
        contacts = contacts_to_invite()
        if request.method == "POST":
            for contact in contacts:
                services.signup_request(email=contact.email, ip=None)
            self.message_user(
                request,
                f"Asked {len(contacts)} notice contact(s) to confirm their sign-up by email.",
            )
            return HttpResponseRedirect(reverse("admin:subprocessors_signup_changelist"))
        return render(
            request,
            "admin/subprocessors/signup/invite.html",
            {
                **self.admin_site.each_context(request),
                "title": "Add all customers' notice contacts as signups",
                "contacts": contacts,
                "opts": self.model._meta,
            },
        )


# The objections admin lives in its own module to keep this one readable.
from subprocessors import admin_objections  # noqa: E402, F401
