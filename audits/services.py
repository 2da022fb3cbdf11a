"""Multi-step writes of the audits area (A1–A6)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from audits.models import (
    OTHER_QUALIFYING_KINDS,
    TYPE2_KINDS,
    AuditReport,
    AuditRequest,
    AuditStatus,
)
from customers.models import Customer
from harmonyze_portal.dates import legal_date
from harmonyze_portal.history import PUBLIC_FORM, acting_as
from harmonyze_portal.links import make_link_token, read_link_token
from harmonyze_portal.mail import queue_email
from harmonyze_portal.public_flow import absolute_url, email_link, record_submission
from harmonyze_portal.retention import forget
from harmonyze_portal.uploads import discard_upload

CONFIRM_SALT = "audits.plan.confirm"
PURGE_ACTOR = "task: purge unconfirmed audit plans"
QUALIFYING_KINDS = (*TYPE2_KINDS, *OTHER_QUALIFYING_KINDS)


def plan_confirm_token(request: AuditRequest) -> str:
    return make_link_token({"r": request.pk}, salt=CONFIRM_SALT)


def read_plan_confirm_token(token: str) -> int:
    return read_link_token(
        token,
        salt=CONFIRM_SALT,
        parse=lambda data: int(data["r"]),
        max_age=settings.NOTICE_CONFIRM_HOURS * 3600,
        expired="This confirmation link has expired. Submit the plan again to get a new one.",
        invalid="This confirmation link is not valid. Copy the whole link from the email.",
    )


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


def plan_receive(
    *,
    customer_name: str,
    name: str,
    email: str,
    scope: str,
    proposed_start: str,
    duration_days: int,
    self_audit: bool,
    auditor_firm: str,
    auditor_lead: str,
    ground: str,
    evidence: str,
    supporting_document: str,
    plan_file: str,
) -> AuditRequest | None:
    """A1, A2: what the public form sent, checked by the form and queued; runs after the page
    was answered, so no sender learns from it whether their address is a customer's.

    A matched sender's plan is recorded, awaiting confirmation (:func:`plan_submit`). Anyone
    else gets a neutral email that echoes nothing typed, and the stored files are removed, as
    they are when the model refuses the plan (the sender is told why, by email: the page was
    already answered). Returns the plan recorded, or None."""
    refusal = ""
    customer = match_customer(email, customer_name)
    if customer is not None:
        plan = AuditRequest(
            customer=customer,
            customer_name_given=customer_name,
            submitted_by_name=name,
            submitted_by_email=email,
            scope=scope,
            proposed_start=date.fromisoformat(proposed_start),
            duration_days=duration_days,
            self_audit=self_audit,
            auditor_firm=auditor_firm,
            auditor_lead=auditor_lead,
            ground=ground,
            evidence=evidence,
            supporting_document=supporting_document,
            plan_file=plan_file,
        )
        try:
            return plan_submit(request=plan)
        except ValidationError as exc:
            refusal = " ".join(exc.messages)
    for stored in (supporting_document, plan_file):
        discard_upload(stored)
    email_link(
        to=email,
        subject="Your audit plan for Harmonyze",
        template="audits/emails/unmatched.txt" if not refusal else "audits/emails/refused.txt",
        refusal=refusal,
        legal_inbox=settings.LEGAL_INBOX_EMAIL,
        plan_url=absolute_url("audits:plan"),
    )
    return None


@transaction.atomic
def plan_submit(*, request: AuditRequest) -> AuditRequest:
    """Record a plan sent from the public form, awaiting confirmation of the email address.
    The legal date of receipt is the confirmation date (A2), so nothing is computed yet."""
    request.status = AuditStatus.UNCONFIRMED
    request.received_on = None
    record_submission(request, reason="Audit plan submitted")
    email_link(
        to=request.submitted_by_email,
        subject="Confirm your audit plan for Harmonyze",
        template="audits/emails/confirm.txt",
        request=request,
        confirm_url=absolute_url("audits:confirm", plan_confirm_token(request)),
    )
    return request


def plan_purge_unconfirmed(*, now: datetime) -> int:
    """A2: a plan whose sender never confirmed the email is not a plan Harmonyze received; once
    its link has expired it is deleted with its uploaded files, like an unconfirmed privacy
    request (R3, PP 4). Its history keeps that it was purged, not what the sender wrote
    (``harmonyze_portal.retention.forget``). Returns how many."""
    cutoff = now - timedelta(hours=settings.NOTICE_CONFIRM_HOURS)
    purged = 0
    with acting_as(PURGE_ACTOR, reason="Email never confirmed: the link expired (A2, PP 4)"):
        for plan in AuditRequest.objects.unconfirmed_before(cutoff).order_by("pk"):
            files = [str(f.name) for f in (plan.supporting_document, plan.plan_file) if f]
            with transaction.atomic():
                forget(plan)
                # Only once the row is gone for good: a rollback must not leave a row
                # pointing at a deleted file.
                transaction.on_commit(partial(_discard_all, files))
            purged += 1
    return purged


def _discard_all(names: list[str]) -> None:
    for name in names:
        discard_upload(name)


@transaction.atomic
def plan_confirm(*, request: AuditRequest) -> AuditRequest:
    """The submitter confirmed: the request exists from today's legal date, and its checks
    (A2 lead time, A1 entitlement, A5 report in lieu) are stored."""
    # Re-read under a lock: a double click must not confirm (and email the legal inbox) twice.
    current = AuditRequest.objects.select_for_update().only("status").get(pk=request.pk)
    if request.status != AuditStatus.UNCONFIRMED or current.status != AuditStatus.UNCONFIRMED:
        raise ValidationError("This audit plan was already confirmed.", code="used")
    now = timezone.now()
    with acting_as(PUBLIC_FORM, reason="Audit plan confirmed by email"):
        request.status = AuditStatus.RECEIVED
        request.confirmed_at = now
        request.received_on = legal_date(now, settings.TIME_ZONE)
        request.save()
    email_link(
        to=settings.LEGAL_INBOX_EMAIL,
        subject=f"Audit plan received from {request.customer}",
        template="audits/emails/received.txt",
        request=request,
        admin_url=absolute_url("admin:audits_auditrequest_change", request.pk),
    )
    return request


@transaction.atomic
def report_offer(
    *, request: AuditRequest, report: AuditReport, no_material_changes: bool
) -> AuditRequest:
    """A5 (DPA 10.4): offer the report in lieu of auditing the controls it covers. Counsel
    must first confirm that there are no known material changes in the audited controls."""
    # Locked, then re-read into the caller's object: two counsel clicking at once must not
    # send the offer twice.
    AuditRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    request.refresh_from_db()
    errors = {}
    if not no_material_changes:
        errors["no_material_changes"] = (
            "Confirm that there are no known material changes in the audited controls first."
        )
    if request.received_on is None:
        errors["request"] = "The plan has not been confirmed yet."
    elif report.kind not in QUALIFYING_KINDS:
        # A Type 1 report tests design at one moment, not operation over a period (A5).
        errors["report"] = (
            f"A {report.get_kind_display()} report cannot be offered in lieu: only a Type 2, "
            "ISO or NIST report qualifies (A5)."
        )
    elif report not in AuditReport.objects.qualifying(request.received_on):
        errors["report"] = (
            "This report's audit period did not end within the twelve months before the request."
        )
    if request.offered_at is not None:
        errors["request"] = "The report was already offered for this request."
    if errors:
        raise ValidationError(errors)
    request.offered_report = report
    request.offered_at = timezone.now()
    request.no_material_changes_confirmed = True
    request.status = AuditStatus.REPORT_OFFERED
    request._change_reason = f"Offered {report} in lieu (A5)"
    request.save()
    queue_email(
        to=[request.submitted_by_email],
        subject="Your audit request: Harmonyze's audit report in lieu",
        body=render_to_string("audits/emails/offer.txt", {"request": request, "report": report}),
    )
    return request


ENTITLEMENT_RECHECK = "A1 entitlement rechecked: yearly audits counted from start to anniversary"


def entitlement_recheck(*, actor: str) -> tuple[list[AuditRequest], list[str]]:
    """Recompute the stored A1 check of every confirmed request whose stored answer is not
    what the rule gives today (after the rule was revised), each saved with a history row and
    a reason. Each request's answer depends on the others' ground, status and start only, never
    on their stored checks, so the order does not matter; a second run changes nothing.

    Returns the requests changed, and the problems of those that could not be saved (a breach
    ground pointing at another customer's breach: staff correct it in the admin).
    """
    changed, problems = [], []
    with acting_as(actor, reason=ENTITLEMENT_RECHECK):
        for request in AuditRequest.objects.confirmed().order_by("pk"):
            try:
                with transaction.atomic():
                    if request.recheck_entitlement(reason=ENTITLEMENT_RECHECK):
                        changed.append(request)
            except ValidationError as exc:
                problems.append(f"{request}: {' '.join(exc.messages)}")
    return changed, problems
