"""Review of issue 11: attempts to break S3/S1, R6, H1 and the T4/R1/R2/R3 guarantees on paths
the implementation's own tests do not try. Each test fails on the merged code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from harmonyze_portal.models import PublicHoliday
from requests.models import DSRStatus, Outcome, Role
from tests.requests.builders import make_demand, make_dsr

pytestmark = pytest.mark.django_db


# --- T4/R3: a closed request keeps the deadlines it was closed with ----------------------------


@time_machine.travel(datetime(2026, 9, 1, 15, tzinfo=UTC), tick=False)
def test_rule_t4_a_closed_request_is_not_recomputed_when_it_is_saved_again() -> None:
    """Removing a closure day recomputes *open* requests only; but any later save of a closed
    request (a note, a typo fixed) silently recomputes its stored deadlines against today's
    calendar, rewriting the dates it was answered against."""
    # GDPR: received Fri 2026-03-06, one month -> Mon 2026-04-06 is Easter Monday in Ireland
    # -> moves to Tue 2026-04-07. A closure day on 2026-04-07 moves it to Wed 2026-04-08.
    PublicHoliday(date=date(2026, 4, 7), name="Office closed").save()
    dsr = make_dsr(received=date(2026, 3, 6))
    assert dsr.respond_by == date(2026, 4, 8)
    dsr.status = DSRStatus.CLOSED
    dsr.role = Role.CONTROLLER
    dsr.outcome = Outcome.DENIED
    dsr.denial_reason = "Not a customer"
    dsr.save()

    PublicHoliday.objects.get(date=date(2026, 4, 7)).delete()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)  # closed: untouched by the recompute (holds)

    dsr.reply = "Typo fixed in the reply"
    dsr.save()
    dsr.refresh_from_db()
    assert dsr.respond_by == date(2026, 4, 8)


# --- R2: an agent's request --------------------------------------------------------------------


def test_rule_r2_an_agent_known_by_email_only_needs_proof_before_fulfilled() -> None:
    """R2: an agent's request is not closed as fulfilled before a proof of authority is on
    file. The check keys on agent_name; an agent recorded by email alone passes."""
    dsr = make_dsr(agent_email="agent@optout.example")
    dsr.role = Role.CONTROLLER
    dsr.status = DSRStatus.CLOSED
    dsr.outcome = Outcome.FULFILLED
    dsr.verification_method = "account_email"
    dsr.verified_on = date(2026, 3, 3)
    with pytest.raises(ValidationError):
        dsr.save()


# --- A1: the yearly entitlement whatever the order of entry --------------------------------------


def test_rule_a1_a_yearly_audit_entered_before_an_existing_one_is_judged_against_it() -> None:
    """A1: two yearly audits may not start within twelve months of each other. Entitlement
    looks only at yearly audits starting on or before the new one, and the stored flag of the
    later one is not recomputed, so entering the earlier audit second leaves both entitled."""
    from tests.audits.builders import make_audit_request
    from tests.customers.builders import make_customer

    acme = make_customer("Acme")
    june = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 6, 1))
    assert june.entitled is True
    march = make_audit_request(acme, received=date(2026, 1, 10), start=date(2026, 3, 1))
    june.refresh_from_db()
    assert not (march.entitled and june.entitled), (
        "two yearly audits three months apart are both marked within the yearly entitlement"
    )


# --- R6: every view of a demand's data is logged --------------------------------------------------


def test_rule_r6_the_demand_delete_page_shows_the_demand_and_is_logged(
    counsel: Any, signed_in: Any
) -> None:
    """The delete confirmation page shows the demand (agency, process, date) and its customer
    links by name; it is a view of the demand's data inside the portal, and is not logged."""
    from requests.models import DemandView
    from tests.customers.builders import make_customer

    demand = make_demand(agency="U.S. Department of Justice", customers=(make_customer("Acme"),))
    client = signed_in(counsel)
    response = client.get(f"/admin/requests/lawenforcementdemand/{demand.pk}/delete/")
    assert response.status_code == 200
    assert b"U.S. Department of Justice" in response.content
    assert DemandView.objects.filter(demand=demand).exists()


def test_rule_r6_a_change_form_posted_back_with_errors_is_a_logged_view(
    counsel: Any, signed_in: Any
) -> None:
    """A POST that fails validation re-renders the whole demand (agency, customers, notes):
    a view of the data like the GET, but only GETs are logged."""
    from requests.models import DemandView

    demand = make_demand(agency="U.S. Department of Justice")
    client = signed_in(counsel)
    url = f"/admin/requests/lawenforcementdemand/{demand.pk}/change/"
    response = client.post(url, {"agency": ""})
    assert response.status_code == 200
    assert b"U.S. Department of Justice" in response.content
    assert DemandView.objects.filter(demand=demand).exists()
