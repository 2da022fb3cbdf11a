from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from harmonyze_portal.twofactor import second_factor_satisfied


class PortalAdminSite(admin.AdminSite):
    site_header = "Harmonyze Portal"
    site_title = "Harmonyze Portal"
    index_title = "Privacy & legal workspace"

    def has_permission(self, request: HttpRequest) -> bool:
        # A password alone is not enough: every admin page needs the second factor too.
        return super().has_permission(request) and second_factor_satisfied(request)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.is_active
            and user.is_staff
            and not second_factor_satisfied(request)
        ):
            query = request.META.get("QUERY_STRING", "")
            return redirect(reverse("twofactor:start") + (f"?{query}" if query else ""))
        return super().login(request, extra_context)
