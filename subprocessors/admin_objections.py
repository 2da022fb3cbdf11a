"""The objections admin (S4, S5): resolve, withdraw, or end in the customer's termination."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from customers.models.accounts import TerminatedBy
from harmonyze_portal.admin import ChangeReasonForm, TrackedAdmin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.conflicts import TerminationConflictError, termination_conflicts
from harmonyze_portal.wording import counted
from subprocessors import services
from subprocessors.admin_common import ChangeListFilter, error_messages, ruled
from subprocessors.models import (
    Change,
    Objection,
    ObjectionChannel,
    ObjectionStatus,
)


class ObjectionEntryForm(ChangeReasonForm):
    """S4: an objection received by email or letter, entered by staff."""

    channel = forms.TypedChoiceField(
        choices=[(c.value, c.label) for c in (ObjectionChannel.EMAIL, ObjectionChannel.LETTER)],
        coerce=ObjectionChannel,
    )

    class Meta:
        model = Objection
        fields = ["change", "channel", "received_on", "signup", "customer", "reason"]
        help_texts = {
            "received_on": "The legal date the email or letter reached Harmonyze (S4).",
            "signup": "The address that objects, if it is signed up; otherwise the customer.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["change"].queryset = Change.objects.published()  # type: ignore[attr-defined]
        self.fields["received_on"].required = True
        self.fields["received_on"].initial = legal_today

    def clean_received_on(self) -> Any:
        received_on = self.cleaned_data["received_on"]
        if received_on and received_on > legal_today():
            raise ValidationError("The date received cannot be in the future.")
        return received_on


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))


class TerminationForm(forms.Form):
    terminated_by = forms.TypedChoiceField(
        label="Terminated by", choices=TerminatedBy.choices, coerce=TerminatedBy
    )
    on = forms.DateField(label="Termination date", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))
    confirm_conflicts = forms.BooleanField(
        label="Terminate despite the conflicts",
        required=False,
        help_text="Needed when a legal hold is active or a law-enforcement demand is open "
        "(C9); what is confirmed is kept in the history.",
    )


@admin.register(Objection)
class ObjectionAdmin(TrackedAdmin):
    list_display = [
        "change",
        "customer",
        "signup",
        "channel",
        "received_on",
        "in_time",
        "deadline_display",
        "status",
    ]
    list_filter = ["status", "in_time", "channel", ("change", ChangeListFilter)]
    list_select_related = ["change__subprocessor", "change__replaces", "customer", "signup"]
    search_fields = ["signup__email", "customer__legal_name", "reason", "resolution_note"]
    autocomplete_fields = ["customer"]
    fields = [
        "change",
        "signup",
        "customer",
        "channel",
        "received_on",
        "received_at",
        "in_time",
        "deadline_display",
        "reason",
        "status",
        "resolution_note",
    ]
    readonly_fields = [
        "change",
        "signup",
        "channel",
        "received_on",
        "received_at",
        "in_time",
        "deadline_display",
        "reason",
        "status",
    ]
    actions = ["mark_resolved", "mark_withdrawn", "end_in_termination"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ObjectionEntryForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ObjectionEntryForm.Meta.fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Objection, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Judged by the same S4 rule as the public form; the history names the staff member.
        entered = services.objection_enter(
            change=obj.change,
            channel=ObjectionChannel(obj.channel),
            received_on=obj.received_on,  # type: ignore[arg-type]
            reason=obj.reason,
            signup=obj.signup,
            customer=obj.customer,
            change_reason=form.cleaned_data.get("change_reason") or "",
        )
        obj.pk = entered.pk
        obj._state = entered._state
        for field in ("deadline", "in_time", "received_at"):
            setattr(obj, field, getattr(entered, field))

    @admin.display(description="In time until (S4)", ordering="deadline")
    def deadline_display(self, obj: Objection) -> str:
        return ruled(obj.deadline, "S4")

    def _action_page(
        self, request: HttpRequest, queryset: QuerySet[Objection], action: str, form: forms.Form
    ) -> HttpResponse:
        return render(
            request,
            "admin/subprocessors/objection/action.html",
            {
                **self.admin_site.each_context(request),
                "title": getattr(self, action).short_description,
                "objections": queryset,
                "conflicts": [
                    conflict
                    for objection in queryset.select_related("customer")
                    if objection.customer is not None
                    for conflict in termination_conflicts(objection.customer)
                ]
                if action == "end_in_termination"
                else [],
                "form": form,
                "opts": self.model._meta,
                "action_name": action,
            },
        )

    def _close(
        self,
        request: HttpRequest,
        queryset: QuerySet[Objection],
        status: ObjectionStatus,
        action: str,
    ) -> HttpResponse | None:
        if "confirm" not in request.POST:
            return self._action_page(request, queryset, action, NoteForm())
        form = NoteForm(request.POST)
        if not form.is_valid():
            return self._action_page(request, queryset, action, form)
        count = 0
        with transaction.atomic():
            for objection in queryset.select_for_update(of=("self",)).filter(
                status=ObjectionStatus.OPEN
            ):
                objection.status = status
                objection.resolution_note = form.cleaned_data["note"]
                objection._change_reason = f"Marked {status}"  # type: ignore[attr-defined]
                objection.save()
                count += 1
        self.message_user(request, f"Marked {counted(count, 'open objection')} {status}.")
        return None

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(
        self, request: HttpRequest, queryset: QuerySet[Objection]
    ) -> HttpResponse | None:
        return self._close(request, queryset, ObjectionStatus.RESOLVED, "mark_resolved")

    @admin.action(description="Mark withdrawn", permissions=["change"])
    def mark_withdrawn(
        self, request: HttpRequest, queryset: QuerySet[Objection]
    ) -> HttpResponse | None:
        return self._close(request, queryset, ObjectionStatus.WITHDRAWN, "mark_withdrawn")

    @admin.action(description="Ended in termination", permissions=["change"])
    def end_in_termination(
        self, request: HttpRequest, queryset: QuerySet[Objection]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one objection at a time.", messages.ERROR)
            return None
        if "confirm" not in request.POST:
            form = TerminationForm(initial={"on": legal_today()})
            return self._action_page(request, queryset, "end_in_termination", form)
        form = TerminationForm(request.POST)
        if not form.is_valid():
            return self._action_page(request, queryset, "end_in_termination", form)
        objection = queryset.get()
        try:
            customer = services.objection_end_in_termination(
                objection=objection, **form.cleaned_data
            )
        except TerminationConflictError as exc:
            # C9: show the conflicts on the same page and ask for the confirmation.
            form.add_error("confirm_conflicts", exc.messages)
            return self._action_page(request, queryset, "end_in_termination", form)
        except ValidationError as exc:
            error_messages(self, request, exc)
            return None
        self.message_user(
            request,
            f"{customer} terminated on {customer.termination_date}; deletion due "
            f"{customer.deletion_due} (C3), credential purge due {customer.credential_purge_due} "
            "(C4).",
        )
        return None
