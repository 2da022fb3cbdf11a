"""A request is never closed around R1 or R2, whatever the path: the SCC customer notice is
mandatory, with its own deadline on the dashboard (R1, SCC Clause 10(a)); a request Harmonyze
answers is closed as fulfilled only after the identity check, and an agent's only with the
proof of authority on file (R2). Paths: model save (the shell), admin add, admin edit, the
redirect action, the redirect service; as counsel and as analyst."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client

from customers.models import Customer
from customers.models.dpas import DPAStatus
from harmonyze_portal.desk import deadline_items
from requests import services
from requests.models import DataSubjectRequest, DSRStatus, Outcome, Right, Role
from tests.customers.builders import make_customer, make_dpa
from tests.requests.builders import make_dsr, regime

pytestmark = pytest.mark.django_db

# Noon in New York on Monday 2026-04-06: the legal date (T1).
TODAY = datetime(2026, 4, 6, 16, 0, tzinfo=UTC)
DSRS = "/admin/requests/datasubjectrequest/"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def acme(acme: Customer) -> Customer:
    """A customer whose DPA in force includes the EU SCCs (Module Two)."""
    make_dpa(acme, eu_sccs_module_two=True)
    return acme


@pytest.fixture
def staff(counsel: Any, analyst: Any) -> dict[str, Any]:
    return {"counsel": counsel, "analyst": analyst}


def dsr_form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "letter",
        "status": DSRStatus.OPEN,
        "requester_name": "Jane Subject",
        "requester_email": "jane@example.org",
        "right": Right.ACCESS,
        "regime": regime("gdpr").pk,
        "role": Role.CONTROLLER,
        "received_on": "2026-03-02",
        "change_reason": "Letter received",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return dict(response.context["adminform"].form.errors)


# --- R1: the SCC customer notice ---------------------------------------------------------------


def test_rule_r1_an_scc_customer_request_stores_the_notice_due(acme: Customer, settings) -> None:
    dsr = make_dsr(email="jane@acme.com", customer=acme, received=date(2026, 3, 2))
    assert dsr.customer_notice_due == date(2026, 3, 5)  # 3 days, never moved (house target)

    settings.DSR_CUSTOMER_NOTICE_DAYS = 5
    dsr.save()
    assert dsr.customer_notice_due == date(2026, 3, 7)  # a Saturday, kept


def test_rule_r1_no_notice_is_owed_without_scc_customer(acme: Customer) -> None:
    globex = make_customer("Globex Corporation Ltd")  # no DPA
    initech = make_customer("Initech Inc")
    make_dpa(initech, status=DPAStatus.SUPERSEDED)
    for customer in (globex, initech):
        assert (
            make_dsr(email=f"a@{customer.pk}.example", customer=customer).customer_notice_due
            is None
        )
    controller = make_dsr(email="b@acme.com", customer=acme, role=Role.CONTROLLER)
    assert controller.customer_notice_due is None


def test_rule_r1_the_notice_is_a_dashboard_deadline_until_recorded(
    acme: Customer, counsel: Any
) -> None:
    dsr = make_dsr(email="jane@acme.com", customer=acme, received=date(2026, 4, 3))
    items = [i for i in deadline_items(counsel, date(2026, 4, 6)).items if i.rule == "R1"]
    assert [(i.due, i.days_left, i.customer) for i in items] == [
        (date(2026, 4, 6), 0, "Acme Analytics GmbH")
    ]
    assert "Notify the customer of the access" in items[0].what
    assert list(DataSubjectRequest.objects.customer_notice_open()) == [dsr]

    dsr.customer_informed_on = date(2026, 4, 6)
    dsr.save()
    assert not [i for i in deadline_items(counsel, date(2026, 4, 6)).items if i.rule == "R1"]


@pytest.mark.parametrize("status", [DSRStatus.CLOSED, DSRStatus.REDIRECTED])
def test_rule_r1_the_shell_cannot_close_before_the_notice(acme: Customer, status: str) -> None:
    dsr = make_dsr(email="jane@acme.com", customer=acme, role=Role.PROCESSOR)
    dsr.status = status
    with pytest.raises(ValidationError) as error:
        dsr.save()
    assert "SCC Clause 10(a)" in error.value.message_dict["customer_informed_on"][0]
    # Past save() too, the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        super(DataSubjectRequest, dsr).save()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN

    dsr.status = status
    dsr.customer_informed_on = date(2026, 3, 3)
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.status == status


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_r1_the_admin_cannot_close_before_the_notice(
    acme: Customer, staff: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    dsr = make_dsr(email="jane@acme.com", customer=acme, role=Role.PROCESSOR)
    client = signed_in(staff[person])
    url = f"{DSRS}{dsr.pk}/change/"
    form = dsr_form(
        requester_email="jane@acme.com",
        role=Role.PROCESSOR,
        customer=acme.pk,
        status=DSRStatus.CLOSED,
        outcome=Outcome.WITHDRAWN,
    )

    errors = errors_of(client.post(url, form))
    assert "SCC Clause 10(a)" in errors["customer_informed_on"][0]
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN

    assert client.post(url, {**form, "customer_informed_on": "2026-03-04"}).status_code == 302
    dsr.refresh_from_db()
    assert (dsr.status, dsr.customer_informed_on) == (DSRStatus.CLOSED, date(2026, 3, 4))
    assert dsr.history.latest().history_user == staff[person]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_r1_the_redirect_action_notifies_an_scc_customer_even_unticked(
    acme: Customer,
    staff: dict[str, Any],
    signed_in: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
    person: str,
) -> None:
    dsr = make_dsr(email="jane@acme.com")
    data = {
        "action": "redirect_to_customer",
        "_selected_action": [dsr.pk],
        "confirm": "Send",
        "customer": acme.pk,
        "message": "Please ask Acme Analytics GmbH.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(staff[person]).post(DSRS, data)

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["jane@acme.com"], ["privacy@acme.com"]]
    assert "Clause 10(a)" in mail.outbox[1].body
    dsr.refresh_from_db()
    assert (dsr.status, dsr.customer_informed_on) == (DSRStatus.REDIRECTED, date(2026, 4, 6))


@time_machine.travel(TODAY, tick=False)
def test_rule_r1_the_redirect_service_refuses_an_scc_customer_without_a_contact(
    django_capture_on_commit_callbacks: Any,
) -> None:
    initech = make_customer("Initech Inc")
    make_dpa(initech, uk_addendum=True, eu_sccs_module_two=False)
    dsr = make_dsr(email="jane@initech.example")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as error:
        services.dsr_redirect(
            dsr=dsr, customer=initech, message="Ask Initech.", inform_customer=False
        )

    assert "must be notified" in error.value.message_dict["customer"][0]
    assert mail.outbox == []
    dsr.refresh_from_db()
    assert (dsr.status, dsr.customer_id, dsr.history.count()) == (DSRStatus.OPEN, None, 1)

    # Notified another way and recorded: the redirect goes through without a contact.
    dsr.customer_informed_on = date(2026, 4, 3)
    dsr.save()
    services.dsr_redirect(dsr=dsr, customer=initech, message="Ask Initech.", inform_customer=False)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.customer_informed_on) == (DSRStatus.REDIRECTED, date(2026, 4, 3))


# --- R2: identity and proof of authority before "fulfilled" ------------------------------------


@pytest.mark.parametrize("outcome", [Outcome.FULFILLED, Outcome.PARTLY])
@pytest.mark.parametrize("role", [Role.CONTROLLER, Role.UNDECIDED])
def test_rule_r2_the_shell_cannot_close_as_fulfilled_before_the_identity_check(
    outcome: str, role: str
) -> None:
    dsr = make_dsr(role=role)
    dsr.status, dsr.outcome = DSRStatus.CLOSED, outcome
    with pytest.raises(ValidationError) as error:
        dsr.save()
    assert "identity check is recorded" in error.value.message_dict["verified_on"][0]
    with pytest.raises(ValidationError):
        dsr.full_clean()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN

    # A denial needs no identity check: one not verified is denied for that reason.
    dsr.status, dsr.outcome, dsr.denial_reason = DSRStatus.CLOSED, Outcome.DENIED, "Not verified"
    dsr.save()
    dsr.status, dsr.outcome, dsr.denial_reason = DSRStatus.CLOSED, outcome, ""
    dsr.verification_method, dsr.verified_on = "account_email", date(2026, 3, 3)
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.CLOSED


def test_rule_r2_an_agents_request_needs_the_proof_on_file_not_only_details() -> None:
    dsr = make_dsr(
        role=Role.CONTROLLER,
        agent_name="Alex Agent",
        details="Alex says the consumer signed a power of attorney.",
        verification_method="account_email",
        verified_on=date(2026, 3, 3),
    )
    dsr.status, dsr.outcome = DSRStatus.CLOSED, Outcome.FULFILLED
    with pytest.raises(ValidationError) as error:
        dsr.save()
    assert "proof of authority" in error.value.message_dict["agent_proof"][0]

    dsr.agent_proof = SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.CLOSED


def test_rule_r2_an_agent_known_by_email_only_needs_proof_before_fulfilled() -> None:
    """An agent recorded by email alone acts for the requester as much as one recorded by
    name: no closing as fulfilled without the proof of authority (the shell, a service)."""
    dsr = make_dsr(agent_email="agent@optout.example")
    dsr.role = Role.CONTROLLER
    dsr.status = DSRStatus.CLOSED
    dsr.outcome = Outcome.FULFILLED
    dsr.verification_method = "account_email"
    dsr.verified_on = date(2026, 3, 3)
    with pytest.raises(ValidationError) as error:
        dsr.save()
    assert error.value.message_dict["agent_proof"] == [
        "agent@optout.example acts for the requester: put the proof of authority on file "
        "before closing the request as fulfilled (R2)."
    ]

    dsr.agent_proof = SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.CLOSED


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_r2_the_admin_names_the_agent_and_wants_the_proof_of_one_known_by_email(
    staff: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    client = signed_in(staff[person])

    # Admin add: an agent's address without the agent's name.
    agent = {"agent_email": "agent@optout.example", "details": "Signed letter"}
    errors = errors_of(client.post(f"{DSRS}add/", dsr_form(**agent)))
    assert errors["agent_name"] == ["Name the authorized agent, or leave the agent out (R2)."]
    assert not DataSubjectRequest.objects.exists()

    # Admin edit: a request stored with the agent's email only, closed as fulfilled.
    dsr = make_dsr(role=Role.CONTROLLER, **agent)
    closing = {"status": DSRStatus.CLOSED, "outcome": Outcome.FULFILLED}
    verified = {"verification_method": "account_email", "verified_on": "2026-03-03"}
    form = dsr_form(agent_name="Alex Agent", **agent, **closing, **verified)
    errors = errors_of(client.post(f"{DSRS}{dsr.pk}/change/", form))
    assert "proof of authority" in errors["agent_proof"][0]
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_r2_the_admin_add_and_edit_cannot_close_as_fulfilled_unverified(
    staff: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    client = signed_in(staff[person])
    closing = {"status": DSRStatus.CLOSED, "outcome": Outcome.FULFILLED}

    # Admin add: entered already closed.
    errors = errors_of(client.post(f"{DSRS}add/", dsr_form(**closing)))
    assert "identity check is recorded" in errors["verified_on"][0]
    assert not DataSubjectRequest.objects.exists()

    # Admin edit: an agent's request, verified but without the proof.
    dsr = make_dsr(role=Role.CONTROLLER, agent_name="Alex Agent", details="Signed letter")
    url = f"{DSRS}{dsr.pk}/change/"
    verified = {"verification_method": "account_email", "verified_on": "2026-03-03"}
    form = dsr_form(agent_name="Alex Agent", details="Signed letter", **closing, **verified)
    errors = errors_of(client.post(url, form))
    assert "proof of authority" in errors["agent_proof"][0]
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN

    proof = SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")
    assert client.post(url, {**form, "agent_proof": proof}).status_code == 302
    dsr.refresh_from_db()
    assert (dsr.status, dsr.verified_by) == (DSRStatus.CLOSED, staff[person])
