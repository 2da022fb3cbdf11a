"""The public email-confirmation flow the areas share: a person sends a form, we email a signed
link, and the page behind the link confirms (the audit plan, A2; the privacy request, R3; the
Notice Form, S2). Each area keeps its own rules; this module holds what is the same in all of
them: the links an email carries, the email itself, the page for a link that cannot be used,
and a model's refusal shown on the form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from harmonyze_portal.links import LinkError
from harmonyze_portal.mail import queue_email


def absolute_url(name: str, *args: object) -> str:
    """The address of a portal page as an email carries it. Built from ``PORTAL_BASE_URL``,
    never from the request: a forged Host header must not put another site into our emails."""
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def email_link(*, to: str, subject: str, template: str, **context: Any) -> None:
    """Email ``to`` the signed link of a public flow. ``context`` carries the link for
    ``template``, which also gets ``hours``: how long a confirmation link is valid."""
    queue_email(
        to=[to],
        subject=subject,
        body=render_to_string(template, {**context, "hours": settings.NOTICE_CONFIRM_HOURS}),
    )


@dataclass(frozen=True)
class PublicFlow:
    """One area's public flow, named by where a person starts it again."""

    form: str  # the URL name of the public form
    form_again: str  # the words of the link back to it: "send the request again"

    def link_problem(self, request: HttpRequest, message: str, *, status: int) -> HttpResponse:
        """The page for a link that cannot be used: ``message`` says why, and the page offers
        the form again and the legal inbox."""
        return render(
            request,
            "public/link_problem.html",
            {
                "message": message,
                "again_url": reverse(self.form),
                "again": self.form_again,
                "legal_inbox": settings.LEGAL_INBOX_EMAIL,
            },
            status=status,
        )

    def link_refused(self, request: HttpRequest, exc: LinkError) -> HttpResponse:
        """A link whose signature was refused: 410 Gone when it has expired (it was good
        once), 400 when it is forged, damaged or made for another purpose."""
        return self.link_problem(request, str(exc), status=410 if exc.expired else 400)


def apply_validation_error(
    form: forms.Form, exc: ValidationError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Show a model's or a service's refusal on ``form``: each message next to the form field
    it names (``fields`` maps a model field to the form field where their names differ), the
    rest above the form. A field the form does not have never raises: the person reads the
    message, with a 400, instead of a 500."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    renamed = fields or {}
    for name, errors in exc.error_dict.items():
        field = renamed.get(name, name)
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        form.add_error(target, errors)
