"""Notice Form signups (S2): they confirm by email; staff invite, never activate."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse

from customers.models import Contact
from harmonyze_portal.admin import TrackedAdmin
from harmonyze_portal.wording import counted
from subprocessors import services
from subprocessors.models import Signup, SignupStatus


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
                f"Asked {counted(len(contacts), 'notice contact')} to confirm their sign-up "
                "by email.",
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
