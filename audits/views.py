"""The public side of the audits area: a customer's representative sends the proposed audit
plan (A1, A2) and confirms it from the email. No login, no JavaScript."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from audits import deadlines, services, tasks
from audits.forms import AuditPlanForm
from audits.models import AuditRequest, AuditStatus
from harmonyze_portal.clock import legal_today
from harmonyze_portal.links import LinkError
from harmonyze_portal.public_flow import PublicFlow
from harmonyze_portal.ratelimit import public_post_rate_limit
from harmonyze_portal.uploads import store_upload

FLOW = PublicFlow(form="audits:plan", form_again="send the audit plan again")


def _field(name: str) -> Any:
    return AuditRequest._meta.get_field(name)


def _plan_payload(form: AuditPlanForm) -> dict[str, Any]:
    """What the task needs, as JSON; the files are stored now, before the request ends, the
    same way for every sender."""
    data = form.cleaned_data
    supporting, plan_file = data["supporting_document"], data["plan_file"]
    return {
        "customer_name": data["customer_name"],
        "name": data["name"],
        "email": data["email"],
        "scope": data["scope"],
        "proposed_start": data["proposed_start"].isoformat(),
        "duration_days": data["duration_days"],
        "self_audit": data["self_audit"],
        "auditor_firm": data["auditor_firm"].strip(),
        "auditor_lead": data["auditor_lead"].strip(),
        "ground": data["ground"],
        "evidence": data["evidence"].strip(),
        "supporting_document": store_upload(supporting, _field("supporting_document"))
        if supporting
        else "",
        "plan_file": store_upload(plan_file, _field("plan_file")) if plan_file else "",
    }


@require_http_methods(["GET", "HEAD", "POST"])
@public_post_rate_limit("audit-plan")
def plan(request: HttpRequest) -> HttpResponse:
    today = legal_today()
    if request.method == "POST":
        form = AuditPlanForm(request.POST, request.FILES, today=today)
        if form.is_valid():
            # Whoever sent it: the same work now and the same page, so nobody learns who is a
            # customer; matching and recording wait until the page is answered.
            tasks.receive_plan.enqueue(**_plan_payload(form))
            sent = reverse("audits:plan_sent")
            return redirect(f"{sent}?start={form.cleaned_data['proposed_start']:%Y-%m-%d}")
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


@require_safe
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
