"""Legal holds (C9, DPA 9): the record, the termination conflict on every path, the held
deletion on the desk, the customer page and the DPA register, and the certificate of deletion
that names what is retained or is refused."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from pypdf import PdfReader

from customers import services
from customers.models import Customer, DeletionCertificate, LegalHold
from customers.models.accounts import TerminatedBy
from harmonyze_portal import desk
from harmonyze_portal.conflicts import TerminationConflictError, termination_conflicts
from tests.customers.builders import make_certificate, make_dpa, make_hold
from tests.customers.test_admin import change_form_data
from tests.downloads import body

pytestmark = pytest.mark.django_db

# 2026-05-01 is Acme's C3 deletion date when it is terminated on 2026-01-31.
TERMINATED = date(2026, 1, 31)
DELETION_DUE = date(2026, 5, 1)


def terminate(customer: Customer, **kwargs: Any) -> Customer:
    return services.customer_terminate(
        customer=customer, on=TERMINATED, by=TerminatedBy.CUSTOMER, reason="Did not renew", **kwargs
    )


# --- The record: the database refuses what the rule forbids, whatever path writes it.


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"review": date(2026, 2, 28)}, "hold_review_after_start"),
        (
            {"released": date(2026, 2, 28), "release_reason": "Settled"},
            "hold_released_after_start",
        ),
        ({"released": date(2026, 4, 1), "release_reason": ""}, "hold_release_explained"),
    ],
)
def test_rule_c9_the_database_refuses_an_inconsistent_hold(
    acme: Customer, fields: dict[str, Any], constraint: str
) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make_hold(acme, started=date(2026, 3, 1), **fields)
    assert not LegalHold.objects.exists()


def test_rule_c9_a_release_without_a_reason_names_the_field(acme: Customer) -> None:
    hold = make_hold(acme)
    hold.released_on = date(2026, 4, 1)

    with pytest.raises(ValidationError) as caught:
        hold.full_clean()

    assert "release_reason" in caught.value.message_dict


def test_rule_c9_active_on_follows_the_start_and_release_days(acme: Customer) -> None:
    hold = make_hold(acme, started=date(2026, 3, 1), released=date(2026, 5, 1))

    assert list(LegalHold.objects.active_on(date(2026, 4, 30))) == [hold]
    assert list(LegalHold.objects.active_on(date(2026, 5, 1))) == []
    assert list(LegalHold.objects.active_on(date(2026, 2, 28))) == []
    assert list(LegalHold.objects.active()) == []


# --- Terminating with an active hold: refused until confirmed, on every path.


def test_rule_c9_the_service_refuses_a_termination_that_contradicts_a_hold(
    acme: Customer,
) -> None:
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme")

    with pytest.raises(TerminationConflictError) as caught:
        terminate(acme)

    assert "Litigation hold, Smith v. Acme" in caught.value.messages[0]
    acme = Customer.objects.get(pk=acme.pk)
    assert (acme.termination_date, acme.deletion_due) == (None, None)
    assert acme.history.count() == 1


def test_rule_c9_a_confirmed_termination_keeps_the_conflict_in_the_history(
    acme: Customer,
) -> None:
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme")

    terminate(acme, confirm_conflicts=True)

    acme = Customer.objects.get(pk=acme.pk)
    assert acme.deletion_due == DELETION_DUE
    reason = acme.history.first().history_change_reason
    assert reason.startswith("Terminated: Did not renew [confirmed despite: a legal hold keeps")
    assert "Smith v. Acme" in reason


def test_rule_c9_a_released_hold_is_no_conflict(acme: Customer) -> None:
    make_hold(acme, released=date(2026, 4, 1))

    assert termination_conflicts(acme) == []
    terminate(acme)
    assert Customer.objects.get(pk=acme.pk).deletion_due == DELETION_DUE


def test_rule_c9_save_refuses_an_unconfirmed_termination_whatever_path_writes_it(
    acme: Customer,
) -> None:
    """A script or an import that sets the date and saves meets the same rule."""
    make_hold(acme)
    acme.termination_date = TERMINATED
    acme.terminated_by = TerminatedBy.CUSTOMER

    with pytest.raises(TerminationConflictError):
        acme.save()

    assert Customer.objects.get(pk=acme.pk).termination_date is None


def test_rule_c9_the_change_form_shows_the_conflict_and_asks_for_confirmation(
    acme: Customer, analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_dpa(acme)
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme")
    client = signed_in(analyst)
    url = f"/admin/customers/customer/{acme.pk}/change/"
    page = client.get(url)
    assert "Litigation hold, Smith v. Acme" in page.content.decode()  # shown before submitting
    data = change_form_data(page) | {
        "termination_date": "2026-01-31",
        "terminated_by": "customer",
        "change_reason": "Termination letter",
    }

    refused = client.post(url, data)

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "Smith v. Acme" in errors["termination_date"][0]
    assert Customer.objects.get(pk=acme.pk).termination_date is None

    confirmed = client.post(url, data | {"confirm_conflicts": "on"})

    assert confirmed.status_code == 302, confirmed.context["adminform"].form.errors
    acme = Customer.objects.get(pk=acme.pk)
    assert acme.deletion_due == DELETION_DUE
    record = acme.history.first()
    assert record.history_user == analyst
    assert "confirmed despite" in record.history_change_reason


# --- While a hold is active the C3 deletion shows as held, with the reason.


@time_machine.travel(datetime(2026, 4, 25, 14, 0, tzinfo=UTC), tick=False)
def test_rule_c9_the_desk_shows_the_deletion_as_held_with_the_reason(
    acme: Customer, globex: Customer, counsel: Any
) -> None:
    for customer in (acme, globex):
        terminate(customer)
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme", review=date(2026, 5, 3))

    items = desk.deadline_items(counsel, date(2026, 4, 25), area="customers").items

    c3 = {item.customer: item.what for item in items if item.rule == "C3"}
    assert c3 == {
        "Acme Analytics GmbH": "Deletion held by a legal hold: Litigation hold, Smith v. Acme "
        "(C9, DPA 9)",
        "Globex Corporation Ltd": "Delete the customer's personal data (90 days after termination)",
    }
    c9 = [(item.customer, item.due, item.what) for item in items if item.rule == "C9"]
    assert c9 == [
        (
            "Acme Analytics GmbH",
            date(2026, 5, 3),
            "Review the legal hold: Litigation hold, Smith v. Acme",
        ),
    ]


@time_machine.travel(datetime(2026, 4, 25, 14, 0, tzinfo=UTC), tick=False)
def test_rule_c9_a_holds_basis_stays_in_the_portal_not_in_the_calendar_feed_or_digest(
    acme: Customer, counsel: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The feed lands in a calendar service and the digest in a mailbox: neither may carry the
    # lawsuit or authority a hold names; both still say the deletion is held, and link back.
    from django.core import mail
    from django.core.management import call_command

    from harmonyze_portal.models import CalendarFeed, StaffPreference

    terminate(acme)
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme", review=date(2026, 4, 28))
    StaffPreference(user=counsel, daily_digest=True).save()
    _, token = CalendarFeed.issue(counsel)

    feed = Client().get("/staff/calendar.ics", {"token": token})
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_deadline_digest", stdout=io.StringIO())

    [digest] = [message for message in mail.outbox if counsel.email in message.to]
    assert "Smith" not in feed.content.decode()
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    calendar = "\n".join(f"{e['summary']}\n{e['description']}" for e in events)
    for text in (calendar, digest.body):
        assert "Smith" not in text
        assert "Deletion held by a legal hold (C9, DPA 9): see the portal" in text
        assert "Review a legal hold: see the portal" in text
    # Inside the portal the desk still names it (the test above).
    items = desk.deadline_items(counsel, date(2026, 4, 25), area="customers").items
    assert any("Smith v. Acme" in item.what for item in items)


def test_rule_c9_a_released_hold_leaves_the_plain_deletion_and_no_review(
    acme: Customer, counsel: Any
) -> None:
    terminate(acme)
    make_hold(acme, released=date(2026, 4, 30))

    items = desk.deadline_items(counsel, date(2026, 4, 30), area="customers").items

    assert [(item.rule, item.what) for item in items if item.rule in {"C3", "C9"}] == [
        ("C3", "Delete the customer's personal data (90 days after termination)"),
    ]


def test_rule_c9_the_customer_list_and_the_dpa_register_say_held(
    acme: Customer, counsel_client: Client
) -> None:
    make_dpa(acme)
    terminate(acme)
    make_hold(acme, legal_basis="Regulator's retention order")

    page = counsel_client.get("/admin/customers/customer/").content.decode()
    export = body(
        counsel_client.post("/admin/customers/dpa/export/", {"format": "0", "resource": "0"})
    ).decode()

    assert "held: Regulator&#x27;s retention order (C9)" in page
    assert "Held: Regulator's retention order" in export


# --- The certificate of deletion names what is retained, or is refused.


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def deleted(customer: Customer) -> Customer:
    terminate(customer, confirm_conflicts=True)
    customer = Customer.objects.get(pk=customer.pk)
    customer.deletion_completed_on = date(2026, 4, 30)
    customer.save()
    return customer


def test_rule_c9_an_issued_certificate_names_what_the_hold_retains(
    acme: Customer, media: Path
) -> None:
    make_hold(acme, data_kept="Support tickets of 2025", legal_basis="Smith v. Acme")
    acme = deleted(acme)
    certificate = make_certificate(acme, requested=date(2026, 5, 4))

    services.certificate_issue(
        certificate=certificate,
        signatory_name="Casey Counsel",
        signatory_title="General Counsel",
        issued_on=date(2026, 5, 5),
    )

    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert certificate.data_retained.startswith("Support tickets of 2025 — kept under Smith v.")
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(certificate.pdf.read())).pages
    )
    assert "Except the data retained below." in text
    assert "Support tickets of 2025" in text


def test_rule_c9_no_path_saves_an_issued_certificate_that_hides_a_hold(
    acme: Customer,
) -> None:
    make_hold(acme)
    acme = deleted(acme)
    certificate = make_certificate(acme, requested=date(2026, 5, 4))
    certificate.issued_on = date(2026, 5, 5)

    with pytest.raises(ValidationError) as caught:
        certificate.save()

    assert "data_retained" in caught.value.message_dict
    assert DeletionCertificate.objects.get(pk=certificate.pk).issued_on is None


def test_rule_c9_a_certificate_issued_before_the_hold_started_stays_valid(
    acme: Customer,
) -> None:
    acme = deleted(acme)
    certificate = make_certificate(acme, requested=date(2026, 5, 4))
    certificate.issued_on = date(2026, 5, 5)
    certificate.save()
    make_hold(acme, started=date(2026, 5, 6), review=date(2026, 8, 1))

    certificate.requested_by = "Dana Privacy, DPO"
    certificate.save()  # an edit later does not turn the past certificate wrong


def test_rule_c9_refusing_a_certificate_names_the_hold(acme: Customer) -> None:
    make_hold(acme, legal_basis="Smith v. Acme", data_kept="Support tickets of 2025")
    acme = deleted(acme)
    certificate = make_certificate(acme, requested=date(2026, 5, 4))

    services.certificate_refuse(certificate=certificate, refused_on=date(2026, 5, 5))

    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert certificate.refused_on == date(2026, 5, 5)
    assert certificate.refusal_reason == (
        "Data is kept under a legal hold: Smith v. Acme (Support tickets of 2025)"
    )
    with pytest.raises(ValidationError, match="refused on 2026-05-05"):
        services.certificate_issue(
            certificate=certificate,
            signatory_name="Casey Counsel",
            signatory_title="",
            issued_on=date(2026, 5, 6),
        )


def test_rule_c9_a_certificate_is_refused_only_while_a_hold_keeps_data(acme: Customer) -> None:
    make_hold(acme, released=date(2026, 5, 5))
    acme = deleted(acme)
    certificate = make_certificate(acme, requested=date(2026, 5, 4))

    with pytest.raises(ValidationError, match="No legal hold keeps"):
        services.certificate_refuse(certificate=certificate, refused_on=date(2026, 5, 5))

    assert DeletionCertificate.objects.get(pk=certificate.pk).refused_on is None


def test_rule_c9_the_database_refuses_a_certificate_both_issued_and_refused(
    acme: Customer,
) -> None:
    certificate = make_certificate(acme, requested=date(2026, 5, 4))
    certificate.issued_on = date(2026, 5, 5)
    certificate.refused_on = date(2026, 5, 5)
    certificate.refusal_reason = "Hold"

    with pytest.raises(IntegrityError, match="certificate_issued_or_refused"), transaction.atomic():
        certificate.save()


def test_rule_c9_the_refuse_action_as_analyst_and_not_as_viewer(
    acme: Customer, analyst: Any, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_hold(acme)
    acme = deleted(acme)
    certificate = make_certificate(acme, requested=date(2026, 5, 4))
    data = {
        "action": "refuse_certificate",
        "_selected_action": [certificate.pk],
        "confirm": "Refuse",
        "refused_on": "2026-05-05",
        "reason": "",
    }

    signed_in(viewer).post("/admin/customers/deletioncertificate/", data)
    assert DeletionCertificate.objects.get(pk=certificate.pk).refused_on is None

    response = signed_in(analyst).post("/admin/customers/deletioncertificate/", data)

    assert response.status_code == 302
    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert certificate.refused_on == date(2026, 5, 5)
    assert certificate.history.first().history_user == analyst
