"""Staff sessions end after 30 minutes idle and 12 hours in all (both configurable).

The idle limit is Django's own: ``SESSION_COOKIE_AGE`` slides with every request because
``SESSION_SAVE_EVERY_REQUEST`` is on. The absolute limit needs the time of login, stamped here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

LOGIN_AT = "harmonyze_login_at"


@receiver(user_logged_in)
def _stamp_login_time(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = timezone.now().timestamp()


def session_expired(request: HttpRequest, max_hours: int) -> bool:
    started = request.session.get(LOGIN_AT)
    if started is None:
        # A session from before this rule existed: treat it as expired rather than eternal.
        return True
    return timezone.now().timestamp() - float(started) > max_hours * 3600


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        # Without a session cookie there is no session to end; not touching the session keeps
        # public pages free of "Vary: Cookie", so they stay cacheable.
        user = (
            getattr(request, "user", None)
            if settings.SESSION_COOKIE_NAME in request.COOKIES
            else None
        )
        if (
            user is not None
            and user.is_authenticated
            and session_expired(request, settings.SESSION_MAX_HOURS)
        ):
            logout(request)
            messages.info(
                request,
                f"For security, sessions end after {settings.SESSION_MAX_HOURS} hours. "
                "Please sign in again.",
            )
            return redirect_to_login(request.get_full_path())
        response: HttpResponse = self.get_response(request)
        return response
