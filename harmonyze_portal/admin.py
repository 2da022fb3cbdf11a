from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from simple_history.admin import SimpleHistoryAdmin

from harmonyze_portal.history import person_name
from harmonyze_portal.history_diff import ValueRenderer, tracked_fields
from harmonyze_portal.history_export import may_export
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
    # Who, when, why and a field-by-field diff, paginated so a long history stays one page load.
    object_history_template = "admin/harmonyze_portal/object_history.html"
    history_list_per_page = 50

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

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> Any:
        opts = self.model._meta
        query = urlencode({"model": opts.label_lower, "record": unquote(object_id)})
        context = {
            "history_export_url": (
                f"{reverse('history_export')}?{query}"
                if may_export(request.user, self.model)
                else ""
            ),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, extra_context=context)

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """Each row of the page gets who, and what changed since the record's previous row.

        Constant queries per page: the page, the row just before it (to diff the page's oldest
        row), and one query per related model for the names behind foreign keys.
        """
        records = list(historical_records)  # newest first
        if not records:
            return
        fields = tracked_fields(self.model)
        older = self._row_before(records[-1])
        rows = [[getattr(record, field.attname) for field in fields] for record in records]
        if older is not None:
            rows.append([getattr(older, field.attname) for field in fields])
        renderer = ValueRenderer(fields, _local_datetime)
        renderer.prime(rows)
        for index, record in enumerate(records):
            previous = rows[index + 1] if index + 1 < len(rows) else None
            record.portal_changes = renderer.changes(previous, rows[index], record.history_type)
            record.portal_actor = (
                person_name(record.history_user) if record.history_user else record.history_actor
            )

    def _row_before(self, record: Any) -> Any:
        pk_name = self.model._meta.pk.attname
        return (
            type(record)
            ._default_manager.filter(**{pk_name: getattr(record, pk_name)})
            .filter(
                Q(history_date__lt=record.history_date)
                | Q(history_date=record.history_date, history_id__lt=record.history_id)
            )
            .order_by("-history_date", "-history_id")
            .first()
        )


def _local_datetime(value: Any) -> str:
    # Deadlines are legal-time-zone dates (T1): show the zone so nobody guesses.
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}"


@admin.register(PublicHoliday)
class PublicHolidayAdmin(TrackedAdmin):
    """Closure days staff add on top of each regime's holiday calendar (T4); each add, edit or
    delete recomputes the open deadlines it touches (the requests area listens)."""

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
