"""The audits admin: who may open what, the Type 2 coverage page (A5), requests entered by
staff with their checks (A1, A2, A5) and bad input naming the field, the workflow, A4, the
offer of the report in lieu, the audit register export and the history of admin writes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.fields.files import FieldFile
from django.test import Client
from django.utils.html import escape

from audits import services
from audits.models import (
    AuditFinding,
    AuditGround,
    AuditReport,
    AuditRequest,
    AuditStatus,
    OfferAnswer,
    ReportKind,
)
from customers.models import Customer
from harmonyze_portal.templatetags.portal_rules import rule_filter
from tests.audits.builders import make_audit_request, make_report
from tests.customers.builders import make_breach, make_customer
from tests.downloads import body

# A rule ID shown in a list explains itself (T5).
R = {rule: rule_filter(rule) for rule in ("A1", "A2", "A5")}

pytestmark = pytest.mark.django_db

# 22:00 in New York on 2026-03-20 is already 2026-03-21 in UTC: the legal date is the 20th (T1).
TODAY = datetime(2026, 3, 21, 2, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
REQUESTS = "/admin/audits/auditrequest/"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def report_ending(period_end: date, kind: str = ReportKind.SOC2_TYPE2) -> AuditReport:
    return make_report(
        kind=kind, period_start=period_end - timedelta(days=364), period_end=period_end
    )


# --- Who may open what -------------------------------------------------------------------------

PAGES = ("changelist", "add", "change", "delete")
EXPECTED = {
    "counsel": {"changelist": 200, "add": 200, "change": 200, "delete": 200},
    "analyst": {"changelist": 200, "add": 200, "change": 200, "delete": 403},
    "viewer": {"changelist": 200, "add": 403, "change": 200, "delete": 403},
    "outsider": {"changelist": 403, "add": 403, "change": 403, "delete": 403},
}


def one_of_each(acme: Customer) -> dict[str, int]:
    request = make_audit_request(acme)
    finding = AuditFinding(
        request=request, description="Backups unencrypted", disclosed_on=date(2026, 5, 1)
    )
    finding.save()
    return {
        "auditreport": report_ending(date(2025, 12, 31)).pk,
        "auditrequest": request.pk,
        "auditfinding": finding.pk,
    }


@pytest.mark.parametrize("model", ["auditreport", "auditrequest", "auditfinding"])
@pytest.mark.parametrize("person", list(EXPECTED))
def test_audits_admin_page_by_role(
    everyone: dict[str, Any],
    signed_in: Callable[[Any], Client],
    acme: Customer,
    person: str,
    model: str,
) -> None:
    pk = one_of_each(acme)[model]
    client = signed_in(everyone[person])
    base = f"/admin/audits/{model}/"
    urls = {
        "changelist": base,
        "add": f"{base}add/",
        "change": f"{base}{pk}/change/",
        "delete": f"{base}{pk}/delete/",
    }

    codes = {page: client.get(url).status_code for page, url in urls.items()}

    assert codes == EXPECTED[person], (person, model)


@pytest.mark.parametrize(
    ("person", "code"), [("counsel", 200), ("analyst", 200), ("viewer", 200), ("outsider", 403)]
)
def test_the_coverage_page_and_the_register_by_role(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str, code: int
) -> None:
    client = signed_in(everyone[person])

    assert client.get("/admin/audits/auditreport/coverage/").status_code == code
    assert client.post(f"{REQUESTS}export/", {"format": "0"}).status_code == code


# --- The Type 2 coverage (A5) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "days_left", "warned"),
    [
        # Covered through 2026-06-30: 90 days ahead of 2026-04-01 is not yet a warning...
        (datetime(2026, 4, 2, 3, 0, tzinfo=UTC), 90, False),  # still Apr 1 in New York (T1)
        # ...89 days is.
        (datetime(2026, 4, 2, 15, 0, tzinfo=UTC), 89, True),
    ],
)
def test_rule_a5_the_coverage_page_says_when_no_type2_report_will_qualify(
    viewer: Any,
    signed_in: Callable[[Any], Client],
    now: datetime,
    days_left: int,
    warned: bool,
) -> None:
    report_ending(date(2025, 3, 31))
    report_ending(date(2025, 6, 30))
    report_ending(date(2025, 12, 31), kind=ReportKind.SOC2_TYPE1)  # not a Type 2
    client = signed_in(viewer)

    with time_machine.travel(now, tick=False):
        page = client.get("/admin/audits/auditreport/coverage/").content.decode()
        changelist = client.get("/admin/audits/auditreport/").content.decode()

    sentence = (
        f"From 2026-07-01 no Type 2 report will be within twelve months of a request (A5): "
        f"{days_left} days left"
    )
    level = "warning" if warned else "info"
    for html in (page, changelist):
        assert sentence in html
        assert f'<li class="{level}">{sentence}' in html
    assert "2026-06-30" in page
    assert 'href="/admin/audits/auditreport/coverage/"' in changelist


@time_machine.travel(TODAY, tick=False)
def test_rule_a5_without_any_type2_report_the_coverage_page_warns(
    viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    report_ending(date(2025, 12, 31), kind=ReportKind.ISO27001)

    page = signed_in(viewer).get("/admin/audits/auditreport/coverage/").content.decode()

    assert '<li class="warning">No Type 2 report is on record' in page


@time_machine.travel(TODAY, tick=False)
def test_rule_a5_a_lapsed_coverage_says_since_when(
    viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    report_ending(date(2025, 3, 10))

    page = signed_in(viewer).get("/admin/audits/auditreport/coverage/").content.decode()

    assert "any more since 2026-03-11 (9 days ago)" in page


def test_a_report_upload_must_be_a_pdf_and_its_dates_name_the_field(
    counsel_client: Client, media: Path
) -> None:
    data = {
        "kind": ReportKind.SOC2_TYPE2,
        "auditor_firm": "Schellman",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "issued_on": "2025-12-30",
        "systems_covered": "Production",
        "control_areas": "Security",
        "file": SimpleUploadedFile("report.pdf", b"PK\x03\x04 not a pdf"),
    }

    response = counsel_client.post("/admin/audits/auditreport/add/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"file", "issued_on"}
    assert not AuditReport.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []

    data |= {"issued_on": "2026-02-15", "file": SimpleUploadedFile("report.pdf", PDF)}
    assert counsel_client.post("/admin/audits/auditreport/add/", data).status_code == 302
    assert AuditReport.objects.get().file.name.startswith("audits/reports/")


# --- Requests entered by staff, and bad input ----------------------------------------------------


def request_form(customer: Customer, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer": customer.pk,
        "submitted_by_name": "Dana Privacy",
        "submitted_by_email": "dana@acme.com",
        "received_on": "2026-03-15",
        "status": AuditStatus.RECEIVED,
        "scope": "Access control and logging",
        "proposed_start": "2026-04-14",
        "duration_days": "3",
        "auditor_firm": "Audit & Co",
        "auditor_lead": "Ada Auditor",
        "ground": AuditGround.ANNUAL,
        "findings-TOTAL_FORMS": "0",
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "1000",
        "change_reason": "Plan received by email",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@time_machine.travel(TODAY, tick=False)
def test_staff_enter_a_request_received_by_email_and_the_checks_are_computed(
    acme: Customer, counsel: Any, counsel_client: Client
) -> None:
    report = report_ending(date(2025, 9, 30))
    make_audit_request(acme, received=date(2025, 6, 1), start=date(2025, 7, 15))

    response = counsel_client.post(f"{REQUESTS}add/", request_form(acme))

    assert response.status_code == 302, response.context["adminform"].form.errors
    request = AuditRequest.objects.get(received_on=date(2026, 3, 15))
    assert request.lead_time_met is False
    assert request.earliest_compliant_start == date(2026, 4, 15)
    assert request.entitled is False
    assert request.needs_exception_ground is True
    assert request.type2_report == report
    record = request.history.get()
    assert record.history_user == counsel
    assert record.history_actor == "staff: counsel"
    assert record.history_change_reason == "Plan received by email"

    listing = counsel_client.get(REQUESTS).content.decode()
    assert f"missed <small>({R['A2']})</small></strong> earliest 2026-04-15" in listing
    assert (
        f"yearly audit started 2025-07-15 <small>({R['A1']})</small>, no exception ground</strong> "
        "earliest 2026-07-15" in listing
    )
    assert f"SOC 2 Type 2 / SSAE 18 Type 2 ending 2025-09-30 <small>({R['A5']})</small>" in listing


@time_machine.travel(TODAY, tick=False)
def test_the_change_page_explains_each_check_with_its_rule(
    acme: Customer, counsel_client: Client
) -> None:
    report_ending(date(2025, 9, 30))
    iso = report_ending(date(2025, 11, 30), kind=ReportKind.ISO27001)
    request = make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 4, 15))

    page = counsel_client.get(f"{REQUESTS}{request.pk}/change/").content.decode()

    assert "<strong>Met</strong> <small>(A2, DPA 10.2)</small>" in page
    assert "earliest compliant start is 2026-04-15" in page
    assert "<strong>Entitled</strong> <small>(A1, DPA 10.1)</small>" in page
    assert "no yearly audit of this customer started in the twelve months before 2026-04-15" in page
    assert "within the twelve months before the request (on or after 2025-03-15)" in page
    assert escape(str(iso)) in page
    assert "2026-04-01 <small>(A4, DPA 10.2" in page


def breach_of(customer: Customer) -> int:
    return make_breach(customers=(customer,)).pk


BAD_INPUT = [
    ({"proposed_start": "2026-03-14"}, "proposed_start"),
    ({"duration_days": "0"}, "duration_days"),
    ({"duration_days": "31"}, "duration_days"),
    ({"auditor_firm": ""}, "auditor_firm"),
    ({"ground": AuditGround.BREACH, "status": AuditStatus.UNDER_REVIEW}, "breach"),
    ({"ground": AuditGround.BREACH, "breach": "globex"}, "breach"),
    ({"ground": AuditGround.CONCERNS}, "evidence"),
    ({"ground": AuditGround.LAW}, "evidence"),
    (
        {"proposed_start": "2026-05-01", "final_plan_agreed_on": "2026-04-18"},
        "final_plan_agreed_on",
    ),
    ({"plan_file": "docx"}, "plan_file"),
    ({"plan_file": "fake-pdf"}, "plan_file"),
    ({"supporting_document": "docx"}, "supporting_document"),
    ({"received_on": ""}, "received_on"),
    ({"received_on": "2026-03-21"}, "received_on"),
    ({"auditor_objection": "competitor"}, "auditor_objected_on"),
    ({"status": AuditStatus.REPORT_OFFERED}, "status"),
    ({"status": AuditStatus.COMPLETED, "final_plan_agreed_on": "2026-03-16"}, "status"),
    ({"offer_answer": OfferAnswer.ACCEPTED_ALL, "offer_answered_on": "2026-03-16"}, "offer_answer"),
]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(("changes", "field"), BAD_INPUT, ids=[f for _, f in BAD_INPUT])
def test_bad_input_names_the_field_and_saves_nothing(
    acme: Customer,
    globex: Customer,
    counsel_client: Client,
    media: Path,
    changes: dict[str, Any],
    field: str,
) -> None:
    changes = dict(changes)
    if changes.get("breach") == "globex":
        changes["breach"] = breach_of(globex)
    for name in ("plan_file", "supporting_document"):
        if changes.get(name) == "docx":
            changes[name] = SimpleUploadedFile("plan.docx", b"PK\x03\x04 word")
        elif changes.get(name) == "fake-pdf":
            changes[name] = SimpleUploadedFile("plan.pdf", b"PK\x03\x04 word")

    response = counsel_client.post(f"{REQUESTS}add/", request_form(acme, **changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field], errors
    assert field.replace("_", " ").split()[0] in response.content.decode().lower()
    assert not AuditRequest.objects.exists()
    assert not AuditRequest.history.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("role", ["counsel", "analyst"])
def test_rule_a1_staff_enter_a_yearly_audit_after_a_breach_ground_one_and_it_is_entitled(
    acme: Customer, everyone: dict[str, Any], signed_in: Callable[[Any], Client], role: str
) -> None:
    make_audit_request(
        acme,
        received=date(2026, 1, 5),
        start=date(2026, 2, 9),
        status=AuditStatus.UNDER_REVIEW,
        ground=AuditGround.BREACH,
        breach=make_breach(customers=(acme,)),
    )

    response = signed_in(everyone[role]).post(f"{REQUESTS}add/", request_form(acme))

    assert response.status_code == 302, response.context["adminform"].form.errors
    yearly = AuditRequest.objects.get(ground=AuditGround.ANNUAL)
    assert (yearly.entitled, yearly.previous_audit) == (True, None)


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("role", ["counsel", "analyst"])
def test_rule_a1_staff_enter_an_earlier_yearly_audit_and_the_later_one_is_rechecked(
    acme: Customer, everyone: dict[str, Any], signed_in: Callable[[Any], Client], role: str
) -> None:
    later = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 6, 1))

    response = signed_in(everyone[role]).post(f"{REQUESTS}add/", request_form(acme))

    assert response.status_code == 302, response.context["adminform"].form.errors
    earlier = AuditRequest.objects.get(proposed_start=date(2026, 4, 14))
    later.refresh_from_db()
    assert (earlier.entitled, later.entitled, later.previous_audit) == (True, False, earlier)
    row = later.history.first()
    assert (row.history_user, row.history_change_reason) == (
        everyone[role],
        "A1 entitlement rechecked: the audit request starting 2026-04-14 was entered",
    )


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(("days_before", "saved"), [(13, False), (14, True)])
def test_rule_a4_the_final_plan_agreed_13_or_14_days_before_the_start(
    acme: Customer, counsel_client: Client, days_before: int, saved: bool
) -> None:
    agreed = date(2026, 5, 1) - timedelta(days=days_before)
    data = request_form(
        acme,
        proposed_start="2026-05-01",
        final_plan_agreed_on=agreed.isoformat(),
        status=AuditStatus.NEGOTIATION,
    )

    response = counsel_client.post(f"{REQUESTS}add/", data)

    if saved:
        assert response.status_code == 302
        assert AuditRequest.objects.get().final_plan_agreed_on == agreed
    else:
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["final_plan_agreed_on"]
        assert "at least 14 days before the start (A4): by 2026-04-17" in str(errors)
        assert not AuditRequest.objects.exists()


# --- The workflow ------------------------------------------------------------------------------


def change_form_data(response: Any) -> dict[str, Any]:
    """What the browser would post back unchanged: the main form and every inline formset."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.extend(formset.forms)
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
    for form in forms:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is None or value is False or (isinstance(value, FieldFile) and not value):
                continue
            if hasattr(value, "pk"):
                value = value.pk
            if isinstance(value, date):
                value = value.isoformat()
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def post_change(client: Client, request: AuditRequest, **changes: Any) -> Any:
    url = f"{REQUESTS}{request.pk}/change/"
    return client.post(url, change_form_data(client.get(url)) | changes)


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("old", "changes", "message"),
    [
        (
            AuditStatus.RECEIVED,
            {"status": AuditStatus.PLAN_AGREED},
            "needs the date the final plan was agreed (A4)",
        ),
        (
            AuditStatus.UNDER_REVIEW,
            {"status": AuditStatus.ACCEPTED_IN_LIEU},
            "can move to “Plan negotiation”, “Final plan agreed”, “Withdrawn”",
        ),
        (AuditStatus.COMPLETED, {"status": AuditStatus.RECEIVED}, "can move to no other status"),
        (AuditStatus.WITHDRAWN, {"status": AuditStatus.NEGOTIATION}, "not to “Plan negotiation”"),
        (
            AuditStatus.REPORT_OFFERED,
            {"status": AuditStatus.ACCEPTED_IN_LIEU},
            "needs an offer the customer accepted for all controls",
        ),
    ],
)
def test_invalid_status_jumps_are_refused_with_a_clear_error(
    acme: Customer, counsel_client: Client, old: str, changes: dict[str, str], message: str
) -> None:
    request = make_audit_request(
        acme,
        status=old,
        final_plan_agreed_on=date(2026, 4, 1) if old == AuditStatus.COMPLETED else None,
    )

    response = post_change(counsel_client, request, **changes)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["status"]
    assert message in errors["status"][0]
    request.refresh_from_db()
    assert request.status == old


@time_machine.travel(TODAY, tick=False)
def test_the_plan_is_agreed_and_scheduled_through_the_change_form(
    acme: Customer, analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    request = make_audit_request(acme, status=AuditStatus.NEGOTIATION)
    client = signed_in(analyst)

    response = post_change(
        client,
        request,
        status=AuditStatus.PLAN_AGREED,
        final_plan_agreed_on="2026-04-01",
        change_reason="Plan agreed by email",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    request.refresh_from_db()
    assert (request.status, request.final_plan_agreed_on) == (
        AuditStatus.PLAN_AGREED,
        date(2026, 4, 1),
    )
    assert post_change(client, request, status=AuditStatus.SCHEDULED).status_code == 302
    record = request.history.order_by("-history_id").first()
    assert record.history_user == analyst


@time_machine.travel(TODAY, tick=False)
def test_findings_and_the_auditor_objection_are_recorded_on_the_request(
    acme: Customer, counsel: Any, counsel_client: Client
) -> None:
    request = make_audit_request(acme, status=AuditStatus.IN_PROGRESS)
    request.final_plan_agreed_on = date(2026, 4, 1)
    request.save()
    url = f"{REQUESTS}{request.pk}/change/"
    data = change_form_data(counsel_client.get(url)) | {
        "auditor_objection": "competitor",
        "auditor_objected_on": "2026-03-17",
        "replacement_auditor": "Independent Audit LLP",
        "findings-TOTAL_FORMS": "1",
        "findings-0-description": "Backups of the EU region were not encrypted.",
        "findings-0-disclosed_on": "2026-04-20",
        "findings-0-remediation": "Encryption enabled",
    }

    response = counsel_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    finding = AuditFinding.objects.get()
    assert finding.request == request
    assert finding.history.get().history_user == counsel
    request.refresh_from_db()
    assert request.replacement_auditor == "Independent Audit LLP"


# --- The offer of the report in lieu (A5) ---------------------------------------------------------


def offer(client: Client, pk: int, **confirm: Any) -> Any:
    data: dict[str, Any] = {"action": "offer_report", "_selected_action": [pk]}
    data.update(confirm)
    return client.post(REQUESTS, data)


@pytest.fixture
def offerable(acme: Customer) -> tuple[AuditRequest, AuditReport, AuditReport]:
    type2 = report_ending(date(2025, 9, 30))
    iso = report_ending(date(2025, 11, 30), kind=ReportKind.ISO27001)
    request = make_audit_request(acme, received=date(2026, 3, 15))
    return request, type2, iso


@time_machine.travel(TODAY, tick=False)
def test_rule_a5_the_offer_needs_the_no_material_changes_tick(
    offerable: tuple[AuditRequest, AuditReport, AuditReport],
    counsel_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request, type2, _ = offerable

    page = offer(counsel_client, request.pk)
    assert page.status_code == 200
    assert page.context["form"]["report"].value() == type2.pk
    with django_capture_on_commit_callbacks(execute=True):
        refused = offer(counsel_client, request.pk, confirm="Send", report=type2.pk)

    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["no_material_changes"]
    assert "no known material changes" in refused.content.decode()
    request.refresh_from_db()
    assert (request.offered_at, request.status) == (None, AuditStatus.RECEIVED)
    assert mail.outbox == []


@time_machine.travel(TODAY, tick=False)
def test_rule_a5_the_offer_emails_the_customer_and_records_it(
    offerable: tuple[AuditRequest, AuditReport, AuditReport],
    counsel: Any,
    counsel_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request, type2, _ = offerable

    with django_capture_on_commit_callbacks(execute=True):
        done = offer(
            counsel_client,
            request.pk,
            confirm="Send",
            report=type2.pk,
            no_material_changes="on",
        )

    assert done.status_code == 302
    request.refresh_from_db()
    assert request.offered_report == type2
    assert request.offered_at == TODAY
    assert request.no_material_changes_confirmed is True
    assert request.status == AuditStatus.REPORT_OFFERED
    [message] = mail.outbox
    assert message.to == ["privacy@acme.com"]
    assert "in lieu" in message.subject
    assert "to 2025-09-30" in message.body
    assert "no known material changes" in message.body
    record = request.history.order_by("-history_id").first()
    assert record.history_user == counsel
    assert record.history_change_reason.startswith("Offered")
    assert "Offered the SOC 2 Type 2" in counsel_client.get(REQUESTS).content.decode()

    # The customer's answer is recorded through the change form.
    answered = post_change(
        counsel_client,
        request,
        offer_answer=OfferAnswer.ACCEPTED_ALL,
        offer_answered_on="2026-03-19",
        status=AuditStatus.ACCEPTED_IN_LIEU,
    )
    assert answered.status_code == 302, answered.context["adminform"].form.errors
    request.refresh_from_db()
    assert (request.status, request.offer_answer) == (
        AuditStatus.ACCEPTED_IN_LIEU,
        OfferAnswer.ACCEPTED_ALL,
    )

    again = offer(counsel_client, request.pk)
    assert again.status_code == 302
    assert "already offered" in counsel_client.get(REQUESTS).content.decode()


@time_machine.travel(TODAY, tick=False)
def test_rule_a5_an_iso_report_may_be_offered_instead(
    offerable: tuple[AuditRequest, AuditReport, AuditReport],
    counsel_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request, _, iso = offerable

    with django_capture_on_commit_callbacks(execute=True):
        offer(counsel_client, request.pk, confirm="Send", report=iso.pk, no_material_changes="on")

    request.refresh_from_db()
    assert request.offered_report == iso


@time_machine.travel(TODAY, tick=False)
def test_rule_a5_a_type1_report_cannot_be_offered(
    offerable: tuple[AuditRequest, AuditReport, AuditReport],
    counsel_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request, _, _ = offerable
    type1 = report_ending(date(2025, 12, 31), kind=ReportKind.SOC2_TYPE1)

    with django_capture_on_commit_callbacks(execute=True):
        refused = offer(
            counsel_client, request.pk, confirm="Send", report=type1.pk, no_material_changes="on"
        )

    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["report"]
    with pytest.raises(ValidationError) as service_refused:
        services.report_offer(request=request, report=type1, no_material_changes=True)
    assert "cannot be offered in lieu" in service_refused.value.message_dict["report"][0]
    request.refresh_from_db()
    assert request.offered_at is None
    assert mail.outbox == []


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unconfirmed", "The plan has not been confirmed yet"),
        ("no-report", "there is no report to offer (A5)"),
    ],
)
def test_rule_a5_nothing_to_offer_is_said_plainly(
    acme: Customer, counsel_client: Client, case: str, message: str
) -> None:
    if case == "unconfirmed":
        report_ending(date(2025, 9, 30))
        request = make_audit_request(acme, received=None)
    else:
        report_ending(date(2025, 3, 14))  # ended a day too early
        request = make_audit_request(acme, received=date(2026, 3, 15))

    response = offer(counsel_client, request.pk)

    assert response.status_code == 302
    assert message in counsel_client.get(REQUESTS).content.decode()
    request.refresh_from_db()
    assert request.offered_at is None


def test_rule_a5_the_viewer_cannot_offer(
    offerable: tuple[AuditRequest, AuditReport, AuditReport],
    viewer: Any,
    signed_in: Callable[[Any], Client],
) -> None:
    request, type2, _ = offerable

    response = offer(
        signed_in(viewer), request.pk, confirm="Send", report=type2.pk, no_material_changes="on"
    )

    assert 'value="offer_report"' not in response.content.decode()
    request.refresh_from_db()
    assert request.offered_at is None


# --- The audit register export --------------------------------------------------------------------

REGISTER_COLUMNS = [
    "Customer",
    "Ground (A1)",
    "Received",
    "Proposed start",
    "Lead time met (A2)",
    "Earliest compliant start (A2)",
    "Entitled (A1)",
    "Report offered at (A5)",
    "Report offered (A5)",
    "Customer's answer",
    "Auditor objection (A3)",
    "Status",
    "Final plan agreed on (A4)",
]


@pytest.fixture
def register(acme: Customer, globex: Customer) -> dict[str, AuditRequest]:
    type2 = report_ending(date(2025, 9, 30))
    on_time = make_audit_request(acme, received=date(2026, 3, 15), start=date(2026, 5, 1))
    with time_machine.travel(TODAY, tick=False):
        services.report_offer(request=on_time, report=type2, no_material_changes=True)
    on_time.offer_answer = OfferAnswer.ACCEPTED_SOME
    on_time.offer_answered_on = date(2026, 3, 20)
    on_time.controls_accepted = "Access control"
    on_time.save()
    late = make_audit_request(
        globex,
        received=date(2026, 3, 10),
        start=date(2026, 4, 1),
        submitted_by_email="dpo@globex.co.uk",
        auditor_objection="competitor",
        auditor_objected_on=date(2026, 3, 12),
        replacement_auditor='=HYPERLINK("http://evil.example")',
    )
    return {"on_time": on_time, "late": late}


def export(client: Client, file_format: str, query: str = "") -> Any:
    return client.post(f"{REQUESTS}export/?{query}", {"format": file_format})


@time_machine.travel(TODAY, tick=False)
def test_the_register_as_csv(register: dict[str, AuditRequest], counsel_client: Client) -> None:
    response = export(counsel_client, "0")

    assert response.status_code == 200
    assert "audit-register-" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert list(rows[0]) == REGISTER_COLUMNS
    on_time, late = rows
    assert on_time == {
        "Customer": "Acme Analytics GmbH",
        "Ground (A1)": "Yearly audit",
        "Received": "2026-03-15",
        "Proposed start": "2026-05-01",
        "Lead time met (A2)": "yes",
        "Earliest compliant start (A2)": "2026-04-15",
        "Entitled (A1)": "yes",
        "Report offered at (A5)": "2026-03-20T22:00:00-04:00",
        "Report offered (A5)": str(register["on_time"].offered_report),
        "Customer's answer": "Accepted for some controls (2026-03-20): Access control",
        "Auditor objection (A3)": "",
        "Status": "Report offered in lieu",
        "Final plan agreed on (A4)": "",
    }
    assert late["Lead time met (A2)"] == "no"
    assert late["Earliest compliant start (A2)"] == "2026-04-10"
    assert late["Auditor objection (A3)"] == (
        'A competitor of Harmonyze; replaced by =HYPERLINK("http://evil.example")'
    )


@time_machine.travel(TODAY, tick=False)
def test_the_register_guards_against_formulas(acme: Customer, counsel_client: Client) -> None:
    evil = make_customer('=HYPERLINK("http://evil.example")')
    make_audit_request(evil, received=date(2026, 3, 15))

    rows = list(csv.DictReader(io.StringIO(body(export(counsel_client, "0")).decode())))

    assert rows[0]["Customer"] == '\'=HYPERLINK("http://evil.example")'


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    "query", ["lead_time_met__exact=0", "status__exact=report_offered", "q=globex"]
)
def test_the_register_as_xlsx_honours_the_changelist_filters(
    register: dict[str, AuditRequest], counsel_client: Client, query: str
) -> None:
    listed = counsel_client.get(f"{REQUESTS}?{query}").context["cl"].result_list

    response = export(counsel_client, "1", query)

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header == REGISTER_COLUMNS
    assert [row[0] for row in rows] == [r.customer.legal_name for r in listed]
    assert len(rows) == 1
    assert isinstance(rows[0][2], datetime)  # dates stay dates in Excel


@time_machine.travel(TODAY, tick=False)
def test_rule_a4_moving_the_start_in_the_admin_moves_the_stored_final_plan_due_date(
    acme: Customer, counsel_client: Client
) -> None:
    """A4: the due date the dashboard lists follows the start; the form cannot set it."""
    request = make_audit_request(
        acme, received=date(2026, 3, 2), start=date(2026, 5, 1), status=AuditStatus.NEGOTIATION
    )

    response = post_change(
        counsel_client, request, proposed_start="2026-06-01", final_plan_due="2026-12-31"
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    request.refresh_from_db()
    assert request.final_plan_due == date(2026, 5, 18)
