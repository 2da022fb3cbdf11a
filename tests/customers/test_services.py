"""Multi-step writes of the customers area: termination (C3, C4, S5), breach notices (C5),
certificates of deletion (C3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from customers import services
from customers.models import BreachNotice, Customer, DeletionCertificate
from customers.models.accounts import CustomerStatus, TerminatedBy, TerminationRoute
from customers.tasks import send_breach_notice
from tests.customers.builders import make_breach, make_certificate, make_customer, make_dpa

pytestmark = pytest.mark.django_db

AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)
SENT = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


def terminate(customer: Customer, on: date = date(2026, 1, 31), **kwargs: object) -> Customer:
    return services.customer_terminate(
        customer=customer,
        on=on,
        by=kwargs.pop("by", TerminatedBy.CUSTOMER),
        reason=str(kwargs.pop("reason", "Did not renew")),
        **kwargs,  # type: ignore[arg-type]
    )


# --- customer_terminate (C3, C4, S5).


def test_rule_c3_c4_terminating_records_the_termination_and_starts_both_clocks(
    acme: Customer,
) -> None:
    terminate(acme, on=date(2026, 1, 31), reason="Did not renew")

    acme = Customer.objects.get(pk=acme.pk)
    assert acme.status == CustomerStatus.TERMINATED
    assert acme.termination_date == date(2026, 1, 31)
    assert acme.terminated_by == TerminatedBy.CUSTOMER
    assert acme.termination_route == TerminationRoute.ORDINARY
    assert acme.termination_reason == "Did not renew"
    assert acme.deletion_due == date(2026, 5, 1)
    assert acme.credential_purge_due == date(2026, 3, 2)
    assert acme.history.first().history_change_reason == "Terminated: Did not renew"


def test_rule_s5_an_unresolved_objection_terminates_by_that_route(acme: Customer) -> None:
    terminate(
        acme,
        on=date(2024, 2, 29),
        by=TerminatedBy.HARMONYZE,
        reason="Objection to the new sub-processor could not be resolved",
        route=TerminationRoute.OBJECTION,
    )

    acme = Customer.objects.get(pk=acme.pk)
    assert acme.termination_route == TerminationRoute.OBJECTION
    assert acme.terminated_by == TerminatedBy.HARMONYZE
    assert acme.deletion_due == date(2024, 5, 29)
    assert acme.credential_purge_due == date(2024, 3, 30)


def test_rule_c4_an_earlier_deletion_request_moves_the_purge_date(acme: Customer) -> None:
    terminate(acme, on=date(2026, 1, 31), earlier_deletion_requested_on=date(2026, 2, 5))

    acme = Customer.objects.get(pk=acme.pk)
    assert acme.credential_purge_due == date(2026, 2, 5)
    assert acme.deletion_due == date(2026, 5, 1)


def test_rule_c4_a_deletion_request_made_before_termination_purges_on_termination(
    acme: Customer,
) -> None:
    terminate(acme, on=date(2026, 1, 31), earlier_deletion_requested_on=date(2026, 1, 10))

    assert Customer.objects.get(pk=acme.pk).credential_purge_due == date(2026, 1, 31)


def test_terminating_twice_is_refused(acme: Customer) -> None:
    terminate(acme, on=date(2026, 1, 31))

    with pytest.raises(ValidationError) as caught:
        terminate(Customer.objects.get(pk=acme.pk), on=date(2026, 2, 28))

    assert "termination_date" in caught.value.message_dict
    assert Customer.objects.get(pk=acme.pk).termination_date == date(2026, 1, 31)
    assert acme.history.count() == 2


def test_terminating_before_the_effective_date_is_refused_and_nothing_is_saved(
    acme: Customer,
) -> None:
    with pytest.raises(ValidationError) as caught:
        terminate(acme, on=date(2023, 12, 31))

    assert list(caught.value.message_dict) == ["termination_date"]
    acme = Customer.objects.get(pk=acme.pk)
    assert acme.status == CustomerStatus.ACTIVE
    assert acme.termination_date is None
    assert acme.deletion_due is None
    assert acme.history.count() == 1


def test_terminating_on_the_effective_date_is_allowed(acme: Customer) -> None:
    terminate(acme, on=date(2024, 1, 1))

    assert Customer.objects.get(pk=acme.pk).deletion_due == date(2024, 3, 31)


# --- customer_reopen.


def test_reopening_clears_the_clocks_and_the_history_keeps_them(acme: Customer) -> None:
    terminate(acme, on=date(2026, 1, 31))

    services.customer_reopen(customer=acme, reason="Renewal signed after all")

    acme = Customer.objects.get(pk=acme.pk)
    assert acme.status == CustomerStatus.ACTIVE
    assert (acme.termination_date, acme.deletion_due, acme.credential_purge_due) == (
        None,
        None,
        None,
    )
    assert (acme.terminated_by, acme.termination_route, acme.termination_reason) == ("", "", "")
    latest, terminated = acme.history.all()[:2]
    assert latest.history_change_reason == "Reopened: Renewal signed after all"
    assert terminated.deletion_due == date(2026, 5, 1)


def test_reopening_a_customer_that_is_not_terminated_is_refused(acme: Customer) -> None:
    with pytest.raises(ValidationError, match="is not terminated"):
        services.customer_reopen(customer=acme, reason="Just in case")


def test_reopening_needs_a_reason(acme: Customer) -> None:
    terminate(acme)

    with pytest.raises(ValidationError, match="Say why"):
        services.customer_reopen(customer=acme, reason="  ")

    assert Customer.objects.get(pk=acme.pk).status == CustomerStatus.TERMINATED


def test_a_reopened_customer_can_be_terminated_again(acme: Customer) -> None:
    terminate(acme, on=date(2026, 1, 31))
    services.customer_reopen(customer=acme, reason="Recorded in error")

    terminate(acme, on=date(2026, 2, 28))

    assert Customer.objects.get(pk=acme.pk).deletion_due == date(2026, 5, 29)


# --- Breach notices (C5): queue, then the task sends each exactly once.


def queue(breach: object, subject: str = "Notice of a Personal Data Breach") -> tuple:
    return services.breach_notices_queue(
        breach=breach,  # type: ignore[arg-type]
        subject=subject,
        body="Under section 7 of our DPA, Harmonyze notifies you of a breach.",
    )


@time_machine.travel(SENT, tick=False)
def test_rule_c5_queueing_sends_one_email_per_notice_contact_and_records_it(
    acme: Customer, globex: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme, globex))

    with django_capture_on_commit_callbacks(execute=True):
        queued, missing = queue(breach)

    assert {m.affected.customer for m in queued} == {acme, globex}
    assert missing == []
    assert sorted(message.to[0] for message in mail.outbox) == [
        "dpo@globex.co.uk",
        "privacy@acme.com",
    ]
    assert all(len(message.to) == 1 for message in mail.outbox)
    sent_ids = {message.extra_headers["Message-ID"] for message in mail.outbox}
    for notice in BreachNotice.objects.filter(breach=breach).select_related("customer"):
        assert notice.notified_at == SENT
        assert notice.notified_to == notice.customer.notice_contact.email
        assert notice.message_id in sent_ids
        assert notice.is_late is False
        record = notice.history.first()
        assert record.history_actor == "task: send breach notices"
        assert record.history_change_reason == "Breach notice sent"


def test_rule_c5_queueing_again_sends_nothing_new(
    acme: Customer, globex: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme, globex))
    with django_capture_on_commit_callbacks(execute=True):
        queue(breach)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued, missing = queue(breach)

    assert (queued, missing, callbacks) == ([], [], [])
    assert len(mail.outbox) == 2


def test_rule_c5_the_task_run_twice_for_one_notice_sends_once(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    notice = BreachNotice.objects.get(breach=breach)
    message = {"notice_id": notice.pk, "subject": "Breach", "body": "Details follow."}

    first = send_breach_notice.call(**message)
    second = send_breach_notice.call(**message)

    assert first == BreachNotice.objects.get(pk=notice.pk).message_id
    assert second == "already sent"
    assert len(mail.outbox) == 1
    assert notice.history.count() == 2


@time_machine.travel(datetime(2026, 2, 4, 12, 0, tzinfo=UTC), tick=False)
def test_rule_c5_a_notice_sent_after_the_target_is_recorded_late(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    with django_capture_on_commit_callbacks(execute=True):
        queue(breach)

    assert BreachNotice.objects.get(breach=breach).is_late is True


def test_rule_c5_customers_without_a_notice_contact_are_reported_and_not_sent(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    initech = make_customer("Initech AG", domains=("initech.ch",))
    breach = make_breach(aware_at=AWARE, customers=(acme, initech))

    with django_capture_on_commit_callbacks(execute=True):
        queued, missing = queue(breach)

    assert [m.affected.customer for m in queued] == [acme]
    assert missing == [initech]
    assert [message.to for message in mail.outbox] == [["privacy@acme.com"]]
    pending = BreachNotice.objects.get(breach=breach, customer=initech)
    assert pending.notified_at is None
    assert pending.notified_to == ""


def test_rule_c5_nothing_is_sent_if_the_transaction_rolls_back(
    acme: Customer, django_capture_on_commit_callbacks
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue(breach)

    assert len(callbacks) == 1
    assert mail.outbox == []
    assert BreachNotice.objects.get(breach=breach).notified_at is None


def test_rule_c5_a_notice_needs_a_subject_and_body(acme: Customer) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    with pytest.raises(ValidationError, match="subject and a body"):
        queue(breach, subject="   ")


def test_rule_c5_the_draft_names_the_breach_and_the_clause(acme: Customer) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))

    subject, body = services.breach_notice_draft(breach)

    assert subject == "Notice of a Personal Data Breach: Misconfigured export bucket"
    assert "section 7" in body
    assert "Names and work email addresses" in body


# --- certificate_issue (C3).


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def terminated_acme(acme: Customer, *, deleted_on: date | None) -> Customer:
    make_dpa(acme, version="2023-01", status="superseded", effective=date(2024, 1, 1))
    make_dpa(acme, version="2025-09", effective=date(2025, 9, 1))
    terminate(acme, on=date(2026, 1, 31))
    if deleted_on:
        acme.deletion_completed_on = deleted_on
        acme.save()
    return acme


def issue(certificate: DeletionCertificate, issued_on: date = date(2026, 5, 6)) -> None:
    services.certificate_issue(
        certificate=certificate,
        signatory_name="Casey Counsel",
        signatory_title="General Counsel",
        issued_on=issued_on,
    )


def test_rule_c3_no_certificate_before_the_deletion_is_recorded(
    acme: Customer, media: Path
) -> None:
    certificate = make_certificate(terminated_acme(acme, deleted_on=None))

    with pytest.raises(ValidationError) as caught:
        issue(certificate)

    assert "customer" in caught.value.message_dict
    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert (certificate.issued_on, certificate.signatory_name, certificate.pdf.name) == (
        None,
        "",
        "",
    )
    assert certificate.history.count() == 1
    assert stored_files(media) == []


def test_rule_c3_the_certificate_is_a_pdf_stored_on_the_record(acme: Customer, media: Path) -> None:
    acme = terminated_acme(acme, deleted_on=date(2026, 4, 30))
    certificate = make_certificate(acme, requested=date(2026, 5, 4))

    issue(certificate, issued_on=date(2026, 5, 6))

    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert certificate.issued_on == date(2026, 5, 6)
    assert certificate.dpa is not None
    assert certificate.dpa.version == "2025-09"
    assert certificate.pdf.name.startswith("customers/deletion-certificates/")
    assert stored_files(media) == [media / certificate.pdf.name]
    with certificate.pdf.open("rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    text = " ".join(text.split())
    for expected in (
        "Acme Analytics GmbH",
        "Version 2025-09",
        "2026-04-30",
        "2026-01-31",
        "Casey Counsel",
        "General Counsel",
        "Dana Privacy",
    ):
        assert expected in text, expected
    record = certificate.history.first()
    assert record.history_change_reason == "Certificate of deletion issued"


def test_rule_c3_a_certificate_is_issued_once(acme: Customer, media: Path) -> None:
    certificate = make_certificate(terminated_acme(acme, deleted_on=date(2026, 4, 30)))
    issue(certificate)
    first = DeletionCertificate.objects.get(pk=certificate.pk).pdf.name

    with pytest.raises(ValidationError) as caught:
        issue(DeletionCertificate.objects.get(pk=certificate.pk), issued_on=date(2026, 5, 7))

    assert "pdf" in caught.value.message_dict
    certificate = DeletionCertificate.objects.get(pk=certificate.pk)
    assert certificate.pdf.name == first
    assert certificate.issued_on == date(2026, 5, 6)
    assert len(stored_files(media)) == 1


def test_rule_c3_a_certificate_cannot_predate_the_request(acme: Customer, media: Path) -> None:
    certificate = make_certificate(
        terminated_acme(acme, deleted_on=date(2026, 4, 30)), requested=date(2026, 5, 4)
    )

    with pytest.raises(ValidationError) as caught:
        issue(certificate, issued_on=date(2026, 5, 3))

    assert "issued_on" in caught.value.message_dict
    assert stored_files(media) == []
    issue(DeletionCertificate.objects.get(pk=certificate.pk), issued_on=date(2026, 5, 4))
