"""The data subject request admin: who may open what, the deadline filter, staff entry with
each clock and its rule (R3, T5), the extension refused naming the field, identity
verification (R2) and the redirect to the customer (R1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from customers.models import Customer
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.templatetags.portal_rules import rule_filter
from requests.models import DataSubjectRequest, DSRStatus, Outcome, Right, Role
from tests.customers.builders import make_customer
from tests.requests.builders import make_dsr, regime

R3 = rule_filter("R3")  # a rule ID in a list explains itself (T5)

pytestmark = pytest.mark.django_db

# Noon in New York on Monday 2026-04-06: the legal date (T1).
TODAY = datetime(2026, 4, 6, 16, 0, tzinfo=UTC)
DSRS = "/admin/requests/datasubjectrequest/"


@pytest.fixture
def globex(db: None) -> Customer:
    """Unlike the shared globex, no contact: the R1 notice has no one to go to."""
    return make_customer("Globex Corporation Ltd", domains=("globex.co.uk",))


# --- Who may open what -------------------------------------------------------------------------

EXPECTED = {
    "datasubjectrequest": {
        "counsel": {"changelist": 200, "add": 200, "change": 200, "delete": 200},
        "analyst": {"changelist": 200, "add": 200, "change": 200, "delete": 403},
        "viewer": {"changelist": 200, "add": 403, "change": 200, "delete": 403},
        "outsider": {"changelist": 403, "add": 403, "change": 403, "delete": 403},
    },
    # A regime's periods move every deadline computed from it: counsel's alone (R3).
    "regime": {
        "counsel": {"changelist": 200, "add": 200, "change": 200, "delete": 200},
        "analyst": {"changelist": 200, "add": 403, "change": 200, "delete": 403},
        "viewer": {"changelist": 200, "add": 403, "change": 200, "delete": 403},
        "outsider": {"changelist": 403, "add": 403, "change": 403, "delete": 403},
    },
}


@pytest.mark.parametrize("model", list(EXPECTED))
@pytest.mark.parametrize("person", ["counsel", "analyst", "viewer", "outsider"])
def test_dsr_admin_page_by_role(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str, model: str
) -> None:
    pk = make_dsr().pk if model == "datasubjectrequest" else regime("lgpd").pk
    client = signed_in(everyone[person])
    base = f"/admin/requests/{model}/"
    urls = {
        "changelist": base,
        "add": f"{base}add/",
        "change": f"{base}{pk}/change/",
        "delete": f"{base}{pk}/delete/",
    }

    codes = {page: client.get(url).status_code for page, url in urls.items()}

    assert codes == EXPECTED[model][person]


@pytest.mark.parametrize("person", ["analyst", "viewer"])
def test_only_counsel_changes_a_regime(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    lgpd = regime("lgpd")
    url = f"/admin/requests/regime/{lgpd.pk}/change/"
    client = signed_in(everyone[person])

    page = client.get(url).content.decode()
    refused = client.post(url, {"code": "lgpd", "name": "LGPD", "response_value": "30"})

    assert 'name="response_value"' not in page
    assert refused.status_code == 403
    lgpd.refresh_from_db()
    assert lgpd.response_value == 15


def test_the_viewer_reads_a_request_but_cannot_change_it(
    viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    dsr = make_dsr()
    client = signed_in(viewer)

    page = client.get(f"{DSRS}{dsr.pk}/change/").content.decode()
    refused = client.post(f"{DSRS}{dsr.pk}/change/", {"requester_name": "Someone else"})

    assert "jane@example.org" in page
    assert 'name="requester_name"' not in page
    assert refused.status_code == 403
    assert 'value="redirect_to_customer"' not in client.get(DSRS).content.decode()


@pytest.mark.parametrize(
    ("person", "code"), [("counsel", 200), ("analyst", 200), ("viewer", 200), ("outsider", 403)]
)
def test_the_metrics_page_and_the_log_by_role(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str, code: int
) -> None:
    client = signed_in(everyone[person])

    assert client.get(f"{DSRS}metrics/?year=2026").status_code == code
    assert client.get(f"{DSRS}metrics/?year=2026&download=csv").status_code == code
    assert client.post(f"{DSRS}export/", {"format": "0"}).status_code == code


# --- The list: open, due this week, overdue ------------------------------------------------------


@pytest.fixture
def morning() -> dict[str, DataSubjectRequest]:
    return {
        # GDPR, one month: due 2026-03-23, two weeks gone.
        "overdue": make_dsr(email="olga@example.org", received=date(2026, 2, 23)),
        # Due 2026-04-09 (Thursday).
        "this_week": make_dsr(email="wes@example.org", received=date(2026, 3, 9)),
        # CCPA 45 days: due Saturday 2026-05-16, kept: US deadlines do not move (T4).
        "later": make_dsr(email="lena@example.org", regime_code="ccpa", received=date(2026, 4, 1)),
        # Overdue by the dates, but answered and closed.
        "closed": make_dsr(
            email="carl@example.org",
            received=date(2026, 2, 2),
            status=DSRStatus.CLOSED,
            outcome=Outcome.FULFILLED,
            reply_sent_on=date(2026, 2, 20),
        ),
        # Extended on time: due 2026-06-09 instead of 2026-04-09.
        "extended": make_dsr(
            email="ext@example.org", received=date(2026, 3, 9), extension_told_on=date(2026, 4, 1)
        ),
    }


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("open", {"overdue", "this_week", "later", "extended"}),
        ("week", {"this_week"}),
        ("overdue", {"overdue"}),
        ("", {"overdue", "this_week", "later", "closed", "extended"}),
    ],
)
def test_the_deadline_filter_uses_the_legal_date(
    morning: dict[str, DataSubjectRequest], counsel_client: Client, due: str, expected: set[str]
) -> None:
    response = counsel_client.get(f"{DSRS}?due={due}" if due else DSRS)

    listed = {dsr.pk for dsr in response.context["cl"].result_list}
    assert listed == {morning[name].pk for name in expected}


def test_due_this_week_ends_on_the_sixth_day(counsel_client: Client) -> None:
    # GDPR received 2026-03-12: due Sunday 2026-04-12, moved to Monday 2026-04-13 (T4).
    dsr = make_dsr(received=date(2026, 3, 12))
    assert dsr.respond_by == date(2026, 4, 13)

    with time_machine.travel(datetime(2026, 4, 7, 16, 0, tzinfo=UTC), tick=False):
        on_the_sixth_day = counsel_client.get(f"{DSRS}?due=week").context["cl"].result_list
    with time_machine.travel(TODAY, tick=False):
        on_the_seventh_day = counsel_client.get(f"{DSRS}?due=week").context["cl"].result_list

    assert list(on_the_sixth_day) == [dsr]
    assert list(on_the_seventh_day) == []


@time_machine.travel(TODAY, tick=False)
def test_the_list_shows_each_due_date_with_its_rule(
    morning: dict[str, DataSubjectRequest], counsel_client: Client
) -> None:
    listing = counsel_client.get(DSRS).content.decode()

    assert f"2026-03-23 <small>({R3}) overdue by 14 days</small>" in listing
    assert f"2026-04-09 <small>({R3}) in 3 days</small>" in listing
    assert f"2026-05-16 <small>({R3}) in 40 days</small>" in listing
    assert f"2026-06-09 <small>({R3}) in 64 days</small>" in listing
    assert f"2026-03-02 <small>({R3}) done 2026-02-20</small>" in listing
    # CCPA: confirm receipt within 10 business days of 2026-04-01.
    assert f"2026-04-15 <small>({R3}) in 9 days</small>" in listing
    assert f'href="{DSRS}export/' in listing
    assert f'href="{DSRS}metrics/"' in listing


# --- Staff entry, the clocks and their rules (R3, T5) ---------------------------------------------


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


@time_machine.travel(TODAY, tick=False)
def test_staff_enter_a_letter_and_the_clocks_are_computed(
    counsel: Any, counsel_client: Client
) -> None:
    response = counsel_client.post(f"{DSRS}add/", dsr_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    dsr = DataSubjectRequest.objects.get()
    assert (dsr.received_on, dsr.respond_by, dsr.extended_to) == (
        date(2026, 3, 2),
        date(2026, 4, 2),
        None,
    )
    record = dsr.history.get()
    assert record.history_user == counsel
    assert record.history_change_reason == "Letter received"

    page = counsel_client.get(f"{DSRS}{dsr.pk}/change/").content.decode()
    explained = rule_filter(
        "GDPR (EU): 1 calendar month from the legal date of receipt, moved off weekends and "
        "holidays (R3, T3, T4)"
    )
    assert f"2026-04-02 <small>({explained})</small>" in page
    assert 'href="/staff/rules/#T4"' in explained
    # R3, T3: the extension counts from receipt, as the date does (three months, then T4 once).
    assert (
        rule_filter(
            "GDPR (EU): 1 calendar month + 2 further calendar months, counted from the legal date "
            "of receipt, if the requester is told by the original deadline, moved off weekends and "
            "holidays once, at the end (R3, T3, T4)"
        )
        in page
    )
    assert "GDPR (EU) sets no acknowledgement period (R3)." in page


@time_machine.travel(TODAY, tick=False)
def test_a_ccpa_request_shows_its_acknowledgement_rule(counsel_client: Client) -> None:
    dsr = make_dsr(regime_code="ccpa", received=date(2026, 4, 1))

    page = counsel_client.get(f"{DSRS}{dsr.pk}/change/").content.decode()

    explained = rule_filter(
        "CCPA / CPRA (California): confirm receipt within 10 business days (R3)"
    )
    assert f"2026-04-15 <small>({explained})</small>" in page
    assert "45 calendar days from the legal date of receipt" in page


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("told", "extended_to"),
    [
        ("2026-04-02", date(2026, 6, 2)),  # the original deadline itself: in time
        ("2026-04-03", None),  # the day after: refused
    ],
)
def test_rule_r3_the_extension_is_told_by_the_original_deadline(
    counsel_client: Client, told: str, extended_to: date | None
) -> None:
    response = counsel_client.post(f"{DSRS}add/", dsr_form(extension_told_on=told))

    if extended_to:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert DataSubjectRequest.objects.get().extended_to == extended_to
    else:
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["extension_told_on"]
        assert "Too late to extend" in str(errors)
        assert "2026-04-02 (R3)" in str(errors)
        assert not DataSubjectRequest.objects.exists()
        assert not DataSubjectRequest.history.exists()


BAD_INPUT = [
    ({"regime": "lgpd", "extension_told_on": "2026-03-05"}, "extension_told_on"),
    ({"extension_told_on": "2026-03-01"}, "extension_told_on"),
    ({"received_on": ""}, "received_on"),
    ({"outcome": Outcome.DENIED}, "denial_reason"),
    ({"verification_method": "account_email"}, "verified_on"),
    ({"agent_name": "Agent Smith"}, "agent_proof"),
]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(("changes", "field"), BAD_INPUT, ids=[f for _, f in BAD_INPUT])
def test_bad_input_names_the_field_and_saves_nothing(
    counsel_client: Client, changes: dict[str, Any], field: str
) -> None:
    changes = dict(changes)
    if "regime" in changes:
        changes["regime"] = regime(changes["regime"]).pk

    response = counsel_client.post(f"{DSRS}add/", dsr_form(**changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field], errors
    assert not DataSubjectRequest.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_rule_r2_whoever_saves_the_verification_is_recorded(
    analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(analyst).post(
        f"{DSRS}add/",
        dsr_form(
            verification_method="government_id",
            verified_on="2026-03-04",
            government_id_requested="on",
            agent_name="Agent Smith",
            details="Power of attorney received by post, filed in the letter archive.",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    dsr = DataSubjectRequest.objects.get()
    assert dsr.verified_by == analyst
    assert dsr.government_id_requested is True


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_t4_a_closed_request_edited_in_the_admin_keeps_its_deadlines(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    """Fri 2026-03-06 + one month is Easter Monday in Ireland, then a closure day: due Wed
    2026-04-08 when it was closed. The closure day removed, a reply typo fixed in the admin
    leaves the date it was answered against."""
    closure = PublicHoliday(date=date(2026, 4, 7), name="Office closed")
    closure.save()
    dsr = make_dsr(
        received=date(2026, 3, 6),
        status=DSRStatus.CLOSED,
        role=Role.CONTROLLER,
        outcome=Outcome.DENIED,
        denial_reason="Not a customer",
    )
    closure.delete()

    closed = {"status": DSRStatus.CLOSED, "outcome": Outcome.DENIED}
    form = dsr_form(
        received_on="2026-03-06", denial_reason="Not a customer", reply="Typo fixed", **closed
    )
    response = signed_in(everyone[person]).post(f"{DSRS}{dsr.pk}/change/", form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    dsr.refresh_from_db()
    assert (dsr.reply, dsr.respond_by) == ("Typo fixed", date(2026, 4, 8))


# --- The redirect to the customer (R1) --------------------------------------------------------


def redirect(client: Client, *pks: int, **confirm: Any) -> Any:
    data: dict[str, Any] = {"action": "redirect_to_customer", "_selected_action": list(pks)}
    data.update(confirm)
    return client.post(DSRS, data)


@time_machine.travel(TODAY, tick=False)
def test_rule_r1_the_redirect_tells_the_data_subject_and_the_customer(
    acme: Customer,
    counsel: Any,
    counsel_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    dsr = make_dsr(email="jane@acme.com", right=Right.DELETION)

    page = redirect(counsel_client, dsr.pk)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["customer"].value() == acme.pk
    assert "please submit your request directly to Acme Analytics GmbH" in form["message"].value()
    with django_capture_on_commit_callbacks(execute=True):
        done = redirect(
            counsel_client,
            dsr.pk,
            confirm="Send",
            customer=acme.pk,
            message="Please ask Acme Analytics GmbH. (edited)",
            inform_customer="on",
        )

    assert done.status_code == 302
    to_subject, to_customer = mail.outbox
    assert to_subject.to == ["jane@acme.com"]
    assert to_subject.body == "Please ask Acme Analytics GmbH. (edited)"
    assert to_customer.to == ["privacy@acme.com"]
    assert "jane@acme.com" in to_customer.body
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.REDIRECTED
    assert dsr.role == Role.PROCESSOR
    assert dsr.customer == acme
    assert dsr.redirected_on == date(2026, 4, 6)
    assert dsr.customer_informed_on == date(2026, 4, 6)
    record = dsr.history.order_by("-history_id").first()
    assert record.history_user == counsel
    assert record.history_change_reason == "Redirected to Acme Analytics GmbH (R1)"
    listing = counsel_client.get(DSRS).content.decode()
    assert "Told jane@acme.com to submit the request to Acme Analytics GmbH and informed" in listing
    assert f"2026-04-02 <small>({R3}) done 2026-04-06</small>" in listing


@time_machine.travel(TODAY, tick=False)
def test_rule_r1_the_customer_need_not_be_told(
    acme: Customer, counsel_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    dsr = make_dsr(email="jane@acme.com")

    with django_capture_on_commit_callbacks(execute=True):
        redirect(counsel_client, dsr.pk, confirm="Send", customer=acme.pk, message="Ask Acme.")

    assert [message.to for message in mail.outbox] == [["jane@acme.com"]]
    dsr.refresh_from_db()
    assert (dsr.status, dsr.customer_informed_on) == (DSRStatus.REDIRECTED, None)


@time_machine.travel(TODAY, tick=False)
def test_rule_r1_redraft_for_another_customer(
    acme: Customer, globex: Customer, counsel_client: Client
) -> None:
    dsr = make_dsr(email="jane@example.org", service_named="Globex")

    first = redirect(counsel_client, dsr.pk)
    redrafted = redirect(counsel_client, dsr.pk, redraft="Redraft", customer=acme.pk, message="x")

    assert first.context["form"]["customer"].value() == globex.pk
    assert redrafted.context["form"]["customer"].value() == acme.pk
    assert "directly to Acme Analytics GmbH" in redrafted.context["form"]["message"].value()
    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN


@time_machine.travel(TODAY, tick=False)
def test_rule_r1_a_customer_without_a_contact_cannot_be_informed(
    globex: Customer, counsel_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    dsr = make_dsr(email="jane@globex.co.uk")

    with django_capture_on_commit_callbacks(execute=True):
        refused = redirect(
            counsel_client,
            dsr.pk,
            confirm="Send",
            customer=globex.pk,
            message="Ask Globex.",
            inform_customer="on",
        )

    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["customer"]
    assert "has no privacy or notice contact" in refused.content.decode()
    assert mail.outbox == []
    dsr.refresh_from_db()
    assert (dsr.status, dsr.redirected_on) == (DSRStatus.OPEN, None)
    assert dsr.history.count() == 1


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("several", "Redirect one request at a time"),
        ("closed", "Only an open request can be redirected"),
    ],
)
def test_rule_r1_one_open_request_at_a_time(
    acme: Customer, counsel_client: Client, case: str, message: str
) -> None:
    if case == "several":
        pks = [make_dsr(email="a@acme.com").pk, make_dsr(email="b@acme.com").pk]
    else:
        pks = [make_dsr(email="a@acme.com", status=DSRStatus.CLOSED).pk]

    response = redirect(counsel_client, *pks, confirm="Send", customer=acme.pk, message="Hi")

    assert response.status_code == 302
    assert message in counsel_client.get(DSRS).content.decode()
    assert not DataSubjectRequest.objects.filter(status=DSRStatus.REDIRECTED).exists()


def test_rule_r1_the_viewer_cannot_redirect(
    acme: Customer, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    dsr = make_dsr(email="jane@acme.com")

    redirect(signed_in(viewer), dsr.pk, confirm="Send", customer=acme.pk, message="Hi")

    dsr.refresh_from_db()
    assert dsr.status == DSRStatus.OPEN
