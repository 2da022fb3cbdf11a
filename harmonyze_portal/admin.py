from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Model, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from harmonyze_portal import record_tools
from harmonyze_portal.history import person_name
from harmonyze_portal.history_diff import ValueRenderer, tracked_fields
from harmonyze_portal.history_export import may_export
from harmonyze_portal.models import HistoryRedaction, HistorySeal, PublicHoliday
from harmonyze_portal.templatetags.portal_rules import rule_filter
from harmonyze_portal.timefmt import staff_datetime
from harmonyze_portal.wording import counted

REASON_FIELD = "change_reason"


def reason_field() -> forms.CharField:
    """The one "Reason for this change" box of a tracked record's admin form (H1)."""
    return forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the record's history (who, when, what and why).",
    )


class ChangeReasonForm(forms.ModelForm):
    change_reason = reason_field()


def without_reason(fields: Any) -> list[Any]:
    """A fieldset's field list with the reason taken out, lines of several fields included."""
    kept: list[Any] = []
    for entry in fields:
        if isinstance(entry, (list, tuple)):
            line = [name for name in entry if name != REASON_FIELD]
            if line:
                kept.append(type(entry)(line) if isinstance(entry, tuple) else line)
        elif entry != REASON_FIELD:
            kept.append(entry)
    return kept


def explains_deadlines(obj: Model | None) -> bool:
    """A saved record whose model says how its deadlines were computed (``deadline_lines()``,
    a list of :class:`~harmonyze_portal.dates.Computation`)."""
    return obj is not None and obj.pk is not None and callable(getattr(obj, "deadline_lines", None))


class TrackedAdmin(SimpleHistoryAdmin):
    """Admin for history-tracked models: the change form asks why, and the history says it."""

    form: type[forms.ModelForm[Any]] = ChangeReasonForm
    # Who, when, why and a field-by-field diff, paginated so a long history stays one page load.
    object_history_template = "admin/harmonyze_portal/object_history.html"
    history_list_per_page = 50

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # Without declared fieldsets Django lists every form field, the declared reason too;
        # a second box at the end then posted a second value and the first one was lost (H1).
        # So the reason is taken out wherever it came from and put back once, last.
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = without_reason(options.get("fields", ()))
            if fields:
                fieldsets.append((name, {**options, "fields": fields}))
        if explains_deadlines(obj):
            fieldsets.append(("Deadlines", {"fields": ["deadline_lines_display"]}))
        if self.asks_for_reason(request, obj):
            fieldsets.append(("History", {"fields": [REASON_FIELD]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if explains_deadlines(obj):
            fields.append("deadline_lines_display")
        return fields

    @admin.display(description="How the deadlines were computed")
    def deadline_lines_display(self, obj: Any) -> str:
        """T5: each deadline of the record with the rule and the arithmetic that gave it
        ("terminated 5 Nov 2026 + 90 days = 3 Feb 2027"), from the model's ``deadline_lines``."""
        lines = obj.deadline_lines()
        if not lines:
            return "No deadline runs yet."
        return format_html_join(
            "", "<p>{}: {}</p>", ((rule_filter(line.rule), rule_filter(line)) for line in lines)
        )

    def asks_for_reason(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, obj)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Model | None = None,
    ) -> Any:
        # What other areas' records offer on this one (record_tools, an extension point).
        context["record_tools"] = record_tools.tools_for(obj, request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        reason = form.cleaned_data.get(REASON_FIELD)
        if reason:
            obj._change_reason = reason
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # The inline rows are saved by the same click, for the same reason (H1): each row
        # added, changed or deleted there carries the reason typed on the parent form.
        reason = form.cleaned_data.get(REASON_FIELD)
        if reason:
            for inline_form in formset.forms:
                inline_form.instance._change_reason = reason
        super().save_formset(request, form, formset, change)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and getattr(formfield.widget, "use_fieldset", False):
            # A file box is drawn in a <fieldset> whose legend names it for the eye only.
            formfield.widget.attrs.setdefault("aria-label", capfirst(str(formfield.label)))
        return formfield

    def get_inline_formsets(
        self, request: HttpRequest, formsets: Any, inline_instances: Any, obj: Any = None
    ) -> Any:
        # A row of a table of inlines has its labels in the column headings, which name no
        # input: each box is named after its column, and the delete box says which row.
        for formset in formsets:
            name_inline_fields(formset.form.base_fields.items())  # the "add another" row
            for index, form in enumerate(formset.forms, start=1):
                name_inline_fields(form.fields.items(), row=index)
        return super().get_inline_formsets(request, formsets, inline_instances, obj)

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
        renderer = ValueRenderer(fields, staff_datetime)
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


def name_inline_fields(fields: Any, row: int | None = None) -> None:
    for name, field in fields:
        label = capfirst(str(field.label or name))
        if name == "DELETE":
            label = f"Delete row {row}" if row else "Delete this row"
        elif row:
            label = f"{label}, row {row}"
        field.widget.attrs["aria-label"] = label


@admin.register(PublicHoliday)
class PublicHolidayAdmin(TrackedAdmin):
    """Closure days staff add on top of each regime's holiday calendar (T4); each add, edit or
    delete recomputes the open deadlines it touches (the requests area listens)."""

    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(HistorySeal)
class HistorySealAdmin(TrackedAdmin):
    """The history's hash chain (H3), to read: ``seal_history`` writes it, nobody edits it,
    and ``verify_history`` checks it."""

    list_display = [
        "history_table",
        "number",
        "first_id",
        "last_id",
        "row_count",
        "sealed_at",
        "sha256",
    ]
    list_filter = ["history_table"]
    readonly_fields = [field.name for field in HistorySeal._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


User = get_user_model()
admin.site.unregister(User)


class StaffChangeForm(UserChangeForm):
    change_reason = reason_field()


class StaffCreationForm(AdminUserCreationForm):
    change_reason = reason_field()


# Staff accounts are tracked too, so they ask for the reason like every tracked record (H1).
# misc: the stubs type ModelAdmin.object_history_template wider than the str TrackedAdmin sets.
@admin.register(User)
class StaffUserAdmin(TrackedAdmin, UserAdmin):  # type: ignore[misc]
    """Staff accounts are deactivated, never deleted: their history must keep its actors."""

    form = StaffChangeForm
    add_form = StaffCreationForm

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
        self.message_user(request, f"Deactivated {counted(count, 'staff account')}.")


@admin.register(HistoryRedaction)
class HistoryRedactionAdmin(TrackedAdmin):
    """History rows a PP 4 purge blanked, disclosed (H3): the purge writes them, nobody edits
    them, and ``verify_history`` counts the hash each row had when it was sealed."""

    list_display = ["history_table", "row_id", "redacted_at", "job", "reason"]
    list_filter = ["history_table"]
    date_hierarchy = "redacted_at"
    readonly_fields = [field.name for field in HistoryRedaction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
