"""The public side of the sub-processor area: the list and its twins (S1), the Notice Form
and its links (S2), and the objection form (S4). No login, no JavaScript."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from harmonyze_portal.clock import legal_today
from harmonyze_portal.exports import neutralise_formula
from harmonyze_portal.links import LinkError
from harmonyze_portal.network import client_ip
from harmonyze_portal.pagecache import public_page
from harmonyze_portal.pdf import render_pdf
from harmonyze_portal.public_flow import PublicFlow, apply_validation_error
from harmonyze_portal.ratelimit import public_post_rate_limit
from subprocessors import deadlines, public_tasks, services, tokens
from subprocessors.forms import NoticeSignupForm, ObjectionForm
from subprocessors.locations import ProcessingLocation
from subprocessors.models import Change, Objection, Signup, SignupStatus, SubProcessor

FLOW = PublicFlow(form="subprocessors:signup", form_again="sign up to the notices again")
NOTICE_STILL_GOING_OUT = "notice still going out"
# Cached by browsers and proxies for five minutes: the list changes a few times a year.
_cache_control = cache_control(public=True, max_age=300)


def public_cache(view: Any) -> Any:
    """The same for every visitor: cacheable by browsers, proxies and this process."""
    return public_page(_cache_control(view))


@dataclass(frozen=True)
class PublicList:
    """What S1 publishes, once for the page and each machine-readable twin."""

    today: date
    current: list[SubProcessor]
    announced: list[Change]

    def as_json(self) -> dict[str, Any]:
        return {
            "generated_on": self.today.isoformat(),
            "subprocessors": [
                {
                    "name": sp.name,
                    "purpose": sp.purpose,
                    "locations": sp.locations,
                    "countries": countries(sp),
                    "data_categories": sp.data_categories,
                    "website": sp.website,
                    "since": _iso(sp.access_began_on),
                }
                for sp in self.current
            ],
            "announced_changes": [
                {
                    "id": change.pk,
                    "kind": change.kind,
                    "summary": change.summary,
                    "subprocessor": {
                        "name": change.subprocessor.name,
                        "purpose": change.subprocessor.purpose,
                        "locations": change.subprocessor.locations,
                        "countries": countries(change.subprocessor),
                        "data_categories": change.subprocessor.data_categories,
                        "website": change.subprocessor.website,
                    }
                    if change.subprocessor
                    else None,
                    "replaces": change.replaces.name if change.replaces else None,
                    "notice_date": _iso(change.notice_date),
                    "earliest_access_on": _iso(change.earliest_access_on),
                }
                for change in self.announced
            ],
        }

    def rows(self) -> tuple[list[str], list[list[str]]]:
        headers = [
            "Listed as",
            "Name",
            "What it does",
            "Where it processes data",
            "Countries (ISO 3166)",
            "Data it touches",
            "Since",
            "Replaces",
            "Earliest access",
        ]
        rows = [
            [
                "current",
                sp.name,
                sp.purpose,
                sp.locations,
                " ".join(countries(sp)),
                sp.data_categories,
                _iso(sp.access_began_on) or "",
                "",
                "",
            ]
            for sp in self.current
        ]
        for change in self.announced:
            sp = change.subprocessor
            rows.append(
                [
                    f"announced {change.get_kind_display().lower()}",
                    sp.name if sp else "",
                    sp.purpose if sp else "",
                    sp.locations if sp else "",
                    " ".join(countries(sp)) if sp else "",
                    sp.data_categories if sp else "",
                    "",
                    change.replaces.name if change.replaces else "",
                    _iso(change.earliest_access_on) or NOTICE_STILL_GOING_OUT,
                ]
            )
        return headers, rows


def countries(sp: SubProcessor) -> list[str]:
    """S7: the ISO 3166 codes of where it processes data, machine-readable (prefetched)."""
    return [str(location.country) for location in sp.processing_locations.all()]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def public_list(today: date) -> PublicList:
    current = list(SubProcessor.objects.current().order_by("name"))
    # S1: an announced sub-processor stays announced after its earliest access date, until
    # staff record that access began (then it is current) or withdraw it.
    announced = list(
        Change.objects.announced()
        .select_related("subprocessor", "replaces")
        .order_by("earliest_access_on", "pk")
    )
    # S7: the countries of every listed sub-processor, in one query.
    listed = current + [change.subprocessor for change in announced if change.subprocessor]
    prefetch_related_objects(
        listed,
        Prefetch("processing_locations", queryset=ProcessingLocation.objects.order_by("country")),
    )
    return PublicList(today=today, current=current, announced=announced)


@public_cache
@require_safe
def subprocessor_list(request: HttpRequest) -> HttpResponse:
    data = public_list(legal_today())
    # S4: a customer whose Notice arrived on the Notice date may object until 7 days later.
    announced = [
        (change, deadlines.objection_deadline(change.notice_date) if change.notice_date else None)
        for change in data.announced
    ]
    return render(
        request,
        "subprocessors/list.html",
        {
            "list": data,
            "announced": announced,
            "still_going_out": NOTICE_STILL_GOING_OUT,
            "legal_inbox": settings.LEGAL_INBOX_EMAIL,
        },
    )


@public_cache
@require_safe
def subprocessor_list_json(request: HttpRequest) -> HttpResponse:
    return JsonResponse(public_list(legal_today()).as_json(), json_dumps_params={"indent": 2})


@public_cache
@require_safe
def subprocessor_list_csv(request: HttpRequest) -> HttpResponse:
    headers, rows = public_list(legal_today()).rows()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="harmonyze-sub-processors.csv"'
    writer = csv.writer(response)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralise_formula(value) for value in row])
    return response


@public_cache
@require_safe
def subprocessor_list_pdf(request: HttpRequest) -> HttpResponse:
    data = public_list(legal_today())
    headers, rows = data.rows()
    pdf = render_pdf(
        "subprocessors/list_pdf.html",
        {"list": data, "headers": headers, "rows": rows, "generated_at": timezone.localtime()},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="harmonyze-sub-processors.pdf"'
    return response


# --- The Notice Form (S2) --------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@public_post_rate_limit("notice-signup")
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NoticeSignupForm(request.POST)
        if form.is_valid():
            # Whatever the address's state: the same work now and the same page, so nobody
            # learns who subscribes; what differs (a new row or none) waits for the queue.
            public_tasks.request_signup.enqueue(
                email=form.cleaned_data["email"], ip=client_ip(request)
            )
            return redirect("subprocessors:signup_sent")
        return render(request, "subprocessors/signup.html", {"form": form}, status=400)
    return render(request, "subprocessors/signup.html", {"form": NoticeSignupForm()})


@require_safe
def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "subprocessors/signup_sent.html", {"hours": settings.NOTICE_CONFIRM_HOURS}
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """A GET only shows the button (mail scanners open links); the POST confirms."""
    try:
        link = tokens.read_confirm_token(token)
    except LinkError as exc:
        return FLOW.link_refused(request, exc)
    signup = get_object_or_404(Signup, pk=link.signup_id)
    if signup.email.lower() != link.email:
        return FLOW.link_problem(
            request, "This confirmation link was made for another address.", status=400
        )
    if signup.link_version != link.version:
        return FLOW.link_problem(request, services.LINK_REPLACED, status=410)
    if signup.status == SignupStatus.ACTIVE:
        return FLOW.link_problem(
            request, "This address is already confirmed: it receives every Notice.", status=410
        )
    if signup.status == SignupStatus.UNSUBSCRIBED:
        return FLOW.link_problem(
            request,
            "This address unsubscribed after this link was used. Sign up again to get a new one.",
            status=410,
        )
    if request.method == "POST":
        try:
            services.signup_confirm(signup=signup, version=link.version, ip=client_ip(request))
        except ValidationError as exc:
            return FLOW.link_problem(request, " ".join(exc.messages), status=410)
        return render(request, "subprocessors/confirm_done.html", {"signup": signup})
    return render(request, "subprocessors/confirm.html", {"signup": signup})


ONE_CLICK = "One-Click"


@csrf_exempt  # RFC 8058: mail clients POST without a session or CSRF token.
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """A GET only shows the button; the POST (from the page or a mail client's one-click
    unsubscribe, RFC 8058) unsubscribes."""
    try:
        signup_id = tokens.read_unsubscribe_token(token)
    except LinkError as exc:
        return FLOW.link_refused(request, exc)
    signup = get_object_or_404(Signup, pk=signup_id)
    one_click = request.POST.get("List-Unsubscribe") == ONE_CLICK
    if request.method == "POST":
        try:
            services.signup_unsubscribe(signup=signup)
        except ValidationError as exc:
            if one_click:
                # A mail client may retry; the address is unsubscribed, which is all it asks.
                return HttpResponse("Unsubscribed.", content_type="text/plain")
            return FLOW.link_problem(request, " ".join(exc.messages), status=410)
        if one_click:
            return HttpResponse("Unsubscribed.", content_type="text/plain")
        return render(request, "subprocessors/unsubscribe_done.html", {"signup": signup})
    if signup.status == SignupStatus.UNSUBSCRIBED:
        return FLOW.link_problem(request, "This address is already unsubscribed.", status=410)
    return render(request, "subprocessors/unsubscribe.html", {"signup": signup})


# --- Objections (S4) -------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@public_post_rate_limit("objection")
def object_to_change(request: HttpRequest, change_id: int, token: str) -> HttpResponse:
    try:
        parsed = tokens.read_objection_token(token, change_id)
    except LinkError as exc:
        return FLOW.link_refused(request, exc)
    change = get_object_or_404(
        Change.objects.published().select_related("subprocessor", "replaces"), pk=change_id
    )
    signup = get_object_or_404(Signup.objects.select_related("customer"), pk=parsed.signup_id)
    deadline = change.objection_deadline_for(signup=signup)
    earlier = Objection.objects.filter(change=change, signup=signup).order_by("pk").first()
    if earlier is not None and request.method != "POST":
        # The link opened again: it says what was received, not "object" as if nothing was.
        return render(
            request,
            "subprocessors/object_done.html",
            {"change": change, "objection": earlier, "today": legal_today(), "again": True},
        )
    form = ObjectionForm(request.POST if request.method == "POST" else None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            objection = services.objection_record(
                change=change, signup=signup, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            if getattr(exc, "code", None) == "already_received":
                status = 409  # S4: one objection per address and change, kept as sent
        else:
            return render(
                request,
                "subprocessors/object_done.html",
                {"change": change, "objection": objection, "today": legal_today()},
            )
    return render(
        request,
        "subprocessors/object.html",
        {
            "change": change,
            "signup": signup,
            "form": form,
            "deadline": deadline,
            "late": deadline is not None and legal_today() > deadline,
        },
        status=status,
    )
