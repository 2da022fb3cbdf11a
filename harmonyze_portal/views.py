from __future__ import annotations

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

EVIDENCE_FOLDER = "evidence-packs/"

logger = logging.getLogger(__name__)


class RefusedInput(BadRequest):
    """Input the portal refuses with a 400 whose page says why (the message is shown)."""


# The error views never read request.GET, request.POST or the session: the request that got
# here may have a body that cannot be decoded, or the database may be down. Django's own
# defaults are replaced so every error is the portal's page, inside the middleware that adds
# the security headers (a 500 escaping to gunicorn has none).


def _error_page(template: str, status: int, **context: object) -> HttpResponse:
    body = render_to_string(template, {"legal_inbox": settings.LEGAL_INBOX_EMAIL, **context})
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if isinstance(exception, RefusedInput) else ""
    return _error_page("400.html", 400, reason=reason)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return _error_page("500.html", 500)
    except Exception:
        # The page itself failed (a broken template, settings): still answer, never re-raise.
        logger.exception("The 500 page could not be rendered")
        return HttpResponse(
            "Something went wrong. Please try again in a few minutes.",
            status=500,
            content_type="text/plain; charset=utf-8",
        )


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    links = []
    for app_config in apps.get_app_configs():
        for url_name, title, summary in getattr(app_config, "public_links", ()):
            try:
                links.append({"url": reverse(url_name), "title": title, "summary": summary})
            except NoReverseMatch:
                continue
    return render(
        request,
        "public/landing.html",
        {"links": links, "legal_inbox": settings.LEGAL_INBOX_EMAIL},
    )


@never_cache
@require_safe
def staff_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded and issued documents (signed DPAs, letters, certificates), for staff who have
    passed both sign-in steps; never served to the public."""
    from django.contrib import admin

    if not admin.site.has_permission(request):
        return redirect_to_login(request.get_full_path())
    storage = default_storage
    # Evidence packs are served by their admin, which checks R6 (counsel's packs stay theirs).
    if path.startswith(EVIDENCE_FOLDER):
        raise Http404("No such file.")
    if "\x00" in path or ".." in Path(path).parts or not storage.exists(path):
        raise Http404("No such file.")
    try:
        handle = storage.open(path, "rb")
    except OSError:
        # A folder (``/staff/files/dpas/``) exists but is not a document.
        raise Http404("No such file.") from None
    # Files come from anonymous forms too: always a download, never a page the browser renders
    # in the portal's origin, whatever the bytes look like.
    name = Path(path).name
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Content-Type"] = (
        "application/pdf" if name.lower().endswith(".pdf") else "application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
