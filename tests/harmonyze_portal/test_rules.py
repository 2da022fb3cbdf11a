"""Every rule explained where it is shown (DOMAIN.md T5): the rules page, read from
docs/rules.md, and the rule IDs on the desk, the lists, the change pages, the exports, the
calendar and the digest."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import icalendar
import pytest
import time_machine
from django.template import Context, Template
from django.test import Client
from django.utils.safestring import mark_safe

from customers.models import Customer
from harmonyze_portal import rules
from harmonyze_portal.desk import deadline_items
from harmonyze_portal.digest import Digest
from harmonyze_portal.models import CalendarFeed
from tests.downloads import body
from tests.harmonyze_portal.test_desk import NOW, TODAY, c6, r4
from tests.test_rules_doc import EXPECTED

C6_TITLE = "C6. Customers&#x27; requests for assistance are tracked (DPA 8; DPA 7; DPA 5.3)"


def render(template: str, **context: Any) -> str:
    return Template("{% load portal_rules %}" + template).render(Context(context))


def test_every_rule_of_the_document_is_read_with_its_title_meaning_and_clauses() -> None:
    parsed = rules.all_rules()
    assert set(parsed) == EXPECTED
    c3 = parsed["C3"]
    assert c3.title == "Delete customer data within 90 days of termination"
    assert c3.group == "Customers and their DPAs"
    assert c3.meaning.startswith("Deletion is due on the termination date + 90 days.")
    assert [q.clause for q in c3.quotes] == ["DPA 9"]
    assert c3.quotes[0].text.startswith("Customer instructs Harmonize to delete")
    assert parsed["R4"].clauses == "PP 5; DPA 3.2.4; SCC Clause 15.1(b); SCC Clause 15.2(a)" + (
        "; SCC Clause 15.2(b); SCC Clause 15.2(c)"
    )
    # The last rule of a group stops at the next group's heading.
    assert "Sub-processors" not in parsed["C9"].meaning


def test_explain_gives_the_meaning_and_clause_in_text() -> None:
    assert rules.explain("C3") == ("C3 (Delete customer data within 90 days of termination, DPA 9)")
    assert rules.explain("Z9") == "Z9"
    assert rules.explain("") == ""


def test_the_rule_filter_links_each_id_to_its_anchor_with_its_meaning() -> None:
    html = render("{{ value|rule }}", value="Due (C6)")
    assert html == (
        f'Due (<a class="rule-link" href="/staff/rules/#C6"><abbr title="{C6_TITLE}">C6</abbr></a>)'
    )
    both = render("{{ value|rule }}", value="R1/R3")
    assert 'href="/staff/rules/#R1"' in both
    assert 'href="/staff/rules/#R3"' in both


def test_the_rule_filter_escapes_text_and_keeps_safe_markup() -> None:
    assert render("{{ value|rule }}", value="<b>C9</b> & C0") == (
        '&lt;b&gt;<a class="rule-link" href="/staff/rules/#C9"><abbr title="C9. Legal holds '
        '(DPA 9)">C9</abbr></a>&lt;/b&gt; &amp; C0'
    )
    marked = mark_safe('<input type="checkbox" id="C3"> see C3')
    html = render("{{ value|rule_abbr }}", value=marked)
    assert html.startswith('<input type="checkbox" id="C3"> see <abbr title="C3. Delete')
    assert "rule-link" not in html  # a header is already a link: no link inside a link


def test_text_outputs_carry_the_meaning(counsel: Any, acme: Customer) -> None:
    assert render("{{ value|rule_text }}", value="C4") == (
        "C4 (Purge credentials within 30 days of termination, PP 4)"
    )


@pytest.mark.parametrize("role", ["counsel", "analyst", "viewer", "outsider"])
def test_the_rules_page_is_for_staff_with_an_anchor_and_quote_per_rule(
    role: str, everyone: dict[str, Any], signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(everyone[role]).get("/staff/rules/")
    assert response.status_code == 200
    html = response.content.decode()
    for rule in EXPECTED:
        assert f'<section id="{rule}" class="rule">' in html
    assert "Customer may object to changes to the Sub-Processor List within seven days" in html
    assert "— DPA 5.1" in html
    assert '<div class="breadcrumbs"><a href="/admin/">Home</a> › Rules</div>' in html


def test_the_rules_page_needs_a_staff_sign_in(db: None) -> None:
    response = Client().get("/staff/rules/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_dashboard_explains_each_rule_it_shows(
    signed_in: Callable[[Any], Client], counsel: Any, acme: Customer
) -> None:
    c6(acme, TODAY + timedelta(days=2), False)
    with time_machine.travel(NOW, tick=False):
        html = signed_in(counsel).get("/admin/").content.decode()
    assert (
        '<td class="desk-rule"><a class="rule-link" href="/staff/rules/#C6">'
        f'<abbr title="{C6_TITLE}">' in html
    )
    assert '<a href="/staff/rules/">Rules</a>' in html  # and the page is a click away


def test_a_change_list_header_and_a_help_text_explain_their_rule(
    signed_in: Callable[[Any], Client], counsel: Any, acme: Customer
) -> None:
    client = signed_in(counsel)
    listing = client.get("/admin/customers/customer/").content.decode()
    assert '">Deletion due (<abbr title="C3. Delete customer data within 90 days' in listing
    change = client.get(f"/admin/customers/customer/{acme.pk}/change/").content.decode()
    assert 'before the 30 days ran out (<a class="rule-link" href="/staff/rules/#C4">' in change


def test_the_export_carries_each_rule_meaning(
    signed_in: Callable[[Any], Client], counsel: Any, acme: Customer
) -> None:
    c6(acme, TODAY + timedelta(days=2), False)
    with time_machine.travel(NOW, tick=False):
        response = signed_in(counsel).get("/admin/deadlines.csv")
    header, row = list(csv.reader(io.StringIO(body(response).decode())))
    assert header[2:4] == ["Rule", "Rule meaning"]
    assert row[2:4] == [
        "C6",
        "C6 (Customers' requests for assistance are tracked, DPA 8; DPA 7; DPA 5.3)",
    ]


def test_the_digest_explains_the_rules_it_cites_and_no_restricted_one(
    counsel: Any, acme: Customer
) -> None:
    c6(acme, TODAY + timedelta(days=2), False)
    r4(acme, TODAY + timedelta(days=3), False)
    items = deadline_items(counsel, TODAY, end=TODAY + timedelta(days=6)).sealed().items
    body = Digest(today=TODAY, overdue=[], this_week=items).body()
    rules_part = body.split("Rules cited:")[1]
    assert "- C6 (Customers' requests for assistance are tracked, DPA 8; DPA 7; DPA 5.3)" in (
        rules_part
    )
    assert "R4" not in body  # R6: a sealed line names no rule


def test_the_calendar_event_explains_its_rule(counsel: Any, acme: Customer) -> None:
    c6(acme, TODAY + timedelta(days=2), False)
    _, token = CalendarFeed.issue(counsel)
    with time_machine.travel(NOW, tick=False):
        response = Client().get("/staff/calendar.ics", {"token": token})
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert "rule C6 (Customers' requests for assistance are tracked" in str(event["description"])
