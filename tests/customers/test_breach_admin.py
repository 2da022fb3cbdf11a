"""The breach pages of the admin and their exports (C5): sending each kind of notice,
recording a notice given outside the portal, the remediation log, and the filtered exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import time_machine
from django.core import mail
from django.test import Client

from customers.models import Breach, BreachMessage, BreachNotice, BreachRemediation, Customer
from customers.models.breach_log import NO_FAULT_PHRASE, NO_FAULT_STATEMENT
from tests.customers.builders import make_breach, make_message, make_step
from tests.downloads import body

pytestmark = pytest.mark.django_db

AWARE = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)
SignIn = Callable[[Any], Client]


def action(client: Client, breach: Breach, **data: str) -> Any:
    return client.post(
        "/admin/customers/breach/",
        {"action": "send_notices", "_selected_action": [breach.pk], **data},
    )


def notified(breach: Breach, customer: Customer, hours: int = 5) -> BreachNotice:
    affected = breach.notices.get(customer=customer)
    make_message(affected, sent_at=AWARE + timedelta(hours=hours), sent_to="privacy@acme.com")
    affected.refresh_from_db()
    return affected


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(body(response).decode())))


# --- Sending from the breach.


@time_machine.travel(AWARE + timedelta(hours=40), tick=False)
def test_rule_c5_the_analyst_sends_an_update_to_notified_customers_only(
    acme: Customer,
    globex: Customer,
    analyst: Any,
    signed_in: SignIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme, globex))
    notified(breach, acme)
    client = signed_in(analyst)

    draft = action(client, breach, kind="update", draft="Draft")
    with django_capture_on_commit_callbacks(execute=True):
        done = action(
            client, breach, kind="update", confirm="Send", subject="Update", body="Fixed."
        )

    page = draft.content.decode()
    assert "Update on a Personal Data Breach: Misconfigured export bucket" in page
    assert "privacy@acme.com" in page
    assert "dpo@globex.co.uk" not in page
    assert done.status_code == 302
    assert [m.to for m in mail.outbox] == [["privacy@acme.com"]]
    assert NO_FAULT_PHRASE in mail.outbox[0].body
    update = BreachMessage.objects.get(kind="update")
    assert (update.sent_at, update.sent_to) == (AWARE + timedelta(hours=40), "privacy@acme.com")
    row = update.history.first()
    assert (row.history_user, row.history_actor) == (
        analyst,
        "task: send breach notices for staff: analyst",
    )


def test_rule_c5_the_viewer_cannot_send_an_update(
    acme: Customer, viewer: Any, signed_in: SignIn
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    notified(breach, acme)

    action(signed_in(viewer), breach, kind="update", confirm="Send", subject="U", body="B")

    assert not BreachMessage.objects.filter(kind="update").exists()
    assert mail.outbox == []


# --- A notice given outside the portal (by letter, by phone) is recorded on the notices page.


def manual_notice(affected: BreachNotice, body: str) -> dict[str, str]:
    return {
        "affected": str(affected.pk),
        "kind": "first",
        "subject": "Letter of 2026-02-01",
        "body": body,
        "sent_at_0": "2026-02-01",
        "sent_at_1": "10:00",
        "sent_to": "Dana Weber, by registered letter",
        "change_reason": "Letter sent by post",
    }


def test_rule_c5_a_recorded_notice_without_the_statement_is_refused_with_a_message(
    acme: Customer, analyst: Any, signed_in: SignIn
) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()

    response = signed_in(analyst).post(
        "/admin/customers/breachmessage/add/", manual_notice(affected, "We are sorry.")
    )

    assert response.status_code == 200
    assert "not an acknowledgement or admission of fault or" in response.content.decode()
    assert not BreachMessage.objects.exists()


def test_rule_c5_a_recorded_first_notice_sets_when_the_customer_was_notified(
    acme: Customer, analyst: Any, signed_in: SignIn
) -> None:
    affected = make_breach(aware_at=AWARE, customers=(acme,)).notices.get()

    response = signed_in(analyst).post(
        "/admin/customers/breachmessage/add/",
        manual_notice(affected, f"A breach happened.\n\n{NO_FAULT_STATEMENT}"),
    )

    assert response.status_code == 302
    affected.refresh_from_db()
    assert affected.notified_at == datetime(2026, 2, 1, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert affected.notified_to == "Dana Weber, by registered letter"
    assert BreachMessage.objects.get().history.get().history_change_reason == "Letter sent by post"


def test_rule_c5_a_sent_notice_is_kept_as_sent(
    acme: Customer, counsel: Any, signed_in: SignIn
) -> None:
    breach = make_breach(aware_at=AWARE, customers=(acme,))
    message = notified(breach, acme).messages.get()
    client = signed_in(counsel)

    delete = client.get(f"/admin/customers/breachmessage/{message.pk}/delete/")
    edit = client.post(
        f"/admin/customers/breachmessage/{message.pk}/change/",
        {**manual_notice(message.affected, f"Other text. {NO_FAULT_STATEMENT}")},
    )

    assert delete.status_code == 403
    assert edit.status_code == 403
    message.refresh_from_db()
    assert message.sent_to == "privacy@acme.com"
    assert message.history.count() == 1


# --- The remediation log, on the breach page.


def test_rule_c5_a_remediation_step_added_on_the_breach_keeps_who_and_why(
    acme: Customer, analyst: Any, signed_in: SignIn
) -> None:
    breach = make_breach(aware_at=AWARE)
    client = signed_in(analyst)
    url = f"/admin/customers/breach/{breach.pk}/change/"

    form = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "title": breach.title,
            "aware_at_0": "2026-01-31",
            "aware_at_1": "10:00",
            "description": breach.description,
            "data_categories": breach.data_categories,
            "status": "contained",
            "notices-TOTAL_FORMS": "0",
            "notices-INITIAL_FORMS": "0",
            "remediation_steps-TOTAL_FORMS": "1",
            "remediation_steps-INITIAL_FORMS": "0",
            "remediation_steps-0-taken_at_0": "2026-01-31",
            "remediation_steps-0-taken_at_1": "11:30",
            "remediation_steps-0-action": "Made the bucket private.",
            "remediation_steps-0-taken_by": "Analyst",
            "change_reason": "Incident call of 2026-01-31",
        },
    )

    assert 'value="Analyst"' in form, "by whom: the person recording, by default"
    assert response.status_code == 302, response.content.decode()[:2000]
    step = BreachRemediation.objects.get()
    assert (step.action, step.taken_by) == ("Made the bucket private.", "Analyst")
    row = step.history.get()
    assert (row.history_user, row.history_change_reason) == (analyst, "Incident call of 2026-01-31")


# --- The exports carry every notice and step, and honour the filters.


@pytest.fixture
def log(acme: Customer, globex: Customer) -> Breach:
    breach = make_breach(aware_at=AWARE, customers=(acme, globex))
    affected = notified(breach, acme)
    make_message(
        affected,
        kind="update",
        sent_at=AWARE + timedelta(hours=30),
        sent_to="privacy@acme.com\nlegal@acme.com",
    )
    make_step(breach, taken_at=AWARE + timedelta(hours=1), action="Made the bucket\nprivate.")
    other = make_breach(aware_at=AWARE + timedelta(days=9), title="Leaked transcript")
    make_step(other, taken_at=AWARE + timedelta(days=9), action="Deleted the transcript.")
    return breach


def test_rule_c5_the_breach_log_carries_each_notice_and_the_remediation_steps(
    counsel_client: Client, log: Breach
) -> None:
    rows = csv_rows(
        counsel_client.post(
            "/admin/customers/breachnotice/export/?notified_at__isempty=0", {"format": "0"}
        )
    )

    assert [row["Customer"] for row in rows] == ["Acme Analytics GmbH"]
    assert rows[0]["Notices sent"].splitlines() == [
        "First notice: sent 2026-01-31T15:00:00-05:00 to privacy@acme.com",
        "Update: sent 2026-02-01T16:00:00-05:00 to privacy@acme.com; legal@acme.com",
    ]
    assert (
        rows[0]["Remediation steps"] == "2026-01-31T11:00:00-05:00 by SRE: Made the bucket private."
    )


def test_rule_c5_the_breach_log_as_xlsx_honours_the_filter(
    counsel_client: Client, log: Breach
) -> None:
    response = counsel_client.post(
        "/admin/customers/breachnotice/export/?notified_at__isempty=1", {"format": "1"}
    )

    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert sheet is not None
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header[-2:] == ["Notices sent", "Remediation steps"]
    assert [row[2] for row in rows] == ["Globex Corporation Ltd"]


def test_rule_c5_the_notices_export_honours_the_kind_filter(
    viewer: Any, signed_in: SignIn, log: Breach
) -> None:
    rows = csv_rows(
        signed_in(viewer).post(
            "/admin/customers/breachmessage/export/?kind__exact=update", {"format": "0"}
        )
    )

    assert [(row["Kind of notice"], row["Sent to"]) for row in rows] == [
        ("Update", "privacy@acme.com; legal@acme.com")
    ]
    assert NO_FAULT_PHRASE in rows[0]["Text of the notice"]


def test_rule_c5_the_remediation_export_honours_the_breach_filter(
    counsel_client: Client, outsider: Any, signed_in: SignIn, log: Breach
) -> None:
    url = f"/admin/customers/breachremediation/export/?breach__id__exact={log.pk}"

    rows = csv_rows(counsel_client.post(url, {"format": "0"}))

    assert [(row["Breach"], row["Taken by"]) for row in rows] == [
        ("Misconfigured export bucket", "SRE")
    ]
    assert signed_in(outsider).post(url, {"format": "0"}).status_code == 403
