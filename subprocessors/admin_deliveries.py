"""Deliveries, Harmonyze's proof of notice (S6): retried with back-off, or waived by counsel
(S3)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.wording import counted
from subprocessors import delivery, services
from subprocessors.admin_common import ChangeListFilter, error_messages, ruled
from subprocessors.models import Delivery, DeliveryQuerySet


class DueForAttemptFilter(admin.SimpleListFilter):
    """S6: queued deliveries whose back-off has passed, by the QuerySet method the cron uses."""

    title = "next attempt (S6)"
    parameter_name = "attempt"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("due", "Due now")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "due":
            return cast(DeliveryQuerySet, queryset).due_for_attempt(timezone.now())
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(TrackedAdmin):
    """Deliveries are the proof of notice (S6): written by the task only, never by hand."""

    list_display = [
        "change",
        "signup",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "objection_deadline_display",
        "last_error",
        "waived_at",
        "waived_by",
    ]
    list_filter = ["status", DueForAttemptFilter, ("change", ChangeListFilter)]
    # A row names its change ("Replacement of X by Y"), its address and who waived it.
    list_select_related = ["change__subprocessor", "change__replaces", "signup", "waived_by"]
    search_fields = ["signup__email", "message_id"]
    # Each change's deliveries together: the (change, signup) constraint's index. The model's
    # order by address sorts on the signups table, a join no index serves (issue 16, P5).
    ordering = ["change_id", "signup_id"]
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
        # The task's rows are this staff member's work (H1).
        requeued, changes = delivery.deliveries_retry(
            delivery_ids=queryset.values_list("pk", flat=True), staff_id=request.user.pk
        )
        self.message_user(
            request,
            f"Queued {counted(requeued, 'failed delivery', 'failed deliveries')} again; "
            f"sending for {counted(changes, 'change')}.",
        )

    @admin.action(description="Proceed without this address (counsel)", permissions=["waive"])
    def waive(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> HttpResponse | None:
        """S3: counsel's recorded decision, with a reason, to proceed without an address the
        Notice could not reach; the Notice date no longer waits for it."""
        form = WaiverForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            waived = 0
            for held in queryset.select_related("signup"):
                try:
                    services.delivery_waive(
                        delivery=held, by=request.user, reason=form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    error_messages(self, request, exc)
                else:
                    waived += 1
            self.message_user(
                request,
                f"Proceeding without {counted(waived, 'address', 'addresses')}; the Notice date no "
                "longer waits for them (S3).",
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
