"""The law-enforcement demand admin (R4): counsel only, every view logged, the notice that an
ended non-disclosure order brings back, bad input refused, and no data-subject notice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.test import Client

from customers.models import Customer
from requests.admin_demands import LawEnforcementDemandAdmin
from requests.models import (
    DemandCustomer,
    DemandStep,
    DemandView,
    Disclosure,
    LawEnforcementDemand,
    LegalProcess,
    StepKind,
)
from tests.customers.builders import make_customer
from tests.downloads import body as content_of
from tests.requests.builders import make_demand

pytestmark = pytest.mark.django_db

BASE = "/admin/requests/lawenforcementdemand/"
# 09:00 in New York on 2026-05-15 (T1).
TODAY = datetime(2026, 5, 15, 13, 0, tzinfo=UTC)


# --- Who may open what.

PAGES = ("changelist", "add", "change", "history", "delete", "transparency", "views")
ALL_OK = dict.fromkeys(PAGES, 200)
ALL_REFUSED = dict.fromkeys(PAGES, 403)
EXPECTED = {
    "counsel": ALL_OK,
    "analyst": ALL_REFUSED,
    "viewer": ALL_REFUSED,
    "outsider": ALL_REFUSED,
}


def page_url(page: str, pk: int) -> str:
    return {
        "changelist": BASE,
        "add": f"{BASE}add/",
        "change": f"{BASE}{pk}/change/",
        "history": f"{BASE}{pk}/history/",
        "delete": f"{BASE}{pk}/delete/",
        "transparency": f"{BASE}transparency/?year=2026&half=1",
        "views": "/admin/requests/demandview/",
    }[page]


@pytest.mark.parametrize("person", list(EXPECTED))
def test_rule_r4_only_counsel_opens_demands(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], acme: Customer, person: str
) -> None:
    pk = make_demand(customers=(acme,)).pk
    client = signed_in(everyone[person])

    codes = {page: client.get(page_url(page, pk)).status_code for page in PAGES}

    assert codes == EXPECTED[person]


@pytest.mark.parametrize("person", ["analyst", "viewer", "outsider"])
def test_rule_r4_demands_are_not_in_the_admin_index_for_others(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    response = signed_in(everyone[person]).get("/admin/")

    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert response.status_code == 200
    assert not models & {"LawEnforcementDemand", "DemandView"}


def test_counsel_sees_demands_in_the_admin_index(counsel_client: Client) -> None:
    response = counsel_client.get("/admin/")

    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert {"LawEnforcementDemand", "DemandView"} <= models


def test_a_viewer_granted_the_permission_individually_can_open_a_demand(
    viewer: Any, signed_in: Callable[[Any], Client], acme: Customer
) -> None:
    viewer.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="requests", codename="view_lawenforcementdemand"
        )
    )
    demand = make_demand(customers=(acme,))
    client = signed_in(viewer)

    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}{demand.pk}/change/").status_code == 200
    assert client.get(f"{BASE}add/").status_code == 403
    assert client.get(f"{BASE}{demand.pk}/delete/").status_code == 403
    assert [(v.user, v.path) for v in DemandView.objects.order_by("pk")] == [
        (viewer, BASE),
        (viewer, f"{BASE}{demand.pk}/change/"),
    ]


# --- Every view is logged.


def test_opening_a_demand_logs_one_view_with_the_user(
    counsel: Any, counsel_client: Client, acme: Customer
) -> None:
    demand = make_demand(customers=(acme,))

    response = counsel_client.get(f"{BASE}{demand.pk}/change/")

    assert response.status_code == 200
    view = DemandView.objects.get()
    assert (view.demand, view.user, view.path) == (demand, counsel, f"{BASE}{demand.pk}/change/")
    assert view.history.get().history_actor == "staff: counsel"  # H1


def test_opening_a_demands_history_logs_a_view(counsel: Any, counsel_client: Client) -> None:
    demand = make_demand()

    response = counsel_client.get(f"{BASE}{demand.pk}/history/")

    assert response.status_code == 200
    view = DemandView.objects.get()
    assert (view.demand, view.user, view.path) == (demand, counsel, f"{BASE}{demand.pk}/history/")


def test_rule_r6_the_changelist_logs_a_view_of_each_demand_it_shows(
    counsel: Any, counsel_client: Client
) -> None:
    fbi = make_demand()
    berlin = make_demand(agency="Polizei Berlin", country="Germany")

    searched = counsel_client.get(BASE, {"q": "Berlin"})
    listed = counsel_client.get(BASE)

    assert [d.pk for d in searched.context["cl"].result_list] == [berlin.pk]
    assert listed.status_code == 200
    logged = [(v.demand, v.user, v.path) for v in DemandView.objects.order_by("demand_id", "pk")]
    assert logged == [
        (fbi, counsel, BASE),
        (berlin, counsel, f"{BASE}?q=Berlin"),
        (berlin, counsel, BASE),
    ]
    assert DemandView.history.filter(history_actor="staff: counsel").count() == 3  # H1


def test_a_refused_open_logs_no_view(analyst: Any, signed_in: Callable[[Any], Client]) -> None:
    demand = make_demand()

    assert signed_in(analyst).get(f"{BASE}{demand.pk}/change/").status_code == 403
    assert not DemandView.objects.exists()


def test_rule_r6_the_demand_delete_page_shows_the_demand_and_is_logged(
    counsel: Any, counsel_client: Client, acme: Customer
) -> None:
    """The confirmation page shows the demand and names the customers it concerns."""
    demand = make_demand(agency="U.S. Department of Justice", customers=(acme,))

    response = counsel_client.get(f"{BASE}{demand.pk}/delete/")

    assert response.status_code == 200
    assert b"U.S. Department of Justice" in response.content
    assert [(v.demand, v.user, v.path) for v in DemandView.objects.all()] == [
        (demand, counsel, f"{BASE}{demand.pk}/delete/")
    ]


def test_rule_r6_a_change_form_posted_back_with_errors_is_a_logged_view(
    counsel: Any, counsel_client: Client
) -> None:
    """Re-rendered with its errors, the form shows the demand as the GET does; a successful
    post (a redirect) shows nothing."""
    demand = make_demand(agency="U.S. Department of Justice")
    url = f"{BASE}{demand.pk}/change/"

    response = counsel_client.post(url, {"agency": ""})

    assert response.status_code == 200
    assert b"U.S. Department of Justice" in response.content
    assert [(v.demand, v.user, v.path) for v in DemandView.objects.all()] == [
        (demand, counsel, url)
    ]


def test_rule_r6_the_delete_selected_confirmation_logs_each_demand_it_lists(
    counsel: Any, counsel_client: Client
) -> None:
    fbi = make_demand()
    berlin = make_demand(agency="Polizei Berlin", country="Germany")

    response = counsel_client.post(
        BASE, {"action": "delete_selected", "_selected_action": [fbi.pk, berlin.pk]}
    )

    assert response.status_code == 200
    assert b"Polizei Berlin" in response.content
    assert {(v.demand, v.user, v.path) for v in DemandView.objects.all()} == {
        (fbi, counsel, BASE),
        (berlin, counsel, BASE),
    }


@pytest.mark.parametrize("person", ["analyst", "viewer"])
def test_rule_r6_a_refused_delete_page_logs_no_view(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    demand = make_demand()

    assert signed_in(everyone[person]).get(f"{BASE}{demand.pk}/delete/").status_code == 403
    assert not DemandView.objects.exists()


def test_rule_r6_reading_the_view_log_is_a_logged_view_of_the_demands_it_names(
    counsel: Any, counsel_client: Client
) -> None:
    """The log names each demand (agency, date): its list, a row's page and its History are
    views of those demands too."""
    fbi = make_demand()
    berlin = make_demand(agency="Polizei Berlin", country="Germany")
    counsel_client.get(BASE)  # one view of each
    fbi_view = DemandView.objects.get(demand=fbi)
    log = "/admin/requests/demandview/"
    pages = [log, f"{log}{fbi_view.pk}/change/", f"{log}{fbi_view.pk}/history/"]

    for page in pages:
        assert counsel_client.get(page).status_code == 200

    logged = [(v.demand, v.path) for v in DemandView.objects.exclude(path=BASE).order_by("pk")]
    assert sorted(logged, key=lambda row: (row[1], row[0].pk)) == sorted(
        [(fbi, log), (berlin, log), (fbi, pages[1]), (fbi, pages[2])],
        key=lambda row: (row[1], row[0].pk),
    )


def test_the_view_log_is_read_only(counsel_client: Client) -> None:
    demand = make_demand()
    counsel_client.get(f"{BASE}{demand.pk}/change/")
    view = DemandView.objects.get()

    assert counsel_client.get("/admin/requests/demandview/add/").status_code == 403
    assert counsel_client.get(f"/admin/requests/demandview/{view.pk}/delete/").status_code == 403
    response = counsel_client.post(
        f"/admin/requests/demandview/{view.pk}/change/", {"path": "/elsewhere/"}
    )
    assert response.status_code == 403
    view.refresh_from_db()
    assert view.path == f"{BASE}{demand.pk}/change/"


# --- "Customer notice now due" (R4): an ended order brings the notice back.


@pytest.fixture
def notice_book(db: None) -> dict[str, LawEnforcementDemand]:
    compelled = {"compelled": True, "legal_process": LegalProcess.COURT_ORDER}
    order = {"nondisclosure_order": True, "nondisclosure_order_starts": date(2026, 3, 1)}
    return {
        "ended yesterday": make_demand(
            agency="Ended yesterday",
            nondisclosure_order_ends=date(2026, 5, 14),
            **compelled,
            **order,
        ),
        "ends today": make_demand(
            agency="Ends today", nondisclosure_order_ends=date(2026, 5, 15), **compelled, **order
        ),
        "ends tomorrow": make_demand(
            agency="Ends tomorrow", nondisclosure_order_ends=date(2026, 5, 16), **compelled, **order
        ),
        "no end date": make_demand(agency="No end date", **compelled, **order),
        "no order": make_demand(agency="No order", **compelled),
        "notified": make_demand(
            agency="Notified",
            customer_notified_on=date(2026, 5, 1),
            customer_notified_to="privacy@acme.com",
            **compelled,
        ),
        "not compelled": make_demand(
            agency="Not compelled", redirect_attempted_on=date(2026, 3, 3)
        ),
    }


@time_machine.travel(TODAY, tick=False)
def test_rule_r4_customer_notice_now_due_filter(
    notice_book: dict[str, LawEnforcementDemand], counsel_client: Client
) -> None:
    response = counsel_client.get(f"{BASE}?notice=due")

    assert response.status_code == 200
    assert {d.agency for d in response.context["cl"].result_list} == {
        "Ended yesterday",
        "No order",
    }
    assert "Customer notice now due" in response.content.decode()


def test_rule_r4_the_notice_reappears_the_day_after_the_order_ends(
    notice_book: dict[str, LawEnforcementDemand], counsel_client: Client
) -> None:
    with time_machine.travel(datetime(2026, 5, 16, 13, 0, tzinfo=UTC), tick=False):
        listed = {
            d.agency for d in counsel_client.get(f"{BASE}?notice=due").context["cl"].result_list
        }
    assert listed == {"Ended yesterday", "Ends today", "No order"}


# --- Bad input: refused on the field it concerns, nothing saved.


def inline(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    """An inline formset's POST data: its management form and one row per dict."""
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def form_data(customer: Customer, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agency": "FBI Seattle Field Office",
        "country": "United States",
        "legal_process": LegalProcess.SEARCH_WARRANT,
        "received_on": "2026-03-02",
        **inline("customer_links", [{"customer": customer.pk}]),
        **inline("steps", []),
        "data_sought": "Messages of one user",
        "redirect_attempted_on": "2026-03-03",
        "redirect_contact": "privacy@acme.com",
        "contact_details_given": "on",
        "compelled": "on",
        "nondisclosure_order_starts": "",
        "nondisclosure_order_ends": "",
        "customer_notified_on": "",
        "customer_notified_to": "",
        "challenge_note": "",
        "disclosure": Disclosure.PENDING,
        "disclosed_on": "",
        "notes": "",
        "change_reason": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"disclosure": Disclosure.PART, "disclosed_on": "2026-04-01"},
            "disclosed_on",
            "Notify the customer before disclosing anything",
        ),
        (
            {
                "disclosure": Disclosure.ALL,
                "disclosed_on": "2026-04-01",
                "customer_notified_on": "2026-04-02",
                "customer_notified_to": "privacy@acme.com",
            },
            "disclosed_on",
            "The customer was notified after the disclosure.",
        ),
        (
            {
                "nondisclosure_order": "on",
                "nondisclosure_order_starts": "2026-03-10",
                "nondisclosure_order_ends": "2026-03-09",
            },
            "nondisclosure_order_ends",
            "The order cannot end before it starts.",
        ),
        (
            {"nondisclosure_order": "on"},
            "nondisclosure_order_starts",
            "When does the order start?",
        ),
        (
            {
                "compelled": None,
                "disclosure": Disclosure.ALL,
                "disclosed_on": "2026-04-01",
                "customer_notified_on": "2026-03-20",
                "customer_notified_to": "privacy@acme.com",
            },
            "compelled",
            "Harmonyze discloses nothing voluntarily",
        ),
        (
            {
                "disclosure": Disclosure.PART,
                "customer_notified_on": "2026-03-20",
                "customer_notified_to": "privacy@acme.com",
            },
            "disclosed_on",
            "Record when the data was disclosed.",
        ),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(
    counsel_client: Client, acme: Customer, overrides: dict[str, str], field: str, message: str
) -> None:
    response = counsel_client.post(f"{BASE}add/", form_data(acme, **overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert any(message in error for error in errors[field])
    assert not LawEnforcementDemand.objects.exists()
    assert not LawEnforcementDemand.history.exists()


def test_a_good_demand_is_saved_with_its_reason(counsel_client: Client, acme: Customer) -> None:
    response = counsel_client.post(
        f"{BASE}add/",
        form_data(
            acme,
            nondisclosure_order="on",
            nondisclosure_order_starts="2026-03-05",
            nondisclosure_order_ends="2026-09-05",
            disclosure=Disclosure.PART,
            disclosed_on="2026-04-01",
            change_reason="Warrant served at the Seattle office",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    demand = LawEnforcementDemand.objects.get()
    assert list(demand.customers.all()) == [acme]
    assert demand.outcome == "some disclosed"
    assert demand.history.get().history_change_reason == "Warrant served at the Seattle office"


@pytest.mark.parametrize(
    "fields",
    [
        {
            "nondisclosure_order_starts": date(2026, 3, 10),
            "nondisclosure_order_ends": date(2026, 3, 9),
        },
        {"compelled": True, "disclosure": Disclosure.ALL, "disclosed_on": date(2026, 4, 1)},
        {
            "compelled": True,
            "disclosure": Disclosure.ALL,
            "disclosed_on": date(2026, 4, 1),
            "customer_notified_on": date(2026, 4, 2),
        },
    ],
)
def test_the_database_refuses_what_clean_would_have_caught(fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_demand(**fields)
    assert not LawEnforcementDemand.objects.exists()


# --- DPA 3.2.4: only the customer is notified, never the data subjects.


def test_no_action_or_button_notifies_data_subjects(counsel_client: Client, acme: Customer) -> None:
    demand = make_demand(customers=(acme,))
    changelist = counsel_client.get(BASE)
    change = counsel_client.get(f"{BASE}{demand.pk}/change/")

    actions = changelist.context["action_form"].fields["action"].choices
    labels = " ".join(str(label) for _, label in actions).lower()
    assert "subject" not in labels
    assert "notify" not in labels
    assert not any("subject" in name for name in dir(LawEnforcementDemandAdmin))
    for page in (changelist, change):
        html = page.content.decode().lower()
        assert "notify data subject" not in html
        assert "notify the data subject" not in html


# --- H1: the Customers a demand concerns, and its SCC Clause 15 steps, are history.


def edit_data(demand: LawEnforcementDemand, **overrides: Any) -> dict[str, Any]:
    """The change form as the page sends it back: the demand's fields and its inlines."""
    links = list(demand.customer_links.order_by("pk"))
    data = form_data(links[0].customer if links else make_customer("Unused Ltd"), **overrides)
    data.update(
        inline(
            "customer_links",
            [{"id": link.pk, "demand": demand.pk, "customer": link.customer_id} for link in links],
            initial=len(links),
        )
    )
    return data


def test_rule_h1_a_customer_added_and_removed_in_the_admin_is_history(
    counsel_client: Client, acme: Customer, globex: Customer
) -> None:
    counsel_client.post(f"{BASE}add/", form_data(acme, change_reason="Warrant served"))
    demand = LawEnforcementDemand.objects.get()
    link = demand.customer_links.get()

    data = edit_data(demand, change_reason="Globex named in the amended warrant")
    data.update(
        {
            "customer_links-TOTAL_FORMS": "2",
            "customer_links-0-DELETE": "on",
            "customer_links-1-customer": globex.pk,
        }
    )
    response = counsel_client.post(f"{BASE}{demand.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(demand.customers.all()) == [globex]
    rows = [
        (row.history_type, row.customer_id, row.history_actor, row.history_change_reason)
        for row in DemandCustomer.history.order_by("history_id")
    ]
    assert rows == [
        ("+", acme.pk, "staff: counsel", "Warrant served"),
        ("-", acme.pk, "staff: counsel", "Globex named in the amended warrant"),
        ("+", globex.pk, "staff: counsel", "Globex named in the amended warrant"),
    ]
    assert DemandCustomer.history.filter(id=link.pk, history_type="-").exists()

    page = counsel_client.get(f"{BASE}{demand.pk}/history/").content.decode()
    assert "Customers concerned and SCC Clause 15 steps" in page
    assert page.count("Customer concerned: Acme Analytics GmbH") == 2  # added, removed
    assert "Removed" in page
    assert "Customer concerned: Globex Corporation Ltd" in page

    export = counsel_client.get(
        "/admin/history/export/", {"model": "requests.demandcustomer"}
    ).getvalue()
    lines = export.decode().splitlines()
    assert any(",created,Customer,,Acme Analytics GmbH," in line for line in lines)
    assert any(",deleted,Customer,Acme Analytics GmbH,," in line for line in lines)


def test_rule_r4_scc_steps_are_recorded_in_the_admin_with_the_reason(
    counsel: Any, counsel_client: Client, acme: Customer
) -> None:
    demand = make_demand(
        customers=(acme,),
        compelled=True,
        nondisclosure_order=True,
        nondisclosure_order_starts=date(2026, 3, 2),
    )
    assert demand.order_review_due_on == date(2026, 5, 31)
    data = edit_data(demand, change_reason="Counsel's review after service")
    data.update(
        {
            "compelled": "on",
            "nondisclosure_order": "on",
            "nondisclosure_order_starts": "2026-03-02",
            **inline(
                "steps",
                [
                    {
                        "kind": StepKind.LEGALITY_REVIEW,
                        "taken_on": "2026-03-04",
                        "note": "Issued by a competent court; scope is two accounts.",
                    },
                    {
                        "kind": StepKind.LIFT_ORDER,
                        "taken_on": "2026-03-10",
                        "note": "Asked the prosecutor to agree to a waiver.",
                    },
                ],
            ),
        }
    )

    response = counsel_client.post(f"{BASE}{demand.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert [(s.kind, s.taken_on) for s in demand.steps.all()] == [
        (StepKind.LEGALITY_REVIEW, date(2026, 3, 4)),
        (StepKind.LIFT_ORDER, date(2026, 3, 10)),
    ]
    for step in demand.steps.all():
        row = step.history.get()
        assert (row.history_actor, row.history_change_reason) == (
            "staff: counsel",
            "Counsel's review after service",
        )
    demand.refresh_from_db()
    assert demand.order_review_due_on == date(2026, 6, 8)  # moved by the effort to lift it
    page = counsel_client.get(f"{BASE}{demand.pk}/history/").content.decode()
    assert "Effort to lift the non-disclosure order (SCC 15.1(b)) on 2026-03-10" in page


def test_rule_r4_a_step_without_a_note_is_refused_in_the_admin(
    counsel_client: Client, acme: Customer
) -> None:
    demand = make_demand(customers=(acme,))
    data = edit_data(demand)
    data.update(inline("steps", [{"kind": StepKind.CHALLENGE, "taken_on": "2026-03-04"}]))

    response = counsel_client.post(f"{BASE}{demand.pk}/change/", data)

    assert response.status_code == 200
    assert not DemandStep.objects.exists()


@pytest.mark.parametrize("person", ["analyst", "viewer"])
def test_rule_r4_only_counsel_records_links_and_steps(
    everyone: dict[str, Any], signed_in: Callable[[Any], Client], acme: Customer, person: str
) -> None:
    demand = make_demand(customers=(acme,))
    data = edit_data(demand)
    data.update(
        inline("steps", [{"kind": StepKind.CHALLENGE, "taken_on": "2026-03-04", "note": "x"}])
    )

    client = signed_in(everyone[person])
    assert client.post(f"{BASE}{demand.pk}/change/", data).status_code == 403
    assert client.post(f"{BASE}add/", form_data(acme)).status_code == 403
    assert LawEnforcementDemand.objects.get() == demand
    assert not DemandStep.objects.exists()
    assert DemandCustomer.history.count() == 1


# --- R6: every showing of a demand's data is logged; its exports are counsel's.


def _logged(path_part: str) -> set[int]:
    return {v.demand_id for v in DemandView.objects.filter(path__contains=path_part)}


@time_machine.travel(TODAY, tick=False)
def test_rule_r6_the_dashboard_and_its_exports_log_the_demands_shown(
    counsel: Any, counsel_client: Client, acme: Customer
) -> None:
    shown = make_demand(customers=(acme,), compelled=True, received_on=date(2026, 5, 10))
    make_demand(customers=(acme,), received_on=date(2026, 5, 10))  # no deadline: not shown

    assert counsel_client.get("/admin/").status_code == 200
    assert counsel_client.get("/admin/deadlines.csv").status_code == 200
    assert counsel_client.get("/admin/deadlines.xlsx").status_code == 200

    views = [(v.demand_id, v.user, v.path) for v in DemandView.objects.order_by("pk")]
    assert views == [
        (shown.pk, counsel, "/admin/"),
        (shown.pk, counsel, "/admin/deadlines.csv"),
        (shown.pk, counsel, "/admin/deadlines.xlsx"),
    ]


@time_machine.travel(TODAY, tick=False)
def test_rule_r6_the_transparency_report_logs_the_demands_it_counts(
    counsel_client: Client, acme: Customer
) -> None:
    counted = make_demand(customers=(acme,), received_on=date(2026, 3, 2))
    make_demand(customers=(acme,), received_on=date(2025, 12, 31))  # another half-year

    for query in ("", "&format=csv", "&format=pdf"):
        assert counsel_client.get(f"{BASE}transparency/?year=2026&half=1{query}").status_code == 200

    assert _logged("transparency") == {counted.pk}
    assert DemandView.objects.count() == 3


@pytest.mark.parametrize(
    "model",
    [
        "requests.lawenforcementdemand",
        "requests.demandcustomer",
        "requests.demandstep",
        "requests.demandview",
    ],
)
def test_rule_r6_the_history_export_of_a_demand_model_logs_the_demands_in_it(
    counsel_client: Client, acme: Customer, model: str
) -> None:
    demand = make_demand(
        customers=(acme,),
        nondisclosure_order=True,
        nondisclosure_order_starts=date(2026, 3, 2),
    )
    DemandStep(
        demand=demand, kind=StepKind.LEGALITY_REVIEW, taken_on=date(2026, 3, 3), note="x"
    ).save()
    counsel_client.get(f"{BASE}{demand.pk}/change/")  # a view to export
    other = make_demand(agency="Not exported")

    response = counsel_client.get(
        "/admin/history/export/",
        {"model": model, **({"record": demand.pk} if model.endswith("demand") else {})},
    )

    assert response.status_code == 200
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert _logged("history/export") == {demand.pk}
    assert other.pk not in _logged("")


@time_machine.travel(TODAY, tick=False)
def test_rule_r6_exports_of_demand_data_are_counsels_alone(
    viewer: Any, signed_in: Callable[[Any], Client], acme: Customer
) -> None:
    """A viewer granted the demand permissions one by one may read a demand in the portal,
    but no file carries one out: the transparency exports refuse, the dashboard's is sealed."""
    for codename in ("view_lawenforcementdemand", "view_demand_history"):
        viewer.user_permissions.add(
            Permission.objects.get(content_type__app_label="requests", codename=codename)
        )
    make_demand(customers=(acme,), compelled=True, received_on=date(2026, 5, 10))
    client = signed_in(viewer)

    assert client.get(f"{BASE}transparency/?year=2026&half=1").status_code == 200
    assert client.get(f"{BASE}transparency/?year=2026&half=1&format=csv").status_code == 403
    assert client.get(f"{BASE}transparency/?year=2026&half=1&format=pdf").status_code == 403
    page = client.get("/admin/").content.decode()
    export = content_of(client.get("/admin/deadlines.csv")).decode()

    assert "FBI Seattle Field Office" in page  # inside the portal: shown, and logged
    assert "FBI Seattle Field Office" not in export
    assert "Acme" not in export
    assert "lawenforcementdemand" not in export
    assert "1 restricted item — sign in" in export


def test_rule_r4_an_effort_to_lift_an_order_needs_the_order_in_the_same_form(
    counsel_client: Client, acme: Customer
) -> None:
    step = {"kind": StepKind.LIFT_ORDER, "taken_on": "2026-03-04", "note": "Asked for a waiver"}
    without = form_data(acme) | inline("steps", [step])
    with_order = without | {"nondisclosure_order": "on", "nondisclosure_order_starts": "2026-03-02"}

    refused = counsel_client.post(f"{BASE}add/", without)
    saved = counsel_client.post(f"{BASE}add/", with_order)

    assert refused.status_code == 200
    assert "There is no non-disclosure order to lift" in refused.content.decode()
    assert saved.status_code == 302
    demand = LawEnforcementDemand.objects.get()
    assert demand.order_review_due_on == date(2026, 6, 2)  # 2026-03-04 + 90 days


def test_opening_an_old_version_of_a_demand_logs_a_view(
    counsel: Any, counsel_client: Client, acme: Customer
) -> None:
    demand = make_demand(customers=(acme,))
    version = demand.history.get()

    response = counsel_client.get(f"{BASE}{demand.pk}/history/{version.history_id}/")

    assert response.status_code == 200
    assert [(v.demand, v.user) for v in DemandView.objects.all()] == [(demand, counsel)]
