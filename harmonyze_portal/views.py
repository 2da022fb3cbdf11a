from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
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
@require_GET
def staff_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded and issued documents (signed DPAs, letters, certificates), for staff who have
    passed both sign-in steps; never served to the public."""
    from django.contrib import admin

    if not admin.site.has_permission(request):
        return redirect_to_login(request.get_full_path())
    storage = default_storage
    if ".." in Path(path).parts or not storage.exists(path):
        raise Http404("No such file.")
    # Files come from anonymous forms too: always a download, never a page the browser renders
    # in the portal's origin, whatever the bytes look like.
    name = Path(path).name
    response = FileResponse(storage.open(path, "rb"), as_attachment=True, filename=name)
    response["Content-Type"] = (
        "application/pdf" if name.lower().endswith(".pdf") else "application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
