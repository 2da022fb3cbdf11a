"""Terminations in the customer spreadsheet (C3, C4, C9): the preview shows a hold or a demand
as a conflict, and only a row that confirms it terminates; a blank date never reopens."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from customers.import_termination import TERMINATION_COLUMNS
from customers.models import Customer
from tests.customers.builders import make_hold
from tests.customers.test_import import COLUMNS, confirm, preview, row_errors

pytestmark = pytest.mark.django_db


def acme_row(**cells: str) -> dict[str, str]:
    return {"legal_name": "Acme Analytics GmbH", "agreement_effective_on": "2024-01-01", **cells}


def upload(*rows: dict[str, str]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *TERMINATION_COLUMNS], restval="")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("customers.csv", out.getvalue().encode(), content_type="text/csv")


TERMINATE = {
    "termination_date": "2026-01-31",
    "terminated_by": "customer",
    "termination_reason": "Did not renew",
}


def test_rule_c3_a_row_terminates_its_customer(
    counsel_client: Client, counsel: Any, acme: Customer
) -> None:
    previewed = preview(counsel_client, upload(acme_row(**TERMINATE)))
    assert row_errors(previewed) == {}

    assert confirm(counsel_client, previewed).status_code == 302

    acme = Customer.objects.get(pk=acme.pk)
    assert (acme.termination_date, acme.deletion_due) == (date(2026, 1, 31), date(2026, 5, 1))
    assert acme.history.first().history_change_reason == "Imported from customers.csv"


def test_rule_c9_the_preview_shows_a_hold_and_refuses_the_row_until_confirmed(
    counsel_client: Client, acme: Customer
) -> None:
    make_hold(acme, legal_basis="Litigation hold, Smith v. Acme")

    refused = preview(counsel_client, upload(acme_row(**TERMINATE)))

    assert "confirm_form" not in refused.context
    assert "Smith v. Acme" in " ".join(row_errors(refused)["termination_date"])
    assert Customer.objects.get(pk=acme.pk).termination_date is None

    previewed = preview(counsel_client, upload(acme_row(**TERMINATE, confirm_conflicts="yes")))
    assert confirm(counsel_client, previewed).status_code == 302

    acme = Customer.objects.get(pk=acme.pk)
    assert acme.deletion_due == date(2026, 5, 1)
    assert acme.history.first().history_change_reason.startswith(
        "Imported from customers.csv [confirmed despite: a legal hold keeps data"
    )


def test_a_blank_termination_date_never_reopens_and_another_date_is_refused(
    counsel_client: Client, acme: Customer
) -> None:
    acme.termination_date = date(2026, 1, 31)
    acme.terminated_by = "customer"
    acme.save()

    unchanged = preview(counsel_client, upload(acme_row()))
    assert row_errors(unchanged) == {}
    assert [row.import_type for row in unchanged.context["result"].valid_rows()] == ["skip"]

    other = preview(
        counsel_client, upload(acme_row(**TERMINATE | {"termination_date": "2026-02-28"}))
    )
    assert "terminated on 2026-01-31" in row_errors(other)["termination_date"][0]


def test_who_terminated_must_be_named(counsel_client: Client, acme: Customer) -> None:
    refused = preview(counsel_client, upload(acme_row(**TERMINATE | {"terminated_by": "bob"})))

    assert "customer, harmonyze or mutual" in row_errors(refused)["terminated_by"][0]
