"""H1 at every save: the history row written by one cached INSERT (P6) is the row
simple-history's own path writes, with the same signals, and the library's path stays for
models whose history also records many-to-many links."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from customers.models import Customer
from harmonyze_portal import history_insert
from harmonyze_portal.history import acting_as

pytestmark = pytest.mark.django_db

SKIP = {"history_id", "history_date"}


def row(record: Any) -> dict[str, Any]:
    latest = record.history.order_by("-history_id").first()
    return {f.attname: getattr(latest, f.attname) for f in latest._meta.concrete_fields}


def edit(customer: Customer, monkeypatch: pytest.MonkeyPatch, *, library: bool) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        if library:
            patch.setattr(history_insert, "supported", lambda model, using=None: False)
        customer.legal_name = "Acme Analytics GmbH"
        customer.earlier_deletion_requested_on = date(2026, 4, 1)
        customer._change_reason = "Corrected the name"  # type: ignore[attr-defined]
        with acting_as("task: test", reason="ignored: the typed reason wins"):
            customer.save()
    return row(customer)


def test_rule_h1_the_cached_insert_writes_the_row_the_library_writes(
    acme: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = edit(acme, monkeypatch, library=False)
    library = edit(acme, monkeypatch, library=True)

    assert fast["history_id"] != library["history_id"]
    assert {k: v for k, v in fast.items() if k not in SKIP} == {
        k: v for k, v in library.items() if k not in SKIP
    }
    assert fast["history_actor"] == "task: test"
    assert fast["history_change_reason"] == "Corrected the name"
    assert fast["history_record"] == "Acme Analytics GmbH"
    assert fast["history_type"] == "~"


def test_rule_h1_a_tracked_save_is_its_update_and_one_insert_with_both_signals(
    acme: Customer,
) -> None:
    seen: list[tuple[str, int | None]] = []

    def before(history_instance: Any, **kwargs: Any) -> None:
        seen.append(("pre", history_instance.pk))

    def after(history_instance: Any, **kwargs: Any) -> None:
        seen.append(("post", history_instance.pk))

    pre_create_historical_record.connect(before, sender=Customer.history.model)
    post_create_historical_record.connect(after, sender=Customer.history.model)
    try:
        acme.legal_name = "Acme Renamed"
        with CaptureQueriesContext(connection) as queries:
            acme.save()
    finally:
        pre_create_historical_record.disconnect(before, sender=Customer.history.model)
        post_create_historical_record.disconnect(after, sender=Customer.history.model)

    latest = acme.history.order_by("-history_id").first()
    assert seen == [("pre", None), ("post", latest.pk)]  # the id is known after the insert
    writes = [q["sql"].split()[0] for q in queries.captured_queries]
    assert writes.count("INSERT") == 1
    assert writes.count("UPDATE") == 1


def test_rule_h1_links_between_records_keep_the_librarys_path(monkeypatch: Any) -> None:
    # A staff account's roles are part of its history (m2m): those rows need the library.
    def refuse(row: Any, using: Any = None) -> None:
        raise AssertionError(f"{type(row).__name__} took the cached INSERT")

    monkeypatch.setattr(history_insert, "insert", refuse)
    user = get_user_model().objects.create_user("paralegal", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Viewer")[0])
    user.first_name = "Pat"
    user.save()
    latest = user.history.order_by("-history_id").first()  # type: ignore[attr-defined]
    assert latest.first_name == "Pat"
    assert [group.group_id for group in latest.groups.all()] == [user.groups.get().pk]
