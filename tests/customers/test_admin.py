"""The customers admin: who may open what, the deletion filter (C3, T5), the breach-notice and
certificate actions (C5, C3), signed-DPA uploads and the staff-only file view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.fields.files import FieldFile
from django.test import Client
from pypdf import PdfReader

from customers.models import DPA, BreachNotice, Customer, DeletionCertificate
from harmonyze_portal.templatetags.portal_rules import rule_filter
from tests.conftest import PASSWORD
from tests.customers.builders import (
    make_assistance,
    make_breach,
    make_certificate,
    make_customer,
    make_dpa,
    make_finding,
    make_hold,
    make_instruction,
    make_instruction_notice,
    make_message,
    make_step,
)

# A rule ID shown in a list explains itself (T5).
R = {rule: rule_filter(rule) for rule in ("C3", "C4")}

pytestmark = pytest.mark.django_db

# 22:00 in New York on 2026-05-15 is already 2026-05-16 in UTC: the legal date is the 15th (T1).
TODAY = datetime(2026, 5, 16, 2, 0, tzinfo=UTC)
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- Who may open what.

PAGES = ("changelist", "add", "change", "delete")
EXPECTED = {
    "counsel": {"changelist": 200, "add": 200, "change": 200, "delete": 200},
    "analyst": {"changelist": 200, "add": 200, "change": 200, "delete": 403},
    "viewer": {"changelist": 200, "add": 403, "change": 200, "delete": 403},
    "outsider": {"changelist": 403, "add": 403, "change": 403, "delete": 403},
}
MODELS = (
    "customer",
    "dpa",
    "breach",
    "breachnotice",
    "breachmessage",
    "breachremediation",
    "assistancerequest",
    "prohibiteddatafinding",
    "deletioncertificate",
    "legalhold",
    "instruction",
    "instructionnotice",
)


def one_of_each(acme: Customer) -> dict[str, int]:
    breach = make_breach(customers=(acme,))
    return {
        "customer": acme.pk,
        "dpa": make_dpa(acme).pk,
        "breach": breach.pk,
        "breachnotice": BreachNotice.objects.get(breach=breach).pk,
        # Not sent yet: a sent notice is the proof of notice and nobody deletes it.
        "breachmessage": make_message(BreachNotice.objects.get(breach=breach)).pk,
        "breachremediation": make_step(
            breach, taken_at=breach.aware_at, action="Closed the bucket."
        ).pk,
        "assistancerequest": make_assistance(acme).pk,
        "prohibiteddatafinding": make_finding(acme).pk,
        "deletioncertificate": make_certificate(acme).pk,
        "legalhold": make_hold(acme).pk,
        "instruction": make_instruction(acme).pk,
        "instructionnotice": make_instruction_notice(acme).pk,
    }


def page_url(model: str, page: str, pk: int) -> str:
    base = f"/admin/customers/{model}/"
    return {
        "changelist": base,
        "add": f"{base}add/",
        "change": f"{base}{pk}/change/",
        "delete": f"{base}{pk}/delete/",
    }[page]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("person", list(EXPECTED))
def test_customers_admin_page_by_role(
    everyone: dict[str, Any],
    signed_in: Callable[[Any], Client],
    acme: Customer,
    person: str,
    model: str,
) -> None:
    pk = one_of_each(acme)[model]
    client = signed_in(everyone[person])

    codes = {page: client.get(page_url(model, page, pk)).status_code for page in PAGES}

    assert codes == EXPECTED[person], (person, model)


def test_the_changelists_need_the_second_factor(counsel: Any, acme: Customer) -> None:
    client = Client()
    client.post("/admin/login/", {"username": "counsel", "password": PASSWORD})

    response = client.get("/admin/customers/customer/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- The deletion filter and the rule IDs next to computed dates (C3, C4, T5).


def make_terminated(name: str, termination: date, **fields: Any) -> Customer:
    return make_customer(name, effective=date(2020, 1, 1), termination_date=termination, **fields)


@pytest.fixture
def deletion_book(db: None) -> dict[str, Customer]:
    return {
        "overdue": make_terminated("Overdue Ltd", date(2026, 1, 31)),  # due 2026-05-01
        "today": make_terminated("Due Today Ltd", date(2026, 2, 14)),  # due 2026-05-15
        "month_end": make_terminated("Due May 31 Ltd", date(2026, 3, 2)),  # due 2026-05-31
        "next_month": make_terminated("Due June 1 Ltd", date(2026, 3, 3)),  # due 2026-06-01
        "done": make_terminated(
            "Deleted Ltd", date(2026, 1, 5), deletion_completed_on=date(2026, 4, 1)
        ),
        "active": make_customer("Still Active Ltd"),
    }


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("overdue", {"Overdue Ltd"}),
        ("this_month", {"Overdue Ltd", "Due Today Ltd", "Due May 31 Ltd"}),
        ("done", {"Deleted Ltd"}),
    ],
)
def test_rule_c3_the_deletion_filter_lists_the_right_customers(
    deletion_book: dict[str, Customer],
    counsel: Any,
    signed_in: Callable[[Any], Client],
    value: str,
    expected: set[str],
) -> None:
    response = signed_in(counsel).get(f"/admin/customers/customer/?deletion={value}")

    assert response.status_code == 200
    assert {c.legal_name for c in response.context["cl"].result_list} == expected


@time_machine.travel(TODAY, tick=False)
def test_rule_t5_the_changelist_shows_each_computed_date_with_its_rule(
    deletion_book: dict[str, Customer], viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    page = signed_in(viewer).get("/admin/customers/customer/").content.decode()

    assert f"2026-05-01 <small>({R['C3']}) overdue by 14 days</small>" in page
    assert f"2026-05-15 <small>({R['C3']}) in 0 days</small>" in page
    assert f"2026-06-01 <small>({R['C3']}) in 17 days</small>" in page
    assert f"2026-04-05 <small>({R['C3']}) done 2026-04-01</small>" in page
    assert f"2026-03-02 <small>({R['C4']}) overdue by 74 days</small>" in page


# --- The breach "send notices" action (C5).


def send_notices(client: Client, breach_pk: int, **confirm: str) -> Any:
    data: dict[str, Any] = {"action": "send_notices", "_selected_action": [breach_pk]}
    data.update(confirm)
    return client.post("/admin/customers/breach/", data)


@time_machine.travel(datetime(2026, 2, 1, 9, 30, tzinfo=UTC), tick=False)
def test_rule_c5_send_notices_shows_the_draft_then_sends_on_confirmation(
    acme: Customer,
    globex: Customer,
    analyst: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    initech = make_customer("Initech AG", domains=("initech.ch",))
    breach = make_breach(
        aware_at=datetime(2026, 1, 31, 15, 0, tzinfo=UTC), customers=(acme, globex, initech)
    )
    client = signed_in(analyst)

    draft = send_notices(client, breach.pk)

    assert draft.status_code == 200
    page = draft.content.decode()
    assert "Notice of a Personal Data Breach: Misconfigured export bucket" in page
    assert "privacy@acme.com" in page
    assert "none: will not be sent" in page
    assert mail.outbox == []
    assert BreachNotice.objects.pending().count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        done = send_notices(
            client,
            breach.pk,
            confirm="Send",
            subject="Notice of a Personal Data Breach",
            body="Under section 7 of our DPA, Harmonyze notifies you.",
        )

    assert done.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["dpo@globex.co.uk", "privacy@acme.com"]
    assert {m.subject for m in mail.outbox} == {"Notice of a Personal Data Breach"}
    sent = BreachNotice.objects.filter(breach=breach, notified_at__isnull=False)
    assert {n.customer for n in sent} == {acme, globex}
    assert all(n.message_id and n.notified_to for n in sent)
    assert list(BreachNotice.objects.pending()) == [
        BreachNotice.objects.get(breach=breach, customer=initech)
    ]
    # H1: the task queued from the admin records its work as the analyst's.
    for notice in sent:
        record = notice.history.first()
        assert (record.history_user, record.history_actor) == (
            analyst,
            "task: send breach notices for staff: analyst",
        )
    messages = client.get("/admin/customers/breach/").content.decode()
    assert "Queued 2 notices for sending." in messages
    assert "No notice contact, nothing sent: Initech AG" in messages
    assert 'value="send_notices"' in messages


def test_rule_c5_the_viewer_cannot_send_notices(
    acme: Customer,
    viewer: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    breach = make_breach(customers=(acme,))

    with django_capture_on_commit_callbacks(execute=True):
        response = send_notices(
            signed_in(viewer), breach.pk, confirm="Send", subject="Notice", body="Body"
        )

    # The action is not offered to a viewer, so the post only shows the list again.
    assert response.status_code == 200
    assert 'value="send_notices"' not in response.content.decode()
    assert mail.outbox == []
    assert BreachNotice.objects.get(breach=breach).notified_at is None


# --- The certificate "issue" action (C3).


def issue_certificate(client: Client, pk: int, **confirm: str) -> Any:
    data: dict[str, Any] = {"action": "issue_certificate", "_selected_action": [pk]}
    data.update(confirm)
    return client.post("/admin/customers/deletioncertificate/", data)


@time_machine.travel(TODAY, tick=False)
def test_rule_c3_the_issue_action_produces_the_certificate(
    media: Path, counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    customer = make_terminated(
        "Overdue Ltd", date(2026, 1, 31), deletion_completed_on=date(2026, 4, 30)
    )
    make_dpa(customer, version="2025-09", effective=date(2025, 9, 1))
    certificate = make_certificate(customer, requested=date(2026, 5, 4))
    client = signed_in(counsel)

    form = issue_certificate(client, certificate.pk)
    assert form.status_code == 200
    assert form.context["form"].initial["issued_on"] == date(2026, 5, 15)

    done = issue_certificate(
        client,
        certificate.pk,
        confirm="Issue",
        signatory_name="Casey Counsel",
        signatory_title="General Counsel",
        issued_on="2026-05-15",
    )

    assert done.status_code == 302
    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert certificate.issued_on == date(2026, 5, 15)
    with certificate.pdf.open("rb") as handle:
        text = " ".join(p.extract_text() for p in PdfReader(BytesIO(handle.read())).pages)
    assert "Overdue Ltd" in text
    assert "Casey Counsel" in text
    assert certificate.history.first().history_user == counsel


def test_rule_c3_the_issue_action_reports_a_missing_deletion(
    media: Path, counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    customer = make_terminated("Overdue Ltd", date(2026, 1, 31))
    certificate = make_certificate(customer)
    client = signed_in(counsel)

    response = issue_certificate(
        client,
        certificate.pk,
        confirm="Issue",
        signatory_name="Casey Counsel",
        issued_on="2026-05-15",
    )

    assert response.status_code == 302
    assert (
        "Record the deletion for Overdue Ltd" in client.get(response["Location"]).content.decode()
    )
    assert not DeletionCertificate.objects.get(pk=certificate.pk).pdf
    assert [p for p in media.rglob("*") if p.is_file()] == []


# --- Signed DPA uploads.


def dpa_form(customer: Customer, upload: SimpleUploadedFile | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer": customer.pk,
        "version": "2024-03",
        "status": "in_force",
        "signed_on": "2024-01-01",
        "effective_on": "2024-01-01",
        "eu_sccs_module_two": "on",
        "governing_law": "Ireland",
        "courts": "Ireland",
        "supervisory_authority": "Data Protection Commission",
        "supervisory_authority_country": "Ireland",
        "deviations": "",
        "change_reason": "Signed copy received",
    }
    if upload is not None:
        data["signed_file"] = upload
    return data


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("signed.pdf", b"PK\x03\x04 not a pdf at all"),
            "This file is named .pdf but is not a PDF document.",
        ),
        (
            SimpleUploadedFile("signed.docx", b"PK\x03\x04 word document"),
            "Upload a PDF file (name ending in .pdf).",
        ),
        (
            SimpleUploadedFile("signed.pdf", b"%PDF-1.4\n" + b"0" * int(1.1 * 1024 * 1024)),
            "The file is 1.1 MB; the limit is 1 MB.",
        ),
        (
            SimpleUploadedFile("signed.pdf", b"%PDF-1.7\n<</OpenAction<</S/JavaScript/JS(x)>>>>"),
            "This PDF contains JavaScript, which could run when it is opened, so it cannot be "
            "accepted. Save or print it to a plain PDF (without scripts, actions or attachments) "
            "and upload that.",
        ),
    ],
    ids=["wrong-bytes", "docx", "too-large", "javascript"],
)
def test_a_signed_dpa_that_is_not_an_acceptable_pdf_is_refused(
    media: Path,
    settings,
    acme: Customer,
    counsel: Any,
    signed_in: Callable[[Any], Client],
    upload: SimpleUploadedFile,
    message: str,
) -> None:
    settings.MAX_UPLOAD_MB = 1

    response = signed_in(counsel).post("/admin/customers/dpa/add/", dpa_form(acme, upload))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["signed_file"]
    assert errors["signed_file"] == [message]
    assert "Signed DPA (PDF)" in response.content.decode()
    assert not DPA.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_a_signed_dpa_pdf_is_stored_and_served_to_signed_in_staff_only(
    media: Path,
    acme: Customer,
    counsel: Any,
    viewer: Any,
    signed_in: Callable[[Any], Client],
) -> None:
    upload = SimpleUploadedFile("Acme signed DPA.pdf", MINIMAL_PDF)

    response = signed_in(counsel).post("/admin/customers/dpa/add/", dpa_form(acme, upload))

    assert response.status_code == 302
    dpa = DPA.objects.get()
    assert dpa.signed_file.name.startswith("customers/dpas/")
    assert dpa.signed_file.name.endswith(".pdf")
    assert "Acme" not in dpa.signed_file.name
    assert (media / dpa.signed_file.name).read_bytes() == MINIMAL_PDF

    served = signed_in(viewer).get(f"/staff/files/{dpa.signed_file.name}")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == MINIMAL_PDF
    assert "no-cache" in served["Cache-Control"]


def test_staff_files_send_anonymous_visitors_to_sign_in(media: Path) -> None:
    (media / "customers" / "dpas").mkdir(parents=True)
    (media / "customers" / "dpas" / "abc.pdf").write_bytes(MINIMAL_PDF)

    response = Client().get("/staff/files/customers/dpas/abc.pdf")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "next=/staff/files/customers/dpas/abc.pdf" in response["Location"]


def test_staff_files_need_the_second_factor(media: Path, counsel: Any) -> None:
    (media / "abc.pdf").write_bytes(MINIMAL_PDF)
    client = Client()
    client.post("/admin/login/", {"username": "counsel", "password": PASSWORD})

    response = client.get("/staff/files/abc.pdf")

    assert response.status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "../secret.pdf",
        "customers/../../secret.pdf",
        "customers/dpas/..%2F..%2Fsecret.pdf",
        "customers/dpas/missing.pdf",
    ],
)
def test_staff_files_refuse_traversal_and_missing_files(
    media: Path, counsel: Any, signed_in: Callable[[Any], Client], path: str
) -> None:
    (media.parent / "secret.pdf").write_bytes(MINIMAL_PDF)
    (media / "customers" / "dpas").mkdir(parents=True)

    response = signed_in(counsel).get(f"/staff/files/{path}")

    assert response.status_code == 404


# --- Terminating through the customer's change form (C3, C4).


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


def test_rule_c3_c4_terminating_in_the_change_form_starts_the_clocks(
    acme: Customer, analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_dpa(acme)
    client = signed_in(analyst)
    url = f"/admin/customers/customer/{acme.pk}/change/"
    data = change_form_data(client.get(url))
    data |= {
        "termination_date": "2026-01-31",
        "terminated_by": "customer",
        "termination_reason": "Did not renew",
        "change_reason": "Termination letter of 2026-01-31",
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    acme.refresh_from_db()
    assert (acme.status, acme.deletion_due, acme.credential_purge_due) == (
        "terminated",
        date(2026, 5, 1),
        date(2026, 3, 2),
    )
    assert acme.termination_route == "ordinary"
    record = acme.history.first()
    assert record.history_change_reason == "Termination letter of 2026-01-31"
    assert record.history_user == analyst


def test_terminating_before_the_effective_date_in_the_change_form_names_the_field(
    acme: Customer, counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(counsel)
    url = f"/admin/customers/customer/{acme.pk}/change/"
    data = change_form_data(client.get(url))
    data |= {"termination_date": "2023-12-31", "terminated_by": "customer"}

    response = client.post(url, data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["termination_date"]
    assert Customer.objects.get(pk=acme.pk).termination_date is None
