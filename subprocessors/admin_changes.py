"""Changes to the list: publishing sends the Notice (S3, S6); the proof of notice (S6)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.wording import counted
from subprocessors import exports, services
from subprocessors.admin_common import error_messages, ruled
from subprocessors.locations import ProcessingLocation, country_names
from subprocessors.models import (
    Change,
    ChangeQuerySet,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    Signup,
)


class OutsideUSFilter(admin.SimpleListFilter):
    """S7, PP 5: changes whose sub-processor processes data outside the United States: as
    published, or, for a draft, as its locations stand now."""

    title = "processing outside the United States (S7)"
    parameter_name = "outside_us"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("unacknowledged", "Draft, not yet acknowledged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        changes = cast(ChangeQuerySet, queryset)
        abroad = Exists(
            ProcessingLocation.objects.outside_us().filter(subprocessor=OuterRef("subprocessor"))
        )
        drafts = Q(status=ChangeStatus.DRAFT) & Q(abroad)
        if self.value() == "yes":
            return changes.filter(
                drafts | (Q(status=ChangeStatus.PUBLISHED) & ~Q(countries_outside_us=""))
            )
        if self.value() == "unacknowledged":
            return changes.filter(drafts)
        return queryset


class AcknowledgementForm(forms.Form):
    reason = forms.CharField(
        label="Counsel's acknowledgement: why publish despite the Privacy Policy's statement",
        help_text="Kept on the change and in its history (S7, PP 5).",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
    )


def delivery_count(status: str) -> Coalesce:
    """A change's deliveries in one status, counted by the list's own query for the rows of
    its page only (a correlated subquery over the unique (change, signup) index), not by one
    query per row."""
    counted = (
        Delivery.objects.filter(change=OuterRef("pk"), status=status)
        .order_by()
        .values("change")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


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
        "outside_us_display",
    ]
    list_filter = ["status", "kind", OutsideUSFilter]
    # Each row's name is "Replacement of X by Y": both sub-processors come with the row.
    list_select_related = ["subprocessor", "replaces"]
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
        "transfer_display",
        "transfer_acknowledged_by",
        "transfer_acknowledged_at",
        "transfer_acknowledgement",
    ]
    readonly_fields = [
        "status",
        "published_at",
        "notice_date_display",
        "earliest_access_display",
        "notice_sha256",
        "proof_links",
        "transfer_display",
        "transfer_acknowledged_by",
        "transfer_acknowledged_at",
        "transfer_acknowledgement",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Change]:
        counts = {
            f"deliveries_{status}": delivery_count(status) for status in DeliveryStatus.values
        }
        return super().get_queryset(request).annotate(**counts)

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

    @admin.display(description="Outside the United States (S7)")
    def outside_us_display(self, obj: Change) -> str:
        codes = obj.outside_us()
        if not codes:
            return "–"
        done = "acknowledged" if obj.transfer_acknowledged_at else "needs counsel"
        return format_html("<strong>{}</strong> <small>({})</small>", " ".join(codes), done)

    @admin.display(description="Processing countries (S7, PP 5)")
    def transfer_display(self, obj: Change) -> str:
        if obj.status == ChangeStatus.PUBLISHED:
            codes = [code for code in obj.countries.split(",") if code]
        elif obj.subprocessor_id and obj.subprocessor:
            codes = obj.subprocessor.countries()
        else:
            codes = []
        flag = obj.transfer_flag()
        listed = country_names(codes) if codes else "none recorded"
        if flag and obj.transfer_acknowledged_at is None:
            return format_html('{}<br><strong class="overdue">{}</strong>', listed, flag)
        return listed

    @admin.display(description="Deliveries (S6)")
    def deliveries_summary(self, obj: Change) -> str:
        counts = {status: getattr(obj, f"deliveries_{status}") for status in DeliveryStatus.values}
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
        flag = change.transfer_flag()
        may_acknowledge = request.user.has_perm("subprocessors.acknowledge_transfer")
        form = AcknowledgementForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and (not flag or form.is_valid()):
            try:
                queued = services.change_publish(
                    change=change,
                    transfer_acknowledgement=form.cleaned_data["reason"] if flag else "",
                    by=request.user,
                )
            except ValidationError as exc:
                error_messages(self, request, exc)
                return None
            self.message_user(
                request,
                f"Published {change}; the Notice is queued for {counted(queued, 'active signup')}. "
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
                "flag": flag,
                "may_acknowledge": may_acknowledge,
                "form": form,
                "opts": self.model._meta,
                "action_name": "publish",
                "selected": change.pk,
            },
        )
