"""A reason typed is never lost (DOMAIN.md H1): every admin form of a tracked record has one
"Reason for this change" box, and what is typed in it reaches the history row.

The walk covers ``admin.site._registry``: an admin registered for a tracked model without a
builder here, or that stops being postable without being listed, fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.test import Client

from audits.models import AuditFinding, AuditRequest
from customers.models import Customer
from harmonyze_portal.models import EvidencePack, HistoryRedaction, PublicHoliday
from harmonyze_portal.seals import seal_history
from requests.models import DemandView
from subprocessors.models import Objection, SignupStatus
from tests.audits.builders import make_audit_request, make_report
from tests.conftest import make_staff
from tests.customers.builders import (
    make_assistance,
    make_breach,
    make_certificate,
    make_contact,
    make_customer,
    make_dpa,
    make_finding,
    make_hold,
    make_instruction,
    make_instruction_notice,
    make_message,
    make_step,
)
from tests.requests.builders import make_demand, make_dsr, regime
from tests.subprocessors.builders import (
    make_change,
    make_delivery,
    make_signup,
    make_subprocessor,
)

pytestmark = pytest.mark.django_db

SignIn = Callable[[Any], Client]
REASON_FIELD = "change_reason"
REASON = "Checked against the signed PDF (ticket LEGAL-311)"


# --- One record of each tracked model, with inline rows where the admin has inlines.


def acme() -> Customer:
    customer = make_customer("Acme Analytics GmbH", domains=("acme.com",))
    make_contact(customer, email="dpo@acme.com", is_notice_contact=True)
    make_dpa(customer)
    return customer


def breach() -> Model:
    return make_breach(customers=(acme(),))


def audit_request() -> AuditRequest:
    request = make_audit_request(acme(), received=date(2026, 3, 15))
    AuditFinding(
        request=request, description="Admin API reachable", disclosed_on=date(2026, 5, 2)
    ).save()
    return request


def audit_finding() -> AuditFinding:
    return audit_request().findings.get()


def objection() -> Objection:
    change = make_change(
        make_subprocessor("Mailgun", status="announced"),
        published_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
    )
    signup = make_signup(status=SignupStatus.ACTIVE)
    make_delivery(change, signup)
    row = Objection(
        change=change,
        signup=signup,
        received_at=datetime(2026, 3, 4, 15, tzinfo=UTC),
        deadline=date(2026, 3, 9),
        in_time=True,
        reason="We object to transfers to this vendor.",
    )
    row.save()
    return row


def demand_view() -> DemandView:
    row = DemandView(
        demand=make_demand(), user=make_staff("auditor", None), path="/admin/requests/"
    )
    row.save()
    return row


def delivery() -> Model:
    change = make_change(
        make_subprocessor("Mailgun", status="announced"),
        published_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
    )
    return make_delivery(change, make_signup(status=SignupStatus.ACTIVE))


def holiday() -> PublicHoliday:
    row = PublicHoliday(date=date(2026, 12, 25), name="Christmas Day")
    row.save()
    return row


def history_seal() -> Model:
    holiday()
    return next(
        seal
        for seal in seal_history(settle=timedelta(0))
        if seal.history_table == "harmonyze_portal.historicalpublicholiday"
    )


def history_redaction() -> Model:
    row = HistoryRedaction(
        history_table="subprocessors.historicalsignup",
        row_id=1,
        sealed_sha256="a" * 64,
        redacted_sha256="b" * 64,
        job="task: purge unconfirmed signups",
        reason="Email never confirmed: the link expired (S2, PP 4)",
    )
    row.save()
    return row


def evidence_pack() -> Model:
    pack = EvidencePack(
        customer=acme(),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        requested_by=make_staff("dana", "Privacy counsel"),
    )
    pack.save()
    return pack


BUILDERS: dict[str, Callable[[], Model]] = {
    "auth.User": lambda: make_staff("dana", None),
    "harmonyze_portal.PublicHoliday": holiday,
    "customers.Customer": acme,
    "customers.DPA": lambda: acme().dpas.get(),
    "customers.Breach": breach,
    "customers.BreachNotice": lambda: breach().notices.get(),  # type: ignore[attr-defined]
    "customers.BreachMessage": lambda: make_message(breach().notices.get()),  # type: ignore[attr-defined]
    "customers.BreachRemediation": lambda: make_step(
        make_breach(), taken_at=datetime(2026, 2, 1, 9, tzinfo=UTC), action="Closed the bucket."
    ),
    "customers.AssistanceRequest": lambda: make_assistance(acme()),
    "customers.ProhibitedDataFinding": lambda: make_finding(acme()),
    "customers.DeletionCertificate": lambda: make_certificate(acme()),
    "customers.LegalHold": lambda: make_hold(acme()),
    "customers.Instruction": lambda: make_instruction(acme()),
    "customers.InstructionNotice": lambda: make_instruction_notice(acme()),
    "subprocessors.SubProcessor": make_subprocessor,
    "subprocessors.Change": lambda: make_change(make_subprocessor("Mailgun", status="announced")),
    "subprocessors.Delivery": delivery,
    "subprocessors.Signup": lambda: make_signup(status=SignupStatus.ACTIVE),
    "subprocessors.Objection": objection,
    "subprocessors.ProcessingLocation": lambda: make_subprocessor().processing_locations.get(),
    "requests.LawEnforcementDemand": lambda: make_demand(customers=(acme(),)),
    "requests.DemandView": demand_view,
    "harmonyze_portal.HistorySeal": history_seal,
    "harmonyze_portal.HistoryRedaction": history_redaction,
    "harmonyze_portal.EvidencePack": evidence_pack,
    "requests.Regime": lambda: regime("gdpr"),
    "requests.DataSubjectRequest": make_dsr,
    "audits.AuditReport": make_report,
    "audits.AuditRequest": audit_request,
    "audits.AuditFinding": audit_finding,
}

# Change forms that cannot be posted, and why. Their page shows no reason box at all.
READ_ONLY = {
    "subprocessors.Delivery": "the proof of notice (S6) is written by the sending task only",
    "requests.DemandView": "the access log of law-enforcement records (R6) is evidence",
    "harmonyze_portal.HistorySeal": "seals are written by seal_history alone (H3)",
    "harmonyze_portal.HistoryRedaction": "redactions are written by the PP 4 purge alone (H3)",
}
# Models without an add form, and why.
NO_ADD_FORM = {
    **READ_ONLY,
    "subprocessors.Signup": "signups come from the Notice Form and confirm by email (S2)",
}
# Read-only once made, yet asked for through an add form (which has the reason box).
READ_ONLY["harmonyze_portal.EvidencePack"] = "a pack is asked for and built, never edited"


def tracked_admins() -> list[str]:
    return sorted(model._meta.label for model in admin.site._registry if hasattr(model, "history"))


# --- Posting a form back as a browser would.


class FormFields(HTMLParser):
    """The name/value pairs a browser submits for the form with id ``form_id``, untouched."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self.reason_boxes = 0
        self._select: dict[str, Any] | None = None
        self._textarea: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
        if not self.inside or "disabled" in attr or not attr.get("name", tag == "option"):
            return
        name = attr.get("name", "")
        if name == REASON_FIELD:
            self.reason_boxes += 1
        if tag == "input":
            kind = attr.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attr:
                return
            self.pairs.append((name, attr.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = [name, ""]
        elif tag == "select":
            self._select = {"name": name, "multiple": "multiple" in attr, "options": []}
        elif tag == "option" and self._select is not None:
            self._select["options"].append((attr.get("value", ""), "selected" in attr))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # A browser drops the newline that opens a textarea's content; so does Django's.
            self.pairs.append((name, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [value for value, selected in options if selected]
            if not chosen and options and not self._select["multiple"]:
                chosen = [options[0][0]]
            self.pairs.extend((self._select["name"], value) for value in chosen)
            self._select = None

    def data(self) -> dict[str, list[str]]:
        posted: dict[str, list[str]] = {}
        for name, value in self.pairs:
            posted.setdefault(name, []).append(value)
        return posted


def read_form(page: str, model: type[Model]) -> FormFields:
    fields = FormFields(f"{model._meta.model_name}_form")
    fields.feed(page)
    return fields


def admin_url(model: type[Model], view: str, pk: Any = None) -> str:
    opts = model._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"
    return f"{base}add/" if view == "add" else f"{base}{pk}/{view}/"


def form_errors(response: Any) -> Any:
    context = response.context
    errors = [context["adminform"].form.errors] if context and "adminform" in context else []
    for formset in (context or {}).get("inline_admin_formsets", []):
        errors.append(formset.formset.errors)
        errors.append(formset.formset.non_form_errors())
    return errors


# --- The walk.


def test_the_walk_covers_every_tracked_admin() -> None:
    labels = tracked_admins()

    assert set(labels) - set(BUILDERS) == set(), "add a builder for each new tracked admin"
    assert set(READ_ONLY) | set(NO_ADD_FORM) <= set(labels)


@pytest.mark.parametrize("label", tracked_admins())
def test_the_change_form_has_one_reason_and_the_history_keeps_it(
    label: str, counsel: Any, signed_in: SignIn
) -> None:
    obj = BUILDERS[label]()
    model = type(obj)
    client = signed_in(counsel)

    page = client.get(admin_url(model, "change", obj.pk))

    assert page.status_code == 200
    form = read_form(page.content.decode(), model)
    if label in READ_ONLY:
        assert form.reason_boxes == 0, f"{label} is read-only: {READ_ONLY[label]}"
        return
    assert form.reason_boxes == 1
    data = form.data()
    data[REASON_FIELD] = [REASON]
    before = obj.history.count()  # type: ignore[attr-defined]

    response = client.post(admin_url(model, "change", obj.pk), data)

    assert response.status_code == 302, form_errors(response)
    assert obj.history.count() == before + 1  # type: ignore[attr-defined]
    row = obj.history.first()  # type: ignore[attr-defined]
    assert (row.history_change_reason, row.history_user) == (REASON, counsel)


@pytest.mark.parametrize("label", tracked_admins())
def test_the_add_form_has_one_reason(label: str, counsel: Any, signed_in: SignIn) -> None:
    model = next(m for m in admin.site._registry if m._meta.label == label)

    page = signed_in(counsel).get(admin_url(model, "add"))

    if label in NO_ADD_FORM:
        assert page.status_code == 403, f"{label} has no add form: {NO_ADD_FORM[label]}"
        return
    assert page.status_code == 200
    assert read_form(page.content.decode(), model).reason_boxes == 1


def test_the_first_of_two_reason_boxes_was_the_one_thrown_away(
    counsel: Any, signed_in: SignIn
) -> None:
    """The bug as staff met it: the reason typed in the box they saw first."""
    obj = holiday()
    client = signed_in(counsel)
    form = read_form(
        client.get(admin_url(PublicHoliday, "change", obj.pk)).content.decode(), PublicHoliday
    )
    data = form.data()
    data[REASON_FIELD] = [REASON] + [""] * (len(data[REASON_FIELD]) - 1)

    client.post(admin_url(PublicHoliday, "change", obj.pk), data)

    assert obj.history.first().history_change_reason == REASON


# --- Inlines: rows saved by the same click carry the same reason.


def test_the_parents_reason_reaches_the_inline_rows_it_saves(
    counsel: Any, signed_in: SignIn
) -> None:
    request = audit_request()
    kept = request.findings.get()
    gone = AuditFinding(request=request, description="Weak TLS", disclosed_on=date(2026, 5, 3))
    gone.save()
    client = signed_in(counsel)
    url = admin_url(AuditRequest, "change", request.pk)
    data = read_form(client.get(url).content.decode(), AuditRequest).data()
    rows = {data[f"findings-{n}-id"][0]: n for n in range(2)}
    data[f"findings-{rows[str(kept.pk)]}-remediation"] = ["Firewalled on 2026-05-03"]
    data[f"findings-{rows[str(gone.pk)]}-DELETE"] = ["on"]
    data.update(
        {
            "findings-TOTAL_FORMS": ["3"],
            "findings-2-description": ["Backups unencrypted"],
            "findings-2-disclosed_on": ["2026-05-04"],
            "findings-2-request": [str(request.pk)],
        }
    )
    data[REASON_FIELD] = [REASON]

    response = client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    added = request.findings.get(description="Backups unencrypted")
    for finding in (kept, added):
        assert finding.history.first().history_change_reason == REASON
    deleted = AuditFinding.history.filter(id=gone.pk).first()
    assert (deleted.history_type, deleted.history_change_reason) == ("-", REASON)


def test_an_unchanged_inline_row_gets_no_history_row(counsel: Any, signed_in: SignIn) -> None:
    request = audit_request()
    finding = request.findings.get()
    client = signed_in(counsel)
    url = admin_url(AuditRequest, "change", request.pk)
    data = read_form(client.get(url).content.decode(), AuditRequest).data()
    data[REASON_FIELD] = [REASON]

    client.post(url, data)

    assert finding.history.count() == 1
    assert request.history.first().history_change_reason == REASON


def test_a_viewer_sees_no_reason_box(viewer: Any, signed_in: SignIn) -> None:
    obj = holiday()

    page = signed_in(viewer).get(admin_url(PublicHoliday, "change", obj.pk))

    assert read_form(page.content.decode(), PublicHoliday).reason_boxes == 0


def test_a_new_staff_account_keeps_the_reason(counsel: Any, signed_in: SignIn) -> None:
    client = signed_in(counsel)
    data = {
        "username": "erin",
        "password1": "a long enough passphrase 9",
        "password2": "a long enough passphrase 9",
        "usable_password": "true",
        REASON_FIELD: "Joined the privacy team",
    }

    response = client.post(admin_url(get_user_model(), "add"), data)

    assert response.status_code == 302, form_errors(response)
    user = get_user_model().objects.get(username="erin")
    assert user.history.get().history_change_reason == "Joined the privacy team"  # type: ignore[attr-defined]
