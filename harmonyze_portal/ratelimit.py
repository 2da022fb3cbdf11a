"""Per-IP rate limits for public POSTs, counted in the shared cache."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from harmonyze_portal.network import client_ip

View = Callable[..., HttpResponse]


def _client_key(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _configured_rate(group: str, request: HttpRequest) -> str:
    rate: str = settings.PUBLIC_POST_RATE
    return rate


def public_post_rate_limit(group: str, rate: str | None = None) -> Callable[[View], View]:
    """Answer a friendly 429 page, before the view runs, to a client that has posted more
    than ``rate`` (default ``PUBLIC_POST_RATE``) to ``group``. GETs are never limited."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                usage = get_usage(
                    request,
                    group=f"public:{group}",
                    key=_client_key,
                    rate=rate or _configured_rate,
                    method="POST",
                    increment=True,
                )
                if usage is not None and usage["should_limit"]:
                    minutes = max(1, round(usage["time_left"] / 60))
                    response = render(
                        request,
                        "public/rate_limited.html",
                        {"minutes": minutes},
                        status=429,
                    )
                    response["Retry-After"] = str(usage["time_left"])
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
