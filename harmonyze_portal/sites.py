from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver, path, reverse

from harmonyze_portal import desk, desk_exports, system
from harmonyze_portal.admin_lists import LargeListMixin
from harmonyze_portal.clock import legal_today
from harmonyze_portal.twofactor import second_factor_satisfied
from harmonyze_portal.views import RefusedInput

# A changelist's date hierarchy turns ``?received_on__year=`` into datetime(); a number too
# big for C overflows there, and Django catches only ValueError.
DATE_PART = re.compile(r"__(year|month|day)$")


def refuse_bad_parameters(request: HttpRequest) -> None:
    """Query parameters no admin page can use, refused before any view reads them (400).

    PostgreSQL refuses a NUL byte in text (filters, search, autocomplete); a date part is a
    number of at most four digits.
    """
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            raise RefusedInput("The address contains a NUL character (%00); remove it.")
        if DATE_PART.search(key) and any(
            not (value.isascii() and value.isdigit() and len(value) <= 4) for value in values
        ):
            raise RefusedInput(f"{key} must be a number of at most four digits.")


class PortalLoginForm(AdminAuthenticationForm):
    """Django sets the username's max length only on the widget; a longer name went on to
    django-axes, whose record of the failure cannot hold it (a DataError on PostgreSQL)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = self.username_field.max_length or 254
        self.fields["username"].validators.append(MaxLengthValidator(limit))


class PortalAdminSite(admin.AdminSite):
    site_header = "Harmonyze Portal"
    site_title = "Harmonyze Portal"
    index_title = "Privacy & legal workspace"
    login_form = PortalLoginForm

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        # Every changelist, the libraries' too, counts only what it can afford and searches
        # through indexes (issue 16, P5): the site mixes that in, so no list can forget it.
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, LargeListMixin):
            base = type(base.__name__, (LargeListMixin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        # A password alone is not enough: every admin page needs the second factor too.
        return super().has_permission(request) and second_factor_satisfied(request)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        # Every admin URL (changelists, autocomplete, the dashboard and its export) passes here.
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refuse_bad_parameters(request)
            return view(request, *args, **kwargs)

        return super().admin_view(checked, cacheable)

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

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        today = legal_today()
        filters = desk.DeadlineFilter(request.GET or None)
        query = request.GET.urlencode()
        items = desk.deadline_items(request.user, today, **filters.deadline_kwargs())
        desk.log_restricted_views(request.user, items, request.get_full_path())
        context = {
            "desk": items,
            "desk_filter": filters,
            "desk_warnings": desk.coverage_warnings(request.user, today),
            "desk_horizon": settings.DEADLINE_HORIZON_DAYS,
            "desk_query": f"?{query}" if query else "",
        }
        return super().index(request, {**context, **(extra_context or {})})

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list  # one app's own page lists what it holds
        return system.regroup(app_list, request.user)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path(
                "deadlines.<str:fmt>",
                self.admin_view(self.deadline_export),
                name="deadline_export",
            ),
            *super().get_urls(),
        ]

    def deadline_export(self, request: HttpRequest, fmt: str) -> HttpResponseBase:
        """The dashboard's list, through the same filter: what you see is what you export."""
        if fmt not in ("csv", "xlsx"):
            raise Http404
        today = legal_today()
        filters = desk.DeadlineFilter(request.GET or None)
        items = desk.for_export(
            request.user, desk.deadline_items(request.user, today, **filters.deadline_kwargs())
        )
        desk.log_restricted_views(request.user, items, request.get_full_path())
        base_url = request.build_absolute_uri("/").rstrip("/")
        name = f"deadlines-{today:%Y-%m-%d}.{fmt}"
        return desk_exports.download(items, fmt, name, base_url)
