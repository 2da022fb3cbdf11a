"""The public Sub-Processor List and its machine-readable twins (S1)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from pypdf import PdfReader

from subprocessors.models import ChangeKind, SubProcessor, SubProcessorStatus
from tests.subprocessors.builders import make_change, make_subprocessor

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def listed() -> dict[str, object]:
    """Postmark and a retired processor; Stripe announced (notice out), Mailgun still going
    out; an old change whose notice period has ended; a draft."""
    postmark = make_subprocessor("Postmark", access_began_on=date(2024, 3, 1))
    old = make_subprocessor(
        "OldMail", status=SubProcessorStatus.RETIRED, access_began_on=date(2020, 1, 1)
    )
    stripe = make_subprocessor(
        "Stripe",
        status=SubProcessorStatus.ANNOUNCED,
        purpose="Payments",
        locations="Ireland",
        data_categories='=HYPERLINK("http://evil")',
    )
    mailgun = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    announced = make_change(
        stripe,
        summary="Stripe takes over card payments.",
        published_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
        notice_date=date(2026, 3, 2),
    )
    going_out = make_change(
        mailgun,
        kind=ChangeKind.REPLACEMENT,
        replaces=old,
        summary="Mailgun replaces OldMail.",
        published_at=datetime(2026, 3, 5, 15, tzinfo=UTC),
    )
    make_change(
        postmark,
        summary="Long past.",
        published_at=datetime(2024, 1, 1, 15, tzinfo=UTC),
        notice_date=date(2024, 1, 1),
    )
    make_change(make_subprocessor("Drafty", status=SubProcessorStatus.ANNOUNCED))
    return {"announced": announced, "going_out": going_out}


@pytest.fixture
def on_march_10():
    with time_machine.travel(datetime(2026, 3, 10, 14, tzinfo=UTC), tick=False):
        yield


@pytest.mark.usefixtures("on_march_10")
def test_the_list_shows_current_subprocessors_and_changes_in_their_notice_period(
    client: Client, listed, django_assert_max_num_queries
) -> None:
    # The list, the announced changes, and every listed sub-processor's countries (S7).
    with django_assert_max_num_queries(4):
        response = client.get("/sub-processors/")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    page = response.content.decode()
    assert "Postmark" in page
    assert "2024-03-01" in page
    assert "OldMail" not in page.split('id="current"')[1]
    assert "Stripe takes over card payments." in page
    assert "17 March 2026" in page  # 2 March + 15 days (S3)
    assert "Mailgun replaces OldMail." in page
    assert "notice still going out" in page
    assert "Long past." not in page
    assert "Drafty" not in page
    assert "style=" not in page
    assert "<script" not in page


def listed_as(client: Client, name: str) -> set[str]:
    """Where ``name`` is on the list today, as the page, the JSON and the CSV say."""
    page = client.get("/sub-processors/").content.decode()
    announced_html, current_html = page.split('id="current"')
    data = json.loads(client.get("/sub-processors.json").content)
    rows = csv.DictReader(io.StringIO(client.get("/sub-processors.csv").content.decode()))
    found = set()
    if name in announced_html.split('id="announced"')[1]:
        found.add("html announced")
    if name in current_html:
        found.add("html current")
    if any(c["subprocessor"]["name"] == name for c in data["announced_changes"]):
        found.add("json announced")
    if any(sp["name"] == name for sp in data["subprocessors"]):
        found.add("json current")
    for row in rows:
        if row["Name"] == name:
            found.add(f"csv {row['Listed as'].split()[0]}")
    return found


ANNOUNCED_EVERYWHERE = {"html announced", "json announced", "csv announced"}


@pytest.mark.parametrize("day", [16, 17, 18], ids=["day before", "day of", "day after"])
def test_rule_s1_an_announced_subprocessor_stays_listed_around_its_earliest_access_date(
    client: Client, listed, day: int
) -> None:
    """Stripe's earliest access date is 17 March; nobody has recorded that access began."""
    with time_machine.travel(datetime(2026, 3, day, 14, tzinfo=UTC), tick=False):
        assert listed_as(client, "Stripe") == ANNOUNCED_EVERYWHERE
        data = json.loads(client.get("/sub-processors.json").content)
    [stripe] = [c for c in data["announced_changes"] if c["subprocessor"]["name"] == "Stripe"]
    assert stripe["earliest_access_on"] == "2026-03-17"


def test_rule_s1_once_access_began_it_is_current_and_no_longer_announced(
    client: Client, listed
) -> None:
    stripe = SubProcessor.objects.get(name="Stripe")
    with time_machine.travel(datetime(2026, 3, 18, 14, tzinfo=UTC), tick=False):
        stripe.status = SubProcessorStatus.ACTIVE
        stripe.access_began_on = date(2026, 3, 18)
        stripe.save()
        assert listed_as(client, "Stripe") == {"html current", "json current", "csv current"}


def test_rule_s1_a_withdrawn_subprocessor_leaves_the_announced_changes(
    client: Client, listed
) -> None:
    stripe = SubProcessor.objects.get(name="Stripe")
    stripe.status = SubProcessorStatus.RETIRED
    stripe.save()
    with time_machine.travel(datetime(2026, 3, 18, 14, tzinfo=UTC), tick=False):
        assert listed_as(client, "Stripe") == set()


@pytest.mark.usefixtures("on_march_10")
def test_json_carries_the_same_data(client: Client, listed) -> None:
    response = client.get("/sub-processors.json")
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["generated_on"] == "2026-03-10"
    assert [sp["name"] for sp in data["subprocessors"]] == ["Postmark"]
    assert data["subprocessors"][0]["since"] == "2024-03-01"
    assert set(data["subprocessors"][0]) >= {"purpose", "locations", "data_categories"}
    changes = {c["subprocessor"]["name"]: c for c in data["announced_changes"]}
    assert set(changes) == {"Stripe", "Mailgun"}
    assert changes["Stripe"]["earliest_access_on"] == "2026-03-17"
    assert changes["Mailgun"]["earliest_access_on"] is None
    assert changes["Mailgun"]["replaces"] == "OldMail"


@pytest.mark.usefixtures("on_march_10")
def test_csv_carries_the_same_data_and_guards_formulas(client: Client, listed) -> None:
    response = client.get("/sub-processors.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_name = {row["Name"]: row for row in rows}
    assert set(by_name) == {"Postmark", "Stripe", "Mailgun"}
    assert by_name["Postmark"]["Listed as"] == "current"
    assert by_name["Postmark"]["Since"] == "2024-03-01"
    assert by_name["Stripe"]["Earliest access"] == "2026-03-17"
    assert by_name["Stripe"]["Data it touches"].startswith("'=")
    assert by_name["Mailgun"]["Earliest access"] == "notice still going out"
    assert by_name["Mailgun"]["Replaces"] == "OldMail"


@pytest.mark.usefixtures("on_march_10")
def test_pdf_carries_the_same_data(client: Client, listed) -> None:
    response = client.get("/sub-processors.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(
        " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
        ).split()
    )
    for expected in ("Postmark", "Stripe", "Mailgun", "2026-03-17", "notice still going out"):
        assert expected in text
    assert "Drafty" not in text


@pytest.mark.usefixtures("on_march_10")
def test_the_atom_feed_lists_published_changes(client: Client, listed) -> None:
    response = client.get("/sub-processors/changes.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == f"{ATOM}feed"
    titles = [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]
    assert titles == [
        "Replacement of OldMail by Mailgun",
        "Addition of Stripe",
        "Addition of Postmark",  # the change that admitted Postmark (S3)
        "Addition of Postmark",
    ]
    ids = [entry.findtext(f"{ATOM}id") for entry in root.iter(f"{ATOM}entry")]
    assert len(set(ids)) == 4
    summary = next(root.iter(f"{ATOM}entry")).findtext(f"{ATOM}summary")
    assert "still going out" in summary


def test_the_landing_page_links_the_area(client: Client) -> None:
    page = client.get("/").content.decode()
    assert 'href="/sub-processors/"' in page
    assert 'href="/sub-processors/notices/"' in page


@pytest.mark.usefixtures("on_march_10")
def test_rule_s4_each_announced_change_says_its_notice_date_and_until_when_to_object(
    client: Client, listed: dict[str, object]
) -> None:
    page = " ".join(client.get("/sub-processors/").content.decode().split())

    assert "<dt>Notice date</dt><dd>2 March 2026</dd>" in page
    assert "for a Notice received on 2 March 2026, until 9 March 2026" in page
    assert "Use the link in the Notice email, or write to" in page
    assert "mailto:legal@harmonyze.com" in page
