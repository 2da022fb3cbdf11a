"""Public pages that are the same for every visitor, served from this process's memory.

The public sub-processor list (and its twins) is read far more often than it changes. A view
marks its responses cacheable with :func:`public_page`; this middleware, placed right after
WhiteNoise, answers later GETs of the same URL from memory before the rest of the stack runs,
as WhiteNoise does for static files. Entries live ``PUBLIC_PAGE_CACHE_SECONDS`` (other
processes see a change within that time; the pages already allow browsers five minutes), and a
save in this process drops them at once (:func:`invalidate_public_pages`).

A public *form* page cannot be cached whole: it carries each visitor's CSRF token (and sets its
cookie). :class:`BlankFormPage` keeps the empty form's HTML the same way and fills in the
visitor's own token per request (issue 16, P8).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone

from harmonyze_portal.dates import legal_date

_generation = 0
_MARK = "_harmonyze_public_page"


def invalidate_public_pages(*args: Any, **kwargs: Any) -> None:
    """Drop every cached public page of this process (connected to model saves)."""
    global _generation
    _generation += 1


def public_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a view's successful responses as the same for every visitor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        setattr(response, _MARK, True)
        return response

    return wrapped


@dataclass(frozen=True)
class _Entry:
    expires: float
    generation: int
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes


class PublicPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.entries: dict[str, _Entry] = {}
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Only plain GETs: a query string would let anyone fill memory with variants.
        if request.method != "GET" or request.META.get("QUERY_STRING"):
            return self.get_response(request)
        # The pages depend on the legal date (what is still in its notice period).
        key = f"{legal_date(timezone.now(), settings.TIME_ZONE)}|{request.path}"
        entry = self.entries.get(key)
        if (
            entry is not None
            and entry.generation == _generation
            and entry.expires > time.monotonic()
        ):
            hit = HttpResponse(entry.content, status=entry.status)
            for name, value in entry.headers:
                hit[name] = value
            return hit
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponse)
            and getattr(response, _MARK, False)
            and response.status_code == 200
            and not response.cookies
            and "Cookie" not in response.get("Vary", "")
        ):
            seconds: int = settings.PUBLIC_PAGE_CACHE_SECONDS
            with self.lock:
                self.entries[key] = _Entry(
                    expires=time.monotonic() + seconds,
                    generation=_generation,
                    status=response.status_code,
                    headers=tuple(response.items()),
                    content=response.content,
                )
        return response


# What the {% csrf_token %} tag writes while the shared page is rendered; each visitor's own
# token replaces it. Letters only, so escaping leaves it as it is.
_CSRF_PLACEHOLDER = "harmonyzecsrftokenslot"


@dataclass(frozen=True)
class _Page:
    expires: float
    generation: int
    html: str


class BlankFormPage:
    """A public form's empty page, the same for every visitor but for the CSRF token.

    Rendered once (its queries, its template) and kept like the public pages: for
    ``PUBLIC_PAGE_CACHE_SECONDS``, dropped at once by :func:`invalidate_public_pages` when a
    save in this process changes what it shows. ``context`` builds the template's context when
    the page is rendered. The token is still each visitor's: ``get_token`` masks it afresh and
    has the CSRF middleware set its cookie, as ``{% csrf_token %}`` would.
    """

    def __init__(self, template_name: str, context: Callable[[], dict[str, Any]]) -> None:
        self.template_name = template_name
        self.context = context
        self._page: _Page | None = None

    def response(self, request: HttpRequest) -> HttpResponse:
        page = self._page
        if page is None or page.generation != _generation or page.expires <= time.monotonic():
            generation = _generation  # a save while rendering makes the next request render
            html = render_to_string(
                self.template_name, {**self.context(), "csrf_token": _CSRF_PLACEHOLDER}, request
            )
            page = _Page(time.monotonic() + settings.PUBLIC_PAGE_CACHE_SECONDS, generation, html)
            self._page = page
        return HttpResponse(page.html.replace(_CSRF_PLACEHOLDER, get_token(request)))
