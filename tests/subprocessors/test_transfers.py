"""S7 (DPA 5.2, 5.3; PP 5): agreements with their flow-down check, processing countries and
transfer mechanisms, counsel's acknowledgement before a change outside the United States is
published, the countries on the public list, and the copies a customer may ask for (C6)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from customers.models import AssistanceRequest, Customer
from customers.models.assistance import AssistanceKind
from harmonyze_portal.desk import deadline_items
from harmonyze_portal.history import acting_as
from subprocessors.locations import ProcessingLocation, TransferMechanism
from subprocessors.models import (
    Change,
    ChangeStatus,
    Delivery,
    SignupStatus,
    SubProcessor,
    SubProcessorStatus,
)
from subprocessors.services import change_publish
from tests.subprocessors.builders import (
    NO_LOCATIONS,
    agreement_checker,
    make_change,
    make_signup,
    make_subprocessor,
    record_agreement,
)

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
REASON = "Snowflake's EU region is covered by the SCCs; the Privacy Policy is being updated."


def in_ireland(name: str = "Snowflake") -> SubProcessor:
    """An announced sub-processor processing data in Ireland under the SCCs."""
    sp = make_subprocessor(name, status=SubProcessorStatus.ANNOUNCED, locations="Ireland (Dublin)")
    ProcessingLocation(
        subprocessor=sp, country="IE", transfer_mechanism=TransferMechanism.SCCS, details="Dublin"
    ).save()
    return sp


def publish(client: Client, change: Change, reason: str | None = None) -> Any:
    data: dict[str, Any] = {
        "action": "publish",
        "_selected_action": [change.pk],
        "confirm": "Publish",
    }
    if reason is not None:
        data["reason"] = reason
    return client.post("/admin/subprocessors/change/", data, follow=True)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Processing locations: the transfer mechanism outside the United States (S7).


def test_rule_s7_a_country_outside_the_us_needs_a_transfer_mechanism(db: None) -> None:
    sp = make_subprocessor("Snowflake", status=SubProcessorStatus.ANNOUNCED, locations="Ireland")
    location = ProcessingLocation(subprocessor=sp, country="IE")

    with pytest.raises(ValidationError, match="needs a transfer mechanism"):
        location.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        location.save()  # the database refuses what skips clean()


def test_rule_s7_the_us_takes_no_transfer_mechanism(db: None) -> None:
    sp = make_subprocessor("Snowflake", status=SubProcessorStatus.ANNOUNCED, locations="Oregon")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessingLocation(
            subprocessor=sp, country="US", transfer_mechanism=TransferMechanism.DPF
        ).save()
    ProcessingLocation(subprocessor=sp, country="US").save()
    ProcessingLocation(subprocessor=sp, country="GB", transfer_mechanism="uk_idta").save()

    assert sp.countries() == ["GB", "US"]
    assert sp.countries_outside_us() == ["GB"]


def test_rule_s7_the_admin_inline_refuses_a_country_without_mechanism(
    analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    sp = make_subprocessor(
        "Snowflake", status=SubProcessorStatus.ANNOUNCED, locations="Ireland", complete=False
    )
    data = {
        "name": sp.name,
        "purpose": sp.purpose,
        "locations": sp.locations,
        "data_categories": sp.data_categories,
        "website": "",
        "status": "announced",
        "access_began_on": "",
        "retired_on": "",
        "change_reason": "Ireland added",
        **NO_LOCATIONS,
        "processing_locations-TOTAL_FORMS": "1",
        "processing_locations-0-country": "IE",
        "processing_locations-0-transfer_mechanism": "",
        "processing_locations-0-details": "Dublin",
    }
    url = f"/admin/subprocessors/subprocessor/{sp.pk}/change/"

    refused = signed_in(analyst).post(url, data)
    assert refused.status_code == 200
    assert not sp.processing_locations.exists()

    data["processing_locations-0-transfer_mechanism"] = "sccs"
    assert signed_in(analyst).post(url, data).status_code == 302
    location = sp.processing_locations.get()
    assert (location.country, location.transfer_mechanism) == ("IE", "sccs")
    assert location.history.get().history_change_reason == "Ireland added"  # H1


# --- The agreement and its flow-down check: who and when come from the session (S7).


def test_rule_s7_the_flowdown_check_names_the_staff_member_who_saved_it(
    counsel: Any, signed_in: Callable[[Any], Client], settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    sp = make_subprocessor("Postmark", complete=False)
    data = {
        "name": sp.name,
        "purpose": sp.purpose,
        "locations": sp.locations,
        "data_categories": sp.data_categories,
        "website": "",
        "status": "active",
        "access_began_on": "2024-03-01",
        "retired_on": "",
        "agreement_signed_on": "2024-01-15",
        "agreement_document": ContentFile(PDF, name="postmark-dpa.pdf"),
        "flowdown_checked": "on",
        # Not a form field: a typed checker is ignored.
        "flowdown_checked_by": "999",
        "change_reason": "Postmark's DPA checked against ours",
        **NO_LOCATIONS,
    }
    with time_machine.travel(datetime(2026, 3, 10, 15, tzinfo=UTC), tick=False):
        response = signed_in(counsel).post(
            f"/admin/subprocessors/subprocessor/{sp.pk}/change/", data
        )

    assert response.status_code == 302
    sp.refresh_from_db()
    assert sp.flowdown_checked_by == counsel
    assert sp.flowdown_checked_at == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert sp.agreement_document.name.startswith("subprocessor-agreements/")
    assert "postmark" not in sp.agreement_document.name  # the private upload path


def test_rule_s7_a_check_without_a_signed_in_staff_member_is_refused(db: None) -> None:
    sp = make_subprocessor("Postmark", complete=False)
    sp.agreement_signed_on = date(2024, 1, 15)
    sp.agreement_document.name = "subprocessor-agreements/x.pdf"
    sp.flowdown_checked = True

    with pytest.raises(ValidationError, match="names who checked"):
        sp.save()


def test_rule_s7_a_check_needs_the_agreement_on_file(db: None) -> None:
    sp = make_subprocessor("Postmark", complete=False)
    sp.flowdown_checked = True

    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        acting_as("test", for_user=agreement_checker()),
    ):
        sp.save()


def test_rule_s7_unticking_the_check_forgets_who_made_it(db: None) -> None:
    sp = make_subprocessor("Postmark")
    assert sp.flowdown_checked_by is not None

    sp.flowdown_checked = False
    sp.save()

    assert (sp.flowdown_checked_by, sp.flowdown_checked_at) == (None, None)


def test_rule_s7_the_desk_lists_an_unchecked_agreement_from_the_access_date(
    counsel: Any,
) -> None:
    unchecked = make_subprocessor("Postmark", access_began_on=date(2026, 3, 1), complete=False)
    make_subprocessor("Mailgun", access_began_on=date(2026, 3, 1))  # checked
    make_subprocessor("Drafty", status=SubProcessorStatus.ANNOUNCED, complete=False)  # no date

    assert list(SubProcessor.objects.flowdown_unchecked()) == [unchecked]
    items = [i for i in deadline_items(counsel, date(2026, 3, 10)).items if i.rule == "S7"]
    assert [(i.what, i.due, i.days_left) for i in items] == [
        ("Check the flow-down terms of Postmark's agreement (DPA 5.2)", date(2026, 3, 1), -9)
    ]

    unchecked.status = SubProcessorStatus.RETIRED
    unchecked.save()
    assert not SubProcessor.objects.flowdown_unchecked().exists()


# --- A change in Ireland: published only with counsel's acknowledgement (S7, PP 5).


def test_rule_s7_a_change_in_ireland_is_flagged_before_publishing(db: None) -> None:
    change = make_change(in_ireland())

    assert change.outside_us() == ["IE"]
    assert "Ireland" in change.transfer_flag()
    assert "All data processing occurs in the United States" in change.transfer_flag()
    assert make_change(make_subprocessor("Sendgrid")).transfer_flag() == ""


def test_rule_s7_counsel_publishes_a_change_in_ireland_with_an_acknowledgement(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_signup("dpo@acme.com", status=SignupStatus.ACTIVE)
    change = make_change(in_ireland())

    response = publish(signed_in(counsel), change, REASON)

    assert response.status_code == 200
    change.refresh_from_db()
    assert change.status == ChangeStatus.PUBLISHED
    assert (change.countries, change.countries_outside_us) == ("IE", "IE")
    assert change.transfer_acknowledged_by == counsel
    assert change.transfer_acknowledgement == REASON
    assert Delivery.objects.filter(change=change).count() == 1
    row = change.history.latest()
    assert row.history_user == counsel
    assert REASON in row.history_change_reason  # H1: the reason is in the history


def test_rule_s7_counsel_cannot_publish_a_change_in_ireland_without_a_reason(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    change = make_change(in_ireland())

    page = publish(signed_in(counsel), change, reason="")

    assert page.status_code == 200
    assert "This field is required" in page.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeStatus.DRAFT
    assert not Delivery.objects.exists()


def test_rule_s7_an_analyst_cannot_publish_a_change_in_ireland(
    analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    make_signup("dpo@acme.com", status=SignupStatus.ACTIVE)
    change = make_change(in_ireland())
    client = signed_in(analyst)

    page = client.post(
        "/admin/subprocessors/change/", {"action": "publish", "_selected_action": [change.pk]}
    )
    assert "Only counsel can acknowledge it" in page.content.decode()

    response = publish(client, change, REASON)  # a crafted post with a reason

    assert "Only counsel may acknowledge" in " ".join(messages_of(response))
    change.refresh_from_db()
    assert change.status == ChangeStatus.DRAFT
    assert change.transfer_acknowledged_by is None
    assert not Delivery.objects.exists()


def test_rule_s7_an_analyst_still_publishes_a_change_in_the_us(
    analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    change = make_change(make_subprocessor("Sendgrid", status=SubProcessorStatus.ANNOUNCED))

    publish(signed_in(analyst), change)

    change.refresh_from_db()
    assert change.status == ChangeStatus.PUBLISHED
    assert (change.countries, change.countries_outside_us) == ("US", "")
    assert change.transfer_acknowledged_at is None


def test_rule_s7_the_service_refuses_without_counsel(counsel: Any, analyst: Any) -> None:
    change = make_change(in_ireland())

    with pytest.raises(ValidationError, match="All data processing occurs in the United States"):
        change_publish(change=change, by=counsel)  # no acknowledgement
    with pytest.raises(ValidationError, match="Only counsel may acknowledge"):
        change_publish(change=change, transfer_acknowledgement=REASON, by=analyst)
    change.refresh_from_db()
    assert change.status == ChangeStatus.DRAFT

    change_publish(change=change, transfer_acknowledgement=REASON, by=counsel)
    change.refresh_from_db()
    assert change.status == ChangeStatus.PUBLISHED


def test_rule_s7_saving_a_change_as_published_is_refused_without_acknowledgement(
    db: None,
) -> None:
    """The shell or any other path that saves a published change: Change.save() decides."""
    with pytest.raises(ValidationError, match="acknowledgement and a reason"):
        make_change(in_ireland(), published_at=datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert not Change.objects.exists()


def test_rule_s7_the_database_refuses_a_published_change_abroad_unacknowledged(
    db: None,
) -> None:
    change = make_change(in_ireland())

    with pytest.raises(IntegrityError), transaction.atomic():
        Change._base_manager.filter(pk=change.pk).update(
            status=ChangeStatus.PUBLISHED,
            published_at=datetime(2026, 3, 2, tzinfo=UTC),
            countries_outside_us="IE",
        )


def test_rule_s7_the_countries_stay_as_published(counsel: Any) -> None:
    sp = in_ireland()
    change = make_change(sp)
    change_publish(change=change, transfer_acknowledgement=REASON, by=counsel)

    ProcessingLocation(subprocessor=sp, country="US").save()
    change.refresh_from_db()

    assert change.countries == "IE"
    assert change.outside_us() == ["IE"]


# --- The public list carries the countries, machine-readably (S1, S7).


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_rule_s7_the_public_list_carries_the_countries(client: Client, fmt: str, db: None) -> None:
    sp = make_subprocessor("Amazon Web Services", locations="United States, Ireland")
    ProcessingLocation(subprocessor=sp, country="IE", transfer_mechanism="dpf").save()

    body = client.get(
        reverse("subprocessors:list" if fmt == "html" else f"subprocessors:list_{fmt}")
    ).content

    if fmt == "json":
        assert json.loads(body)["subprocessors"][0]["countries"] == ["IE", "US"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert rows[0]["Countries (ISO 3166)"] == "IE US"
    else:
        page = body.decode()
        assert '<data value="IE">Ireland</data>' in page
        assert '<data value="US">United States of America</data>' in page


# --- The copies a customer may ask for in writing (C6, DPA 5.3).


def copy_request(customer: Customer) -> AssistanceRequest:
    request = AssistanceRequest(
        customer=customer,
        kind=AssistanceKind.SUBPROCESSOR_AGREEMENTS,
        received_on=date(2026, 3, 2),
    )
    request.save()
    return request


def test_rule_s7_the_copies_for_a_customer_are_refused_while_one_is_missing(
    analyst: Any, signed_in: Callable[[Any], Client], acme: Customer
) -> None:
    make_subprocessor("Postmark")  # its agreement is on file, but no copy for customers
    request = copy_request(acme)

    response = signed_in(analyst).get(
        f"/admin/subprocessors/subprocessor/agreement-copies/{request.pk}.zip", follow=True
    )

    assert response.status_code == 200
    assert "Postmark: no copy with commercial terms removed is on file" in messages_of(response)


def test_rule_s7_a_customer_request_for_copies_is_answered_from_the_records(
    viewer: Any, signed_in: Callable[[Any], Client], acme: Customer, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    sp = make_subprocessor("Postmark", locations="United States, Ireland")
    ProcessingLocation(subprocessor=sp, country="IE", transfer_mechanism="sccs").save()
    sp.agreement_copy.save("copy.pdf", ContentFile(PDF))
    record_agreement(sp)
    make_subprocessor("Drafty", status=SubProcessorStatus.ANNOUNCED)  # not current: not sent
    request = copy_request(acme)
    client = signed_in(viewer)

    listing = client.get("/admin/subprocessors/subprocessor/agreement-copies/")
    assert "Acme Analytics GmbH" in listing.content.decode()
    response = client.get(f"/admin/subprocessors/subprocessor/agreement-copies/{request.pk}.zip")

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        f"01-agreement-{sp.pk}.pdf",
        "README.txt",
        "manifest.csv",
    ]
    assert archive.read(f"01-agreement-{sp.pk}.pdf") == PDF
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert manifest[0]["Countries (ISO 3166)"] == "IE US"
    assert manifest[0]["Transfer mechanisms outside the United States"] == (
        "IE: EU Standard Contractual Clauses (SCCs)"
    )
    assert manifest[0]["Flow-down terms checked (DPA 5.2)"].startswith("checked by")


def test_rule_s7_the_copies_are_staff_only(
    outsider: Any, signed_in: Callable[[Any], Client], acme: Customer
) -> None:
    request = copy_request(acme)

    response = signed_in(outsider).get(
        f"/admin/subprocessors/subprocessor/agreement-copies/{request.pk}.zip"
    )

    assert response.status_code in (302, 403)
    assert response.get("Content-Type") != "application/zip"


def test_rule_s7_another_kind_of_request_gets_no_copies(
    counsel: Any, signed_in: Callable[[Any], Client], acme: Customer
) -> None:
    request = AssistanceRequest(customer=acme, kind=AssistanceKind.DPIA, received_on=date.today())
    request.save()

    response = signed_in(counsel).get(
        f"/admin/subprocessors/subprocessor/agreement-copies/{request.pk}.zip", follow=True
    )

    assert "not for copies of sub-processor agreements" in " ".join(messages_of(response))


def test_rule_s7_the_request_for_copies_links_to_them(
    analyst: Any, signed_in: Callable[[Any], Client], acme: Customer
) -> None:
    """C6: the customers area names no sub-processor code; the link comes through the core's
    record_tools, which the sub-processors area answers."""
    copies = copy_request(acme)
    other = AssistanceRequest(customer=acme, kind=AssistanceKind.DPIA, received_on=date.today())
    other.save()
    zip_url = f"/admin/subprocessors/subprocessor/agreement-copies/{copies.pk}.zip"

    page = signed_in(analyst).get(f"/admin/customers/assistancerequest/{copies.pk}/change/")
    assert zip_url in page.content.decode()
    page = signed_in(analyst).get(f"/admin/customers/assistancerequest/{other.pk}/change/")
    assert "agreement-copies" not in page.content.decode()


def test_rule_s7_a_new_agreement_upload_is_checked_a_stored_one_is_not_read_again() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from subprocessors.models import validate_new_pdf

    with pytest.raises(ValidationError, match="not a PDF"):
        validate_new_pdf(SimpleUploadedFile("agreement.pdf", b"<html>not a pdf</html>"))
    validate_new_pdf(SimpleUploadedFile("agreement.pdf", PDF))
    stored = SubProcessor(agreement_document="subprocessor-agreements/gone.pdf")
    validate_new_pdf(stored.agreement_document)  # committed: no file is opened


def test_rule_s7_the_desk_warns_of_a_draft_abroad_and_a_sub_processor_without_country(
    counsel: Any, outsider: Any
) -> None:
    from subprocessors.desk import drafts_outside_us, unlocated

    draft = make_change(in_ireland())
    make_change(make_subprocessor("Sendgrid", status=SubProcessorStatus.ANNOUNCED))  # the US
    nowhere = make_subprocessor("Cloudflare", locations="Global edge network")
    today = date(2026, 3, 10)

    [warning] = drafts_outside_us(counsel, today, 10)
    assert warning.rule == "S7"
    assert "Ireland" in warning.text
    assert warning.url.endswith(f"/subprocessors/change/{draft.pk}/change/")
    [missing] = unlocated(counsel, today, 10)
    assert missing.url.endswith(f"/subprocessors/subprocessor/{nowhere.pk}/change/")
    assert drafts_outside_us(outsider, today, 10) == unlocated(outsider, today, 10) == []

    change_publish(change=draft, transfer_acknowledgement=REASON, by=counsel)
    assert drafts_outside_us(counsel, today, 10) == []  # published: no longer a draft to flag
