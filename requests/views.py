"""The public side of data subject requests (R1–R3): anyone files a request, and it exists
only once its email is confirmed from the link we send. No login, no JavaScript."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from harmonyze_portal.ratelimit import public_post_rate_limit
from requests import services
from requests.forms import PrivacyRequestForm
from requests.models import DataSubjectRequest, DSRStatus, Role

EXPIRED = "This verification link has expired. Send your request again to get a new one."

# Model field → form field, to show a model check's message next to the field it names.
_FORM_FIELD = {"requester_name": "name", "requester_email": "email"}


def _request_from(form: PrivacyRequestForm) -> DataSubjectRequest:
    data = form.cleaned_data
    return DataSubjectRequest(
        requester_name=data["name"].strip(),
        requester_email=data["email"],
        right=data["right"],
        regime=data["regime"],
        service_named=data["service_named"].strip(),
        details=data["details"].strip(),
        agent_name=data["agent_name"].strip(),
        agent_email=data["agent_email"],
        agent_proof=data["agent_proof"] or "",
    )


def _add_model_errors(form: PrivacyRequestForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        field = _FORM_FIELD.get(name, name)
        form.add_error(field if field in form.fields else None, errors)


@require_http_methods(["GET", "HEAD", "POST"])
@public_post_rate_limit("privacy-request")
def form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PrivacyRequestForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.dsr_submit(dsr=_request_from(form))
            except ValidationError as exc:
                _add_model_errors(form, exc)
            else:
                # Whoever sent it: the same page, so nobody learns whose address is known.
                return redirect("requests:sent")
        status = 400
    else:
        form = PrivacyRequestForm()
        status = 200
    return render(
        request,
        "requests/form.html",
        {"form": form, "hours": settings.NOTICE_CONFIRM_HOURS},
        status=status,
    )


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "requests/sent.html", {"hours": settings.NOTICE_CONFIRM_HOURS})


def _link_problem(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(
        request,
        "requests/link_problem.html",
        {"message": message, "form_url": reverse("requests:form")},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """A GET only shows the button (mail scanners open links); the POST verifies. The request
    counts as received on the legal date it was submitted, not this one (R3, T1)."""
    try:
        dsr_id, email = services.read_verification_token(token)
    except services.VerificationTokenError as exc:
        return _link_problem(request, str(exc), status=410 if exc.expired else 400)
    dsr = DataSubjectRequest.objects.select_related("regime").filter(pk=dsr_id).first()
    if dsr is None:
        # Purged when its link expired (R3): the same answer as an expired link.
        return _link_problem(request, EXPIRED, status=410)
    if dsr.requester_email.lower() != email:
        return _link_problem(
            request,
            "This verification link is not valid. Copy the whole link from the email.",
            status=400,
        )
    used = "This request was already confirmed: Harmonyze's privacy team has it."
    if dsr.status != DSRStatus.UNVERIFIED:
        return _link_problem(request, used, status=410)
    context: dict[str, Any] = {"dsr": dsr}
    if request.method == "POST":
        try:
            dsr = services.dsr_verify(dsr=dsr)
        except ValidationError:
            return _link_problem(request, used, status=410)
        # No customer concerned: Harmonyze's own information, answered by Harmonyze (R2).
        controller = dsr.role == Role.CONTROLLER or (
            dsr.role == Role.UNDECIDED and dsr.customer_id is None
        )
        context.update(dsr=dsr, controller=controller)
        return render(request, "requests/verified.html", context)
    return render(request, "requests/verify.html", context)
