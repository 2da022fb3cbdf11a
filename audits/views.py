"""The public side of the audits area: a customer's representative sends the proposed audit
plan (A1, A2) and confirms it from the email. No login, no JavaScript."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from audits import deadlines, services
from audits.forms import AuditPlanForm
from audits.models import AuditRequest, AuditStatus
from customers.models import Customer
from harmonyze_portal.clock import legal_today
from harmonyze_portal.links import LinkError
from harmonyze_portal.public_flow import (
    PublicFlow,
    absolute_url,
    apply_validation_error,
    email_link,
)
from harmonyze_portal.ratelimit import public_post_rate_limit

FLOW = PublicFlow(form="audits:plan", form_again="send the audit plan again")
# Model field → form field, to show a model check's message next to the field it names.
_FORM_FIELD = {"submitted_by_name": "name", "submitted_by_email": "email"}


def match_customer(email: str, name_given: str) -> Customer | None:
    """The customer whose domains or contacts include ``email``: the email decides, never the
    typed name, which only picks between customers that share a contact address."""
    candidates = list(
        Customer.objects.filter(
            Q(pk__in=Customer.objects.for_email(email).values("pk"))
            | Q(contacts__email__iexact=email)
        ).distinct()
    )
    if len(candidates) > 1:
        candidates = [c for c in candidates if c.legal_name.casefold() == name_given.casefold()]
    return candidates[0] if len(candidates) == 1 else None


def _plan_from(form: AuditPlanForm, customer: Customer) -> AuditRequest:
    data = form.cleaned_data
    return AuditRequest(
        customer=customer,
        customer_name_given=data["customer_name"],
        submitted_by_name=data["name"],
        submitted_by_email=data["email"],
        scope=data["scope"],
        proposed_start=data["proposed_start"],
        duration_days=data["duration_days"],
        self_audit=data["self_audit"],
        auditor_firm=data["auditor_firm"].strip(),
        auditor_lead=data["auditor_lead"].strip(),
        ground=data["ground"],
        evidence=data["evidence"].strip(),
        supporting_document=data["supporting_document"] or "",
        plan_file=data["plan_file"] or "",
    )


def _unmatched_email(email: str) -> None:
    """A neutral answer to the address only: the web page is the same for everyone. It echoes
    nothing typed into the form, so the form cannot carry a stranger's text to any inbox."""
    email_link(
        to=email,
        subject="Your audit plan for Harmonyze",
        template="audits/emails/unmatched.txt",
        legal_inbox=settings.LEGAL_INBOX_EMAIL,
        plan_url=absolute_url(FLOW.form),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@public_post_rate_limit("audit-plan")
def plan(request: HttpRequest) -> HttpResponse:
    today = legal_today()
    if request.method == "POST":
        form = AuditPlanForm(request.POST, request.FILES, today=today)
        if form.is_valid():
            data = form.cleaned_data
            customer = match_customer(data["email"], data["customer_name"])
            try:
                if customer is None:
                    _unmatched_email(data["email"])
                else:
                    services.plan_submit(request=_plan_from(form, customer))
            except ValidationError as exc:
                apply_validation_error(form, exc, fields=_FORM_FIELD)
            else:
                # Whoever sent it: the same page, so nobody learns who is a customer.
                sent = reverse("audits:plan_sent")
                return redirect(f"{sent}?start={data['proposed_start']:%Y-%m-%d}")
        status = 400
    else:
        form = AuditPlanForm(today=today)
        status = 200
    return render(
        request,
        "audits/plan.html",
        {"form": form, "today": today, "earliest": deadlines.earliest_start(today)},
        status=status,
    )


@require_GET
def plan_sent(request: HttpRequest) -> HttpResponse:
    today = legal_today()
    earliest = deadlines.earliest_start(today)
    try:
        start: date | None = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = None
    return render(
        request,
        "audits/plan_sent.html",
        {
            "today": today,
            "earliest": earliest,
            "start": start,
            "meets": start is not None and deadlines.lead_time_met(today, start),
            "hours": settings.NOTICE_CONFIRM_HOURS,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """A GET only shows the button (mail scanners open links); the POST confirms, and the
    plan counts as received on that legal date (A2)."""
    try:
        request_id = services.read_plan_confirm_token(token)
    except LinkError as exc:
        return FLOW.link_refused(request, exc)
    audit = get_object_or_404(AuditRequest.objects.select_related("customer"), pk=request_id)
    used = "This audit plan was already confirmed: Harmonyze's legal team has it."
    if audit.status == AuditStatus.WITHDRAWN:
        return FLOW.link_problem(
            request, "This audit plan was withdrawn. Send the plan again if needed.", status=410
        )
    if audit.status != AuditStatus.UNCONFIRMED:
        return FLOW.link_problem(request, used, status=410)
    context: dict[str, Any] = {"plan": audit}
    if request.method == "POST":
        try:
            services.plan_confirm(request=audit)
        except ValidationError:
            return FLOW.link_problem(request, used, status=410)
        return render(request, "audits/confirm_done.html", context)
    today = legal_today()
    earliest = deadlines.earliest_start(today)
    context.update(earliest=earliest, meets=deadlines.lead_time_met(today, audit.proposed_start))
    return render(request, "audits/confirm.html", context)
