"""The public side of data subject requests (R1–R3): anyone files a request, and it exists
only once its email is confirmed from the link we send. No login, no JavaScript."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from harmonyze_portal.links import LinkError
from harmonyze_portal.pagecache import BlankFormPage
from harmonyze_portal.public_flow import PublicFlow, apply_validation_error
from harmonyze_portal.ratelimit import public_post_rate_limit
from requests import services
from requests.forms import PrivacyRequestForm
from requests.models import DataSubjectRequest, DSRStatus, Role

# The empty form: the same page for everyone but the CSRF token (the regimes it lists drop it).
BLANK_FORM = BlankFormPage(
    "requests/form.html",
    lambda: {"form": PrivacyRequestForm(), "hours": settings.NOTICE_CONFIRM_HOURS},
)
FLOW = PublicFlow(form="requests:form", form_again="send the request again")
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


@require_http_methods(["GET", "HEAD", "POST"])
@public_post_rate_limit("privacy-request")
def form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PrivacyRequestForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.dsr_submit(dsr=_request_from(form))
            except ValidationError as exc:
                apply_validation_error(form, exc, fields=_FORM_FIELD)
            else:
                # Whoever sent it: the same page, so nobody learns whose address is known.
                return redirect("requests:sent")
        return render(
            request,
            "requests/form.html",
            {"form": form, "hours": settings.NOTICE_CONFIRM_HOURS},
            status=400,
        )
    return BLANK_FORM.response(request)


@require_safe
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "requests/sent.html", {"hours": settings.NOTICE_CONFIRM_HOURS})


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """A GET only shows the button (mail scanners open links); the POST verifies. The request
    counts as received on the legal date it was submitted, not this one (R3, T1)."""
    try:
        dsr_id, email = services.read_verification_token(token)
    except LinkError as exc:
        return FLOW.link_refused(request, exc)
    dsr = DataSubjectRequest.objects.select_related("regime").filter(pk=dsr_id).first()
    if dsr is None:
        # Purged when its link expired (R3): the same answer as an expired link.
        return FLOW.link_problem(request, EXPIRED, status=410)
    if dsr.requester_email.lower() != email:
        return FLOW.link_problem(
            request,
            "This verification link is not valid. Copy the whole link from the email.",
            status=400,
        )
    used = "This request was already confirmed: Harmonyze's privacy team has it."
    if dsr.status != DSRStatus.UNVERIFIED:
        return FLOW.link_problem(request, used, status=410)
    context: dict[str, Any] = {"dsr": dsr}
    if request.method == "POST":
        try:
            dsr = services.dsr_verify(dsr=dsr)
        except ValidationError:
            return FLOW.link_problem(request, used, status=410)
        # No customer concerned: Harmonyze's own information, answered by Harmonyze (R2).
        controller = dsr.role == Role.CONTROLLER or (
            dsr.role == Role.UNDECIDED and dsr.customer_id is None
        )
        context.update(dsr=dsr, controller=controller)
        return render(request, "requests/verified.html", context)
    return render(request, "requests/verify.html", context)
