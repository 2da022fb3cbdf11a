"""Second factor for every staff login (TOTP with django-otp), enrolled on first login.

Flow: password on the admin login page (django-axes counts failures) → the admin sends an
authenticated but unverified user here → enrol (QR code, then backup codes shown once) or
verify (authenticator code or a backup code) → back to where they were going.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
_NEW_CODES = "harmonyze_new_backup_codes"
View = Callable[..., HttpResponse]


def second_factor_satisfied(request: HttpRequest) -> bool:
    if not settings.STAFF_2FA_REQUIRED:
        return True
    verified: bool = request.user.is_verified()  # type: ignore[union-attr]
    return verified


def has_confirmed_authenticator(user: AbstractBaseUser) -> bool:
    return any(isinstance(device, TOTPDevice) for device in devices_for_user(user))


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def _staff_view(*, before_second_factor: bool) -> Callable[[View], View]:
    """For an active staff user who has passed the password step. Views of the second step
    send an already verified user on to where they were going."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not (user.is_authenticated and user.is_active and user.is_staff):
                return redirect(_with_next("admin:login", request))
            if before_second_factor and second_factor_satisfied(request):
                return redirect(_next_url(request))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


second_step = _staff_view(before_second_factor=True)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"].replace(" ", "").replace("-", "")
        if not token.isalnum():
            raise forms.ValidationError("Enter the 6-digit code, or one of your backup codes.")
        return token


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        # Not yet verified: the admin's app list must not show in the sidebar.
        "available_apps": [],
        "is_nav_sidebar_enabled": False,
        "next": _next_url(request),
        **extra,
    }


@never_cache
@require_http_methods(["GET"])
@second_step
def start(request: HttpRequest) -> HttpResponse:
    name = "twofactor:verify" if has_confirmed_authenticator(request.user) else "twofactor:setup"  # type: ignore[arg-type]
    return redirect(_with_next(name, request))


@never_cache
@require_http_methods(["GET", "POST"])
@second_step
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not has_confirmed_authenticator(user):  # type: ignore[arg-type]
        return redirect(_with_next("twofactor:setup", request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Read before trying: a wrong code itself starts a wait, which is not "too many".
        already_waiting = _waiting(user)  # type: ignore[arg-type]
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            _second_factor_passed(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "Too many wrong codes. Wait a little before the next try "
            "(each wrong code doubles the wait)."
            if already_waiting
            else "That code did not match. Check the time on your phone, or use a backup code.",
        )
    return render(request, "staff/2fa_verify.html", _context(request, form=form), status=200)


def _second_factor_passed(request: HttpRequest, device: Any) -> None:
    """A new session key for the verified session, as Django gives one at the password step:
    a key seen before the second factor (a shared machine, a log) never becomes a verified
    session."""
    request.session.cycle_key()
    rotate_token(request)
    otp_login(request, device)


def _waiting(user: AbstractBaseUser) -> bool:
    """Whether django-otp's throttle is holding any of the user's devices."""
    return any(not device.verify_is_allowed()[0] for device in devices_for_user(user))


@never_cache
@require_http_methods(["GET", "POST"])
@second_step
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if has_confirmed_authenticator(user):  # type: ignore[arg-type]
        return redirect(_with_next("twofactor:verify", request))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _new_backup_codes(user)  # type: ignore[arg-type]
            _second_factor_passed(request, device)
            request.session[_NEW_CODES] = codes
            return redirect(_with_next("twofactor:backup_codes", request))
        form.add_error("token", "That code did not match. Scan the QR code again and retry.")
    qr = segno.make(device.config_url, error="m")
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "staff/2fa_setup.html",
        _context(
            request,
            form=form,
            qr_svg=mark_safe(qr.svg_inline(scale=5, title="Authenticator QR code")),  # noqa: S308 - generated by segno
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        ),
    )


def _new_backup_codes(user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    for code in codes:
        device.token_set.create(token=code)
    return codes


@never_cache
@require_http_methods(["GET"])
@_staff_view(before_second_factor=False)
def backup_codes(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop(_NEW_CODES, None)
    if not codes:
        return redirect(_next_url(request))
    return render(request, "staff/2fa_backup_codes.html", _context(request, codes=codes))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("admin:login")
