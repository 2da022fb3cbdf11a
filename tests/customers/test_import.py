"""The legal team's spreadsheet of customers and DPAs, imported through the admin (C2)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.test import Client

from customers.models import DPA, Customer, CustomerDomain
from customers.models.dpas import DPAStatus
from customers.resources import parse_domains, parse_transfer_terms
from tests.customers.builders import make_customer, make_dpa

IMPORT_URL = "/admin/customers/customer/import/"
CONFIRM_URL = "/admin/customers/customer/process_import/"
COLUMNS = [
    "legal_name",
    "domains",
    "agreement_effective_on",
    "dpa_version",
    "dpa_signed_on",
    "dpa_effective_on",
    "transfer_terms",
    "governing_law",
    "courts",
    "supervisory_authority",
    "supervisory_authority_country",
    "deviations",
]
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def initech(**cells: Any) -> dict[str, Any]:
    return {
        "legal_name": "Initech Europe B.V.",
        "domains": "initech.eu; initech.nl",
        "agreement_effective_on": "2024-01-01",
        "dpa_version": "2024-03",
        "dpa_signed_on": "2024-01-15",
        "dpa_effective_on": "2024-02-01",
        "transfer_terms": "EU SCCs Module Two; UK Addendum",
        "governing_law": "",
        "courts": "",
        "supervisory_authority": "Autoriteit Persoonsgegevens",
        "supervisory_authority_country": "Netherlands",
        "deviations": "Audits once a year, on 30 days' notice.",
        **cells,
    }


def umbrella(**cells: Any) -> dict[str, Any]:
    return {
        "legal_name": "Umbrella Health AG",
        "domains": "umbrella.ch, umbrella-health.com",
        "agreement_effective_on": "2024-06-01",
        "dpa_version": "2024-03",
        "dpa_signed_on": "2024-05-20",
        "dpa_effective_on": "2024-06-01",
        "transfer_terms": "EU SCCs Module Two; Swiss FADP",
        "governing_law": "Switzerland",
        "courts": "Zurich",
        "supervisory_authority": "FDPIC",
        "supervisory_authority_country": "Switzerland",
        "deviations": "",
        **cells,
    }


def csv_upload(*rows: dict[str, Any], name: str = "customers.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_upload(*rows: dict[str, Any], name: str = "customers.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for row in rows:
        # Dates as real date cells, as Excel stores them.
        sheet.append(
            [
                date.fromisoformat(value) if column.endswith("_on") and value else value
                for column, value in ((column, row.get(column)) for column in COLUMNS)
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/octet-stream")


def preview(client: Client, upload: SimpleUploadedFile, file_format: str = CSV_FORMAT) -> Any:
    response = client.post(
        IMPORT_URL, {"import_file": upload, "format": file_format, "resource": "0"}
    )
    assert response.status_code == 200
    return response


def confirm(client: Client, previewed: Any) -> Any:
    form = previewed.context["confirm_form"]
    return client.post(CONFIRM_URL, {**form.initial, "confirm": "Confirm import"})


def row_errors(response: Any) -> dict[str, list[str]]:
    """The field-specific errors of every invalid row, keyed by column."""
    errors: dict[str, list[str]] = {}
    for row in response.context["result"].invalid_rows:
        for column, messages in row.field_specific_errors.items():
            errors.setdefault(column, []).extend(messages)
    return errors


def snapshot() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        CustomerDomain.objects.count(),
        DPA.objects.count(),
        Customer.history.count(),
        CustomerDomain.history.count(),
        DPA.history.count(),
    )


# --- The happy path


@pytest.mark.parametrize(
    ("upload", "file_format"),
    [(csv_upload, CSV_FORMAT), (xlsx_upload, XLSX_FORMAT)],
    ids=["csv", "xlsx"],
)
def test_preview_then_confirm_creates_customers_domains_and_dpas(
    counsel: Any,
    counsel_client: Client,
    upload: Callable[..., SimpleUploadedFile],
    file_format: str,
) -> None:
    uploaded = upload(initech(), umbrella())
    previewed = preview(counsel_client, uploaded, file_format)

    assert "confirm_form" in previewed.context
    page = previewed.content.decode()
    assert "Initech Europe B.V." in page
    assert "umbrella-health.com" in page
    assert "Autoriteit Persoonsgegevens" in page
    # The preview's highlights are styled by a stylesheet: the CSP refuses style attributes.
    assert "/static/css/import-preview.css" in page
    assert [row.import_type for row in previewed.context["result"].valid_rows()] == ["new", "new"]
    assert Customer.objects.count() == 0, "the preview is a dry run"

    response = confirm(counsel_client, previewed)

    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/customer/"
    initech_ = Customer.objects.get(legal_name="Initech Europe B.V.")
    assert initech_.agreement_effective_on == date(2024, 1, 1)
    assert sorted(initech_.domains.values_list("domain", flat=True)) == [
        "initech.eu",
        "initech.nl",
    ]
    dpa = initech_.dpas.get()
    assert dpa.version == "2024-03"
    assert dpa.status == DPAStatus.IN_FORCE
    assert (dpa.signed_on, dpa.effective_on) == (date(2024, 1, 15), date(2024, 2, 1))
    assert dpa.transfer_terms == ["EU SCCs Module Two", "UK Addendum"]
    assert (dpa.governing_law, dpa.courts) == ("Ireland", "Ireland"), "C2: Ireland by default"
    assert dpa.supervisory_authority == "Autoriteit Persoonsgegevens"
    assert dpa.supervisory_authority_country == "Netherlands"
    assert dpa.deviations == "Audits once a year, on 30 days' notice."
    umbrella_dpa = DPA.objects.get(customer__legal_name="Umbrella Health AG")
    assert umbrella_dpa.transfer_terms == ["EU SCCs Module Two", "Swiss FADP"]
    assert (umbrella_dpa.governing_law, umbrella_dpa.courts) == ("Switzerland", "Zurich")

    reason = f"Imported from {uploaded.name}"
    for model in (Customer, CustomerDomain, DPA):
        history = list(model.history.all())  # type: ignore[attr-defined]
        assert history, model
        for record in history:
            assert record.history_user == counsel
            assert record.history_actor == "staff: counsel"
            assert record.history_change_reason == reason
            assert record.history_type == "+"


def test_an_existing_customer_is_updated_and_its_new_dpa_supersedes_the_old(
    counsel_client: Client, globex: Customer
) -> None:
    old = make_dpa(globex, version="2023-01")
    row = umbrella(
        legal_name=globex.legal_name,
        domains="globex.co.uk; globex.com",
        agreement_effective_on="2024-06-01",
        dpa_version="2025-01",
        dpa_signed_on="2025-01-10",
        dpa_effective_on="2025-02-01",
        transfer_terms="EU SCCs Module Two; UK Addendum",
        governing_law="",
        courts="",
    )

    previewed = preview(counsel_client, csv_upload(row))
    assert [r.import_type for r in previewed.context["result"].valid_rows()] == ["update"]
    confirm(counsel_client, previewed)

    assert Customer.objects.count() == 1
    assert sorted(globex.domains.values_list("domain", flat=True)) == [
        "globex.co.uk",
        "globex.com",
    ]
    old.refresh_from_db()
    assert old.status == DPAStatus.SUPERSEDED
    current = DPA.objects.in_force().get(customer=globex)
    assert current.version == "2025-01"
    assert current.governing_law == "Ireland"
    assert old.history.latest().history_change_reason == "Imported from customers.csv"
    # The customer's own fields did not change: no empty history entry for it.
    assert globex.history.count() == 1


def test_the_same_version_is_corrected_in_place(counsel_client: Client, globex: Customer) -> None:
    dpa = make_dpa(globex, version="2024-03", supervisory_authority="ICO")
    row = umbrella(
        legal_name=globex.legal_name,
        domains="globex.co.uk",
        dpa_version="2024-03",
        supervisory_authority="",
        supervisory_authority_country="United Kingdom",
        governing_law="",
        courts="",
    )

    confirm(counsel_client, preview(counsel_client, csv_upload(row)))

    dpa.refresh_from_db()
    assert DPA.objects.filter(customer=globex).count() == 1
    assert dpa.supervisory_authority == "ICO", "a blank cell keeps what is stored"
    assert dpa.supervisory_authority_country == "United Kingdom"
    assert dpa.transfer_terms == ["EU SCCs Module Two", "Swiss FADP"]


def test_importing_the_same_file_again_changes_nothing(counsel_client: Client) -> None:
    confirm(counsel_client, preview(counsel_client, csv_upload(initech())))
    before = snapshot()

    previewed = preview(counsel_client, csv_upload(initech()))
    assert [r.import_type for r in previewed.context["result"].valid_rows()] == ["skip"]
    confirm(counsel_client, previewed)

    assert snapshot() == before


def test_a_customer_without_a_dpa_on_file(counsel_client: Client) -> None:
    row = dict.fromkeys(COLUMNS, "") | {
        "legal_name": "Hooli Inc.",
        "domains": "hooli.com",
        "agreement_effective_on": "2025-03-01",
    }

    confirm(counsel_client, preview(counsel_client, csv_upload(row)))

    hooli = Customer.objects.get(legal_name="Hooli Inc.")
    assert not hooli.dpas.exists()


def test_headers_may_be_written_as_words(counsel_client: Client) -> None:
    upload = csv_upload(initech())
    text = upload.read().decode()
    upload = SimpleUploadedFile(
        "customers.csv",
        text.replace("legal_name,", "Legal Name ,", 1)
        .replace("agreement_effective_on", "Agreement effective on", 1)
        .encode(),
    )

    confirm(counsel_client, preview(counsel_client, upload))

    assert Customer.objects.get().agreement_effective_on == date(2024, 1, 1)


def test_the_analyst_may_import(analyst: Any, signed_in: Callable[[Any], Client]) -> None:
    assert signed_in(analyst).get(IMPORT_URL).status_code == 200


# --- Errors: shown in the preview, the confirm step withheld, nothing written


def assert_refused(response: Any, column: str, *fragments: str) -> None:
    assert "confirm_form" not in response.context
    assert "Confirm import" not in response.content.decode()
    messages = " ".join(row_errors(response).get(column, []))
    assert messages, row_errors(response)
    for fragment in fragments:
        assert fragment in messages


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("agreement_effective_on", "01/02/2024"),
        ("dpa_signed_on", "2024-02-30"),
        ("dpa_effective_on", "next week"),
    ],
)
def test_a_malformed_date_names_its_column(counsel_client: Client, column: str, value: str) -> None:
    before = snapshot()

    response = preview(counsel_client, csv_upload(initech(**{column: value}), umbrella()))

    assert_refused(response, column, repr(value), "YYYY-MM-DD")
    assert snapshot() == before


def test_an_unknown_transfer_term_is_named(counsel_client: Client) -> None:
    before = snapshot()
    terms = "EU SCCs Module Two; Binding Corporate Rules"

    response = preview(counsel_client, csv_upload(initech(transfer_terms=terms)))

    assert_refused(response, "transfer_terms", "'Binding Corporate Rules'")
    assert snapshot() == before


def test_a_domain_of_another_customer_is_refused(counsel_client: Client, acme: Customer) -> None:
    before = snapshot()

    response = preview(counsel_client, csv_upload(initech(domains="initech.eu; ACME.com")))

    assert_refused(response, "domains", "acme.com already belongs to Acme Analytics GmbH")
    assert snapshot() == before


def test_a_domain_twice_in_the_file_is_refused(counsel_client: Client) -> None:
    before = snapshot()

    response = preview(
        counsel_client, csv_upload(initech(), umbrella(domains="umbrella.ch, initech.nl"))
    )

    assert_refused(response, "domains", "initech.nl is also listed on row 1")
    assert snapshot() == before


def test_a_customer_twice_in_the_file_is_refused(counsel_client: Client) -> None:
    response = preview(
        counsel_client, csv_upload(initech(), initech(domains="initech.de", dpa_version="2025"))
    )

    assert_refused(response, "legal_name", "also on row 1")
    assert Customer.objects.count() == 0


def test_a_dpa_effective_before_the_agreement_is_refused(counsel_client: Client) -> None:
    before = snapshot()
    row = initech(agreement_effective_on="2024-03-01", dpa_effective_on="2024-02-29")

    response = preview(counsel_client, csv_upload(row))

    assert_refused(response, "dpa_effective_on", "before the customer's Agreement (2024-03-01)")
    assert snapshot() == before


def test_a_dpa_effective_before_an_existing_customers_agreement_is_refused(
    counsel_client: Client, globex: Customer
) -> None:
    before = snapshot()
    row = umbrella(legal_name=globex.legal_name, domains="", dpa_effective_on="2024-05-31")

    response = preview(counsel_client, csv_upload(row))

    assert_refused(response, "dpa_effective_on", "before the customer's Agreement (2024-06-01)")
    assert snapshot() == before


def test_a_dpa_needs_its_version_dates_and_terms(counsel_client: Client) -> None:
    row = initech(dpa_version="", dpa_signed_on="", transfer_terms="")

    response = preview(counsel_client, csv_upload(row))

    errors = row_errors(response)
    for column in ("dpa_version", "dpa_signed_on", "transfer_terms"):
        assert errors[column] == ["Required when the row has a DPA."]
    assert Customer.objects.count() == 0


def test_a_superseded_version_is_not_brought_back(counsel_client: Client, globex: Customer) -> None:
    make_dpa(globex, version="2023-01", status=DPAStatus.SUPERSEDED)
    make_dpa(globex, version="2024-03")
    row = umbrella(legal_name=globex.legal_name, domains="", dpa_version="2023-01")

    response = preview(counsel_client, csv_upload(row))

    assert_refused(response, "dpa_version", "superseded")


def test_a_file_that_no_longer_passes_at_confirmation_writes_nothing(
    counsel_client: Client,
) -> None:
    previewed = preview(counsel_client, csv_upload(initech(), umbrella()))
    make_customer("Umbrella Corporation", domains=("umbrella.ch",))  # taken meanwhile
    before = snapshot()

    response = confirm(counsel_client, previewed)

    assert response.status_code == 302
    assert response["Location"] == IMPORT_URL
    assert snapshot() == before, "the first row, valid on its own, is rolled back too"
    page = counsel_client.get(IMPORT_URL).content.decode()
    assert "Nothing was imported" in page


def test_a_failure_while_writing_a_row_leaves_none_of_it(
    counsel_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    previewed = preview(counsel_client, csv_upload(initech()))
    before = snapshot()

    def refuse(self: DPA, *args: Any, **kwargs: Any) -> None:
        raise IntegrityError("disk full")

    monkeypatch.setattr(DPA, "save", refuse)
    response = confirm(counsel_client, previewed)

    assert response["Location"] == IMPORT_URL
    assert snapshot() == before, "no customer or domain without its DPA"


# --- Who may import


def test_the_viewer_cannot_reach_the_import(
    viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(viewer)

    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"format": CSV_FORMAT}).status_code == 403
    assert client.post(CONFIRM_URL, {}).status_code == 403
    changelist = client.get("/admin/customers/customer/")
    assert changelist.status_code == 200
    assert IMPORT_URL not in changelist.content.decode()


def test_counsel_sees_the_import_button(counsel_client: Client) -> None:
    assert IMPORT_URL in counsel_client.get("/admin/customers/customer/").content.decode()


# --- The cell rules, without a database


def test_domains_are_split_on_commas_semicolons_and_spaces() -> None:
    assert parse_domains(" Acme.com; @acme.de,acme.co.uk  acme.com\n") == [
        "acme.com",
        "acme.de",
        "acme.co.uk",
    ]


def test_transfer_terms_tolerate_case_and_punctuation() -> None:
    flags, unknown = parse_transfer_terms("eu SCCs, module 2; UK addendum ;Swiss FADP adaptation")
    assert flags == {"eu_sccs_module_two": True, "uk_addendum": True, "swiss_fadp": True}
    assert unknown == []
    assert parse_transfer_terms("UK Addendum; IDTA")[1] == ["IDTA"]
