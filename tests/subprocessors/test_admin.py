"""The sub-processors admin: who may open what, the S3 clock at its edges, publishing the
Notice, ending an objection in termination (S5) and the proof of notice."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from io import BytesIO, StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.test import Client
from pypdf import PdfReader

from customers.models import Customer
from subprocessors.models import (
    Change,
    ChangeKind,
    Delivery,
    DeliveryStatus,
    Objection,
    ObjectionStatus,
    Signup,
    SignupStatus,
    SubProcessor,
    SubProcessorStatus,
)
from subprocessors.services import change_publish
from tests.customers.builders import make_hold
from tests.subprocessors.builders import (
    NO_LOCATIONS,
    make_change,
    make_delivery,
    make_signup,
    make_subprocessor,
)

pytestmark = pytest.mark.django_db

# 10:00 in New York on 2026-03-02: the Notice date D.
PUBLISHED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
D = date(2026, 3, 2)


# --- Who may open what.

PAGES = ("changelist", "add", "change", "delete")
STANDARD = {
    "counsel": {"changelist": 200, "add": 200, "change": 200, "delete": 200},
    "analyst": {"changelist": 200, "add": 200, "change": 200, "delete": 403},
    "viewer": {"changelist": 200, "add": 403, "change": 200, "delete": 403},
    "outsider": {"changelist": 403, "add": 403, "change": 403, "delete": 403},
}
# Signups confirm by email: nobody adds them by hand. Objections by email or letter are entered
# by staff (S4). Deliveries are the proof of notice: only the task writes them.
NO_ADD = {person: {**codes, "add": 403} for person, codes in STANDARD.items()}
PROOF_ONLY = {person: {**codes, "add": 403, "delete": 403} for person, codes in STANDARD.items()}
EXPECTED = {
    "subprocessor": STANDARD,
    "change": STANDARD,
    "signup": NO_ADD,
    "objection": STANDARD,
    "delivery": PROOF_ONLY,
}


def one_of_each(acme: Customer) -> dict[str, int]:
    subprocessor = make_subprocessor()
    change = make_change(make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED))
    published = make_change(subprocessor, published_at=PUBLISHED, notice_date=D)
    signup = make_signup("dpo@acme.com", status=SignupStatus.ACTIVE)
    delivery = make_delivery(published, signup)
    objection = Objection(
        change=published,
        signup=signup,
        customer=acme,
        received_at=PUBLISHED,
        deadline=date(2026, 3, 9),
        in_time=True,
        reason="We do not want our data in the US.",
    )
    objection.save()
    return {
        "subprocessor": subprocessor.pk,
        "change": change.pk,
        "signup": signup.pk,
        "delivery": delivery.pk,
        "objection": objection.pk,
    }


def page_url(model: str, page: str, pk: int) -> str:
    base = f"/admin/subprocessors/{model}/"
    return {
        "changelist": base,
        "add": f"{base}add/",
        "change": f"{base}{pk}/change/",
        "delete": f"{base}{pk}/delete/",
    }[page]


@pytest.mark.parametrize("model", list(EXPECTED))
@pytest.mark.parametrize("person", list(STANDARD))
def test_subprocessors_admin_page_by_role(
    everyone: dict[str, Any],
    signed_in: Callable[[Any], Client],
    acme: Customer,
    person: str,
    model: str,
) -> None:
    pk = one_of_each(acme)[model]
    client = signed_in(everyone[person])

    codes = {page: client.get(page_url(model, page, pk)).status_code for page in PAGES}

    assert codes == EXPECTED[model][person], (person, model)


def test_a_published_change_can_no_longer_be_edited_or_deleted(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    change = make_change(make_subprocessor(), published_at=PUBLISHED, notice_date=D)
    client = signed_in(counsel)

    page = client.get(page_url("change", "change", change.pk))

    assert set(page.context["adminform"].form.fields) == {"change_reason"}
    assert client.get(page_url("change", "delete", change.pk)).status_code == 403


# --- S3 at its edges: Notice date D, access on D+14 refused, D+15 allowed.


def announced_with_notice_on_d() -> SubProcessor:
    subprocessor = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    change = make_change(subprocessor)
    with time_machine.travel(PUBLISHED, tick=False):
        change_publish(change=change)  # nobody signed up: the Notice date is today
    change.refresh_from_db()
    assert (change.notice_date, change.earliest_access_on) == (D, date(2026, 3, 17))
    subprocessor.refresh_from_db()
    return subprocessor


def subprocessor_form(subprocessor: SubProcessor, access_on: str) -> dict[str, str]:
    return {
        "name": subprocessor.name,
        "purpose": subprocessor.purpose,
        "locations": subprocessor.locations,
        "data_categories": subprocessor.data_categories,
        "website": "",
        "status": "active",
        "access_began_on": access_on,
        "retired_on": "",
        "change_reason": "Access began",
        **NO_LOCATIONS,
    }


def test_rule_s3_access_on_day_14_is_refused_in_the_admin(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    subprocessor = announced_with_notice_on_d()
    url = page_url("subprocessor", "change", subprocessor.pk)

    response = signed_in(counsel).post(url, subprocessor_form(subprocessor, "2026-03-16"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["access_began_on"]
    assert "Access cannot begin before 2026-03-17" in errors["access_began_on"][0]
    subprocessor.refresh_from_db()
    assert (subprocessor.status, subprocessor.access_began_on) == ("announced", None)


def test_rule_s3_access_on_day_15_is_allowed_in_the_admin(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    subprocessor = announced_with_notice_on_d()
    url = page_url("subprocessor", "change", subprocessor.pk)

    response = signed_in(counsel).post(url, subprocessor_form(subprocessor, "2026-03-17"))

    assert response.status_code == 302
    subprocessor.refresh_from_db()
    assert (subprocessor.status, subprocessor.access_began_on) == ("active", date(2026, 3, 17))


def test_rule_s3_save_and_the_database_refuse_access_on_day_14() -> None:
    subprocessor = announced_with_notice_on_d()
    subprocessor.status = SubProcessorStatus.ACTIVE
    subprocessor.access_began_on = date(2026, 3, 16)

    with pytest.raises(ValidationError, match="Access cannot begin before 2026-03-17"):
        subprocessor.save()
    # Past save() (a raw write), the database's constraint refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Model.save(subprocessor)

    subprocessor.access_began_on = date(2026, 3, 17)
    subprocessor.save()


def test_rule_s3_activating_before_the_change_is_published_is_refused(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    subprocessor = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    make_change(subprocessor)
    url = page_url("subprocessor", "change", subprocessor.pk)

    response = signed_in(counsel).post(url, subprocessor_form(subprocessor, "2030-01-01"))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["access_began_on"]


# --- Publishing (S3, S6).


def publish(client: Client, change_pk: int, *, confirm: bool = True) -> Any:
    data: dict[str, Any] = {"action": "publish", "_selected_action": [change_pk]}
    if confirm:
        data["confirm"] = "Publish"
    return client.post("/admin/subprocessors/change/", data)


@pytest.mark.parametrize(
    ("kind", "with_subprocessor", "message"),
    [
        (ChangeKind.ADDITION, False, "Choose the sub-processor this change announces."),
        (ChangeKind.REPLACEMENT, True, "A replacement must name the sub-processor it replaces."),
    ],
    ids=["no-subprocessor", "replacement-without-replaces"],
)
def test_rule_s3_publishing_an_incomplete_change_is_refused(
    counsel: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
    kind: str,
    with_subprocessor: bool,
    message: str,
) -> None:
    make_signup("dpo@acme.com", status=SignupStatus.ACTIVE)
    subprocessor = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    change = Change(kind=kind, subprocessor=subprocessor if with_subprocessor else None)
    change.summary = "Incomplete"
    change.save()
    client = signed_in(counsel)

    with django_capture_on_commit_callbacks(execute=True):
        response = publish(client, change.pk)

    assert response.status_code == 302
    assert message in client.get(response["Location"]).content.decode()
    change.refresh_from_db()
    assert (change.status, change.published_at) == ("draft", None)
    assert not Delivery.objects.exists()
    assert mail.outbox == []


@time_machine.travel(PUBLISHED, tick=False)
def test_rule_s3_s6_publishing_sends_the_notice_to_every_active_signup(
    acme: Customer,
    counsel: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    bob = make_signup("bob@example.org", status=SignupStatus.ACTIVE)
    make_signup("pending@example.org")
    subprocessor = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    change = make_change(subprocessor, summary="Mailgun will send our product emails.")
    client = signed_in(counsel)

    confirm_page = publish(client, change.pk, confirm=False)
    assert confirm_page.status_code == 200
    assert "2 active signups" in confirm_page.content.decode()
    assert not Delivery.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = publish(client, change.pk)

    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "published"
    assert (change.notice_date, change.earliest_access_on) == (D, date(2026, 3, 17))
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@acme.com", "bob@example.org"]
    assert change.notice_sha256 == hashlib.sha256(change.notice_body.encode()).hexdigest()
    for message in mail.outbox:
        assert message.body.startswith(change.notice_body)
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    deliveries = Delivery.objects.filter(change=change)
    assert {d.signup for d in deliveries} == {alice, bob}
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert {d.objection_deadline for d in deliveries} == {date(2026, 3, 9)}
    subprocessor.refresh_from_db()
    assert subprocessor.earliest_access_on == date(2026, 3, 17)
    page = client.get(response["Location"]).content.decode()
    assert "the Notice is queued for 2 active signups" in page


def test_the_viewer_cannot_publish(
    viewer: Any, signed_in: Callable[[Any], Client], django_capture_on_commit_callbacks: Any
) -> None:
    change = make_change(make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED))

    with django_capture_on_commit_callbacks(execute=True):
        response = publish(signed_in(viewer), change.pk)

    assert response.status_code == 200
    assert 'value="publish"' not in response.content.decode()
    change.refresh_from_db()
    assert change.status == "draft"


# --- Objections (S5).


def make_objection(change: Change, signup: Signup, customer: Customer | None) -> Objection:
    objection = Objection(
        change=change,
        signup=signup,
        customer=customer,
        received_at=PUBLISHED,
        deadline=date(2026, 3, 9),
        in_time=True,
        reason="We do not want our data in the US.",
    )
    objection.save()
    return objection


def objection_action(client: Client, action: str, pk: int, **confirm: str) -> Any:
    data: dict[str, Any] = {"action": action, "_selected_action": [pk]}
    data.update(confirm)
    return client.post("/admin/subprocessors/objection/", data)


def test_rule_s5_an_objection_ending_in_termination_terminates_the_customer(
    acme: Customer, counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    change = make_change(make_subprocessor(), published_at=PUBLISHED, notice_date=D)
    objection = make_objection(change, make_signup("dpo@acme.com"), acme)
    client = signed_in(counsel)

    form = objection_action(client, "end_in_termination", objection.pk)
    assert form.status_code == 200
    assert "terminated_by" in form.context["form"].fields

    done = objection_action(
        client,
        "end_in_termination",
        objection.pk,
        confirm="yes",
        terminated_by="customer",
        on="2026-01-31",
        note="Acme terminated by letter of 2026-01-31.",
    )

    assert done.status_code == 302
    acme.refresh_from_db()
    assert (acme.termination_date, acme.terminated_by, acme.termination_route) == (
        date(2026, 1, 31),
        "customer",
        "objection",
    )
    assert (acme.deletion_due, acme.credential_purge_due) == (date(2026, 5, 1), date(2026, 3, 2))
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.TERMINATED
    assert objection.resolution_note == "Acme terminated by letter of 2026-01-31."
    assert objection.history.first().history_user == counsel


def test_rule_c9_s5_an_objection_ending_in_termination_shows_a_hold_and_asks_to_confirm(
    acme: Customer, counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme")
    change = make_change(make_subprocessor(), published_at=PUBLISHED, notice_date=D)
    objection = make_objection(change, make_signup("dpo@acme.com"), acme)
    client = signed_in(counsel)
    fields = {
        "confirm": "yes",
        "terminated_by": "customer",
        "on": "2026-01-31",
        "note": "Acme terminated by letter of 2026-01-31.",
    }

    page = objection_action(client, "end_in_termination", objection.pk)
    assert "Litigation hold, Smith v. Acme" in page.content.decode()  # before confirming
    refused = objection_action(client, "end_in_termination", objection.pk, **fields)

    assert refused.status_code == 200
    assert "Smith v. Acme" in refused.context["form"].errors["confirm_conflicts"][0]
    assert Customer.objects.get(pk=acme.pk).termination_date is None
    assert Objection.objects.get(pk=objection.pk).status == ObjectionStatus.OPEN

    done = objection_action(
        client, "end_in_termination", objection.pk, confirm_conflicts="on", **fields
    )

    assert done.status_code == 302
    acme = Customer.objects.get(pk=acme.pk)
    assert acme.termination_route == "objection"
    assert "confirmed despite: a legal hold" in acme.history.first().history_change_reason
    assert Objection.objects.get(pk=objection.pk).status == ObjectionStatus.TERMINATED


def test_rule_s5_termination_needs_a_customer(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    change = make_change(make_subprocessor(), published_at=PUBLISHED, notice_date=D)
    objection = make_objection(change, make_signup("someone@example.org"), None)
    client = signed_in(counsel)

    done = objection_action(
        client,
        "end_in_termination",
        objection.pk,
        confirm="yes",
        terminated_by="customer",
        on="2026-01-31",
        note="Letter",
    )

    assert "Link the objection to a customer" in client.get(done["Location"]).content.decode()
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.OPEN


@pytest.mark.parametrize(
    ("action", "status"),
    [("mark_resolved", ObjectionStatus.RESOLVED), ("mark_withdrawn", ObjectionStatus.WITHDRAWN)],
)
def test_rule_s5_an_objection_is_resolved_or_withdrawn_with_a_note(
    acme: Customer, analyst: Any, signed_in: Callable[[Any], Client], action: str, status: str
) -> None:
    change = make_change(make_subprocessor(), published_at=PUBLISHED, notice_date=D)
    objection = make_objection(change, make_signup("dpo@acme.com"), acme)
    client = signed_in(analyst)

    assert objection_action(client, action, objection.pk).status_code == 200
    done = objection_action(client, action, objection.pk, confirm="yes", note="Call on 3 March")

    assert done.status_code == 302
    objection.refresh_from_db()
    assert (objection.status, objection.resolution_note) == (status, "Call on 3 March")
    acme.refresh_from_db()
    assert acme.termination_date is None


# --- Inviting customers' notice contacts (S2).


def test_rule_s2_customers_notice_contacts_are_invited_and_still_confirm(
    acme: Customer,
    globex: Customer,
    analyst: Any,
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_signup("dpo@globex.co.uk", status=SignupStatus.ACTIVE)
    client = signed_in(analyst)
    assert "invite-customer-contacts" in client.get("/admin/subprocessors/signup/").content.decode()

    page = client.get("/admin/subprocessors/signup/invite-customer-contacts/")
    assert "privacy@acme.com" in page.content.decode()
    assert "dpo@globex.co.uk" not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/admin/subprocessors/signup/invite-customer-contacts/")

    assert done.status_code == 302
    signup = Signup.objects.get(email="privacy@acme.com")
    assert (signup.status, signup.customer) == (SignupStatus.PENDING, acme)
    assert [m.to for m in mail.outbox] == [["privacy@acme.com"]]
    assert "Confirm" in mail.outbox[0].subject


def test_the_viewer_cannot_invite(viewer: Any, signed_in: Callable[[Any], Client]) -> None:
    client = signed_in(viewer)

    assert client.post("/admin/subprocessors/signup/invite-customer-contacts/").status_code == 403
    assert not Signup.objects.exists()


# --- Proof of notice (S6).


@pytest.fixture
def notified_change(acme: Customer, globex: Customer) -> Change:
    change = make_change(
        make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED),
        published_at=PUBLISHED,
        notice_date=D,
    )
    change.notice_body = "Harmonyze intends to add Mailgun."
    change.notice_sha256 = hashlib.sha256(change.notice_body.encode()).hexdigest()
    change.save()
    alice = make_signup("alice@acme.com", status=SignupStatus.ACTIVE)
    make_delivery(change, alice)
    failed = Delivery(
        change=change,
        signup=make_signup("=cmd@globex.co.uk", status=SignupStatus.ACTIVE),
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="SMTPRecipientsRefused: 550 no such user",
    )
    failed.save()
    late = make_objection(change, alice, acme)
    late.in_time = False
    late.save()
    return change


def test_rule_s6_the_proof_of_notice_csv_lists_recipients_objections_and_the_hash(
    notified_change: Change, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(viewer).get(f"/admin/subprocessors/change/{notified_change.pk}/proof.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(StringIO(response.content.decode())))
    assert ["Notice date (S3)", "2026-03-02"] in rows
    assert ["Earliest access date (S3)", "2026-03-17"] in rows
    assert ["SHA-256 of the notice body as sent", notified_change.notice_sha256] in rows
    recipients = {row[0]: row for row in rows if row and "@" in row[0]}
    assert recipients["alice@acme.com"][1:6] == [
        "Acme Analytics GmbH",
        "Sent",
        "2026-03-02T10:00:00-05:00",
        "1",
        "",
    ]
    # A spreadsheet would run the address as a formula: it stays text.
    assert recipients["'=cmd@globex.co.uk"][2:5] == ["Failed", "", "5"]
    objection = next(row for row in rows if "out of time" in row)
    assert objection[1:3] == ["Acme Analytics GmbH", "alice@acme.com"]


def test_rule_s6_the_proof_of_notice_pdf_reads_back(
    notified_change: Change, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(viewer).get(f"/admin/subprocessors/change/{notified_change.pk}/proof.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages).replace("\n", " ")
    for expected in ("alice@acme.com", "Sent", "Failed", "2026-03-17", "out of time"):
        assert expected in text
    assert notified_change.notice_sha256 in text.replace(" ", "")


def test_the_outsider_cannot_download_the_proof(
    notified_change: Change, outsider: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(outsider)

    assert (
        client.get(f"/admin/subprocessors/change/{notified_change.pk}/proof.csv").status_code == 403
    )


def test_the_change_list_counts_each_changes_deliveries_by_status(
    counsel_client: Client,
) -> None:
    """S6 on the list: the counts come with the page's rows (issue 16, P5), per change."""
    postmark, mailgun = make_subprocessor("Postmark"), make_subprocessor("Mailgun")
    first = make_change(postmark, summary="First", published_at=datetime(2026, 3, 1, tzinfo=UTC))
    second = make_change(mailgun, summary="Second", published_at=datetime(2026, 3, 2, tzinfo=UTC))
    for n in range(2):
        make_delivery(first, make_signup(f"dpo{n}@acme.com", status=SignupStatus.ACTIVE))
    held = make_delivery(second, Signup.objects.get(email="dpo0@acme.com"))
    held.status, held.sent_at, held.attempts = DeliveryStatus.FAILED, None, 5
    held.objection_deadline = None
    held.save()
    page = counsel_client.get("/admin/subprocessors/change/").content.decode()
    assert "2 sent" in page
    assert "1 failed" in page
    assert "3 sent" not in page
