from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from harmonyze_portal.models import PublicHoliday


class ChangeReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the record's history (who, when, what and why).",
    )


class TrackedAdmin(SimpleHistoryAdmin):
    """Admin for history-tracked models: the change form asks why, and the history says it."""

    form = ChangeReasonForm

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if self.has_change_permission(request, obj):
            fieldsets.append(("History", {"fields": ["change_reason"]}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        reason = form.cleaned_data.get("change_reason")
        if reason:
            obj._change_reason = reason
        super().save_model(request, obj, form, change)


@admin.register(PublicHoliday)
class PublicHolidayAdmin(TrackedAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(SimpleHistoryAdmin, UserAdmin):
    """Staff accounts are deactivated, never deleted: their history must keep its actors."""

    list_display = ["username", "email", "first_name", "last_name", "is_active", "last_login"]
    list_filter = ["is_active", "groups"]
    actions = ["deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Deactivate selected staff (they can no longer sign in)")
    def deactivate(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for user in queryset.filter(is_active=True):
            user.is_active = False
            user._change_reason = f"Deactivated by {request.user.get_username()}"
            user.save()
            count += 1
        self.message_user(request, f"Deactivated {count} staff account(s).")
