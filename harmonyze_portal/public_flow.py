"""The public email-confirmation flow the areas share: a person sends a form, we email a signed
link, and the page behind the link confirms (the audit plan, A2; the privacy request, R3; the
Notice Form, S2). Each area keeps its own rules; this module holds what is the same in all of
them: the address field, the save as the public form, the links an email carries, the email
itself, the page for a link that cannot be used, a model's refusal shown on the form, and the
work that must wait until the page has been answered (:func:`after_the_response`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from simple_history.models import HistoricalRecords

from harmonyze_portal.history import PUBLIC_FORM, TrackedModel, acting_as
from harmonyze_portal.links import LinkError
from harmonyze_portal.mail import queue_email

EMAIL_MAX_LENGTH = 254  # RFC 5321: a path of 256 characters, less its angle brackets


class LinkEmailField(forms.EmailField):
    """The address a public flow sends its signed link to, trimmed and lower-cased (the link
    carries it, and compares it with the stored one), with messages that say what to type."""

    def __init__(self, *, required_message: str, example: str, **kwargs: Any) -> None:
        super().__init__(
            max_length=EMAIL_MAX_LENGTH,
            error_messages={
                "required": required_message,
                "invalid": f"Enter a whole email address, like {example}.",
                "max_length": (
                    f"An email address can be at most {EMAIL_MAX_LENGTH} characters long."
                ),
            },
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        email: str = super().clean(value)
        return email.lower()


def after_the_response[**P, R](work: Callable[P, R]) -> Callable[P, R]:
    """Mark a task body as a public form's work that depends on who sent the form (a known
    customer's plan is saved, a stranger's is not; a new address is saved, a known one is
    not). The view validates, queues this and answers the same page to everyone: status,
    headers and time do not depend on the sender, because the work that does is not done yet.

    The work runs apart from the request that queued it, as in the worker: the immediate
    backend (DEBUG, tests) runs a task inside that request, and saving a record there would
    make simple-history read ``request.user``, which touches the session and adds
    ``Vary: Cookie`` to exactly the answers that saved something."""

    @wraps(work)
    def detached(*args: P.args, **kwargs: P.kwargs) -> R:
        with _apart_from_the_request():
            return work(*args, **kwargs)

    return detached


@contextmanager
def _apart_from_the_request() -> Iterator[None]:
    context = HistoricalRecords.context
    request = getattr(context, "request", None)
    if request is not None:
        del context.request
    try:
        yield
    finally:
        if request is not None:
            context.request = request


def record_submission(submission: TrackedModel, *, reason: str) -> None:
    """Save what a public form sent, checked by the model first: a refusal is a
    ValidationError for the form to show, and nothing is written. History names the public
    form, with ``reason`` (H1)."""
    submission.full_clean()
    with acting_as(PUBLIC_FORM, reason=reason):
        submission.save()


def absolute_url(name: str, *args: object) -> str:
    """The address of a portal page as an email carries it. Built from ``PORTAL_BASE_URL``,
    never from the request: a forged Host header must not put another site into our emails."""
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def email_link(*, to: str, subject: str, template: str, **context: Any) -> None:
    """Email ``to`` a message of a public flow: to the person, the signed link to confirm;
    to the legal inbox, the link to what arrived. ``context`` carries the links for
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
