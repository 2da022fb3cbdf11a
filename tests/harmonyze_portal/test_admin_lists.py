"""Every changelist at a million rows (issue 16, P5): no full-table COUNT, no DISTINCT date
scan, no query per row, and a search that PostgreSQL serves from indexes."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from harmonyze_portal import admin_lists
from harmonyze_portal.admin_lists import EstimatedCountPaginator, LargeListMixin
from harmonyze_portal.roles import COUNSEL
from requests.models import DataSubjectRequest
from tests.conftest import make_staff
from tests.requests.builders import make_dsr

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
DSR_LIST = "/admin/requests/datasubjectrequest/"


def changelist_url(model: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def list_queries(client: Client, url: str) -> list[str]:
    client.get(url)  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_list_on_the_site_counts_only_what_it_can_afford(
    model: Any, model_admin: Any
) -> None:
    assert isinstance(model_admin, LargeListMixin)
    assert model_admin.show_full_result_count is False
    assert model_admin.paginator is EstimatedCountPaginator


def test_the_dsr_list_never_counts_the_whole_table_nor_scans_its_dates(
    counsel_client: Client,
) -> None:
    for n in range(3):
        make_dsr(email=f"subject{n}@example.org", received=date(2025 + n % 2, 3, 2))
    for url in (DSR_LIST, f"{DSR_LIST}?status=open", f"{DSR_LIST}?q=subject1"):
        queries = list_queries(counsel_client, url)
        counts = [sql for sql in queries if "COUNT(" in sql.upper()]
        assert counts, url
        # Every COUNT reads at most EXACT_COUNT_LIMIT + 1 rows: Django's full count had no LIMIT.
        assert all("LIMIT" in sql.upper() for sql in counts), counts
        assert not [sql for sql in queries if "DISTINCT" in sql.upper()], url


def test_the_date_drill_down_offers_every_year_between_the_first_and_last(
    counsel_client: Client,
) -> None:
    make_dsr(email="old@example.org", received=date(2023, 5, 1))
    make_dsr(email="new@example.org", received=date(2025, 6, 1))
    page = counsel_client.get(DSR_LIST).content.decode()
    for year in ("2023", "2024", "2025"):
        assert f"?received_on__year={year}" in page
    months = counsel_client.get(f"{DSR_LIST}?received_on__year=2025").content.decode()
    assert "received_on__month=12" in months
    assert "June 2025" in months
    days = counsel_client.get(f"{DSR_LIST}?received_on__year=2025&received_on__month=2")
    assert "received_on__day=28" in days.content.decode()
    assert "received_on__day=29" not in days.content.decode()


@pytest.mark.parametrize("query", ["", "?status=open", "?q=subject", "?q=subject7@example.org"])
def test_the_dsr_list_runs_as_many_queries_for_30_rows_as_for_3(
    counsel_client: Client, query: str
) -> None:
    made = 0

    def grow_to(count: int) -> list[str]:
        nonlocal made
        while made < count:
            make_dsr(email=f"subject{made}@example.org")
            made += 1
        return list_queries(counsel_client, f"{DSR_LIST}{query}")

    assert len(grow_to(3)) == len(grow_to(30))


def test_no_list_runs_a_query_per_row(settings: Any, signed_in: Any) -> None:
    """Every registered list, on the demo's rows: all of them on one page, then one row a
    page; a query per row would show as more queries on the first. Lists the demo leaves
    with fewer than two rows prove nothing here, and at least the portal's busy lists must
    have them (the DSR list's own test above grows its rows)."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    reader = make_staff("lists-counsel", COUNSEL)
    client = signed_in(reader)
    checked: list[str] = []
    per_row: dict[str, tuple[int, int]] = {}
    for model, model_admin in REGISTERED:
        url = changelist_url(model)
        request = RequestFactory().get(url)
        request.user = reader
        if model_admin.get_queryset(request).count() < 2:
            continue
        per_page = model_admin.list_per_page
        try:
            model_admin.list_per_page = 100
            many = list_queries(client, url)
            model_admin.list_per_page = 1
            one = list_queries(client, url)
        finally:
            model_admin.list_per_page = per_page
        if len(many) != len(one):
            per_row[model._meta.label] = (len(one), len(many))
        checked.append(model._meta.label)
    assert {"customers.Customer", "requests.DataSubjectRequest", "subprocessors.Signup"} <= set(
        checked
    ), checked
    assert per_row == {}, f"queries with one row a page vs all rows: {per_row}"


def test_a_short_list_is_counted_exactly_and_a_long_one_estimated_on_postgresql(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(admin_lists, "EXACT_COUNT_LIMIT", 3)
    for n in range(3):
        make_dsr(email=f"subject{n}@example.org")
    rows = DataSubjectRequest.objects.order_by("pk")
    short = EstimatedCountPaginator(rows, 2)
    assert (short.count, short.estimated) == (3, False)
    make_dsr(email="fourth@example.org")
    long = EstimatedCountPaginator(rows.filter(requester_email__contains="@"), 2)
    if connection.vendor == "postgresql":
        assert long.estimated
        assert long.count >= 4
    else:
        assert (long.count, long.estimated) == (4, False)  # SQLite keeps no estimate: counted


def test_a_page_past_the_end_of_an_estimated_list_is_empty_not_an_error(
    counsel_client: Client, monkeypatch: Any
) -> None:
    monkeypatch.setattr(admin_lists, "estimated_rows", lambda queryset: 500)
    monkeypatch.setattr(admin_lists, "EXACT_COUNT_LIMIT", 2)
    for n in range(3):
        make_dsr(email=f"subject{n}@example.org")
    assert "about 500" in counsel_client.get(DSR_LIST).content.decode()
    assert counsel_client.get(f"{DSR_LIST}?p=4").status_code == 200


def test_a_whole_address_finds_its_request_and_a_part_of_one_finds_all(
    counsel_client: Client,
) -> None:
    make_dsr(email="Pat@Example.org", requester_name="Pat One")
    make_dsr(email="jpat@example.org", requester_name="Jay Two")
    exact = counsel_client.get(f"{DSR_LIST}?q=pat@example.org").content.decode()
    part = counsel_client.get(f"{DSR_LIST}?q=example.org").content.decode()
    assert "Pat One" in exact
    assert "Jay Two" in part
    assert "Pat One" in part
    # The address as a whole, case-insensitive, on SQLite as on PostgreSQL (LOWER(email) = …).
    assert "Jay Two" not in exact


# The lists that grow with the years; the small ones (regimes, holidays, reports) need none.
BIG_LISTS = [
    "audits.AuditFinding",
    "audits.AuditRequest",
    "customers.AssistanceRequest",
    "customers.Breach",
    "customers.BreachNotice",
    "customers.Customer",
    "customers.DPA",
    "requests.DataSubjectRequest",
    "requests.DemandView",
    "requests.LawEnforcementDemand",
    "subprocessors.Change",
    "subprocessors.Delivery",
    "subprocessors.Objection",
    "subprocessors.Signup",
]


Column = tuple[str, bool | None]


def list_order(model: Any, ordering: list[str], total: bool = True) -> list[Column]:
    """The changelist's ORDER BY as (column, descending), with the ``-pk`` Django's admin
    adds when the order is not total. A foreign key sorts on its model's own order: served
    when that order is an index range too (PostgreSQL walks it and fetches each one's rows
    by this model's index on the key), its direction then moot (None)."""
    if total and not model._default_manager.order_by(*ordering).totally_ordered:
        ordering = [*ordering, "-pk"]
    order: list[Column] = []
    for item in ordering:
        name = item.lstrip("-")
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        if field.is_relation and name == field.name:
            related = field.related_model
            related_order = list_order(related, list(related._meta.ordering), total=False)
            assert served(related_order, index_columns(related)), (item, related_order)
            order.append((field.column, None))
        else:
            order.append((field.column, item.startswith("-")))
    return order


def index_columns(model: Any) -> list[tuple[list[Column], bool]]:
    """Each index's plain columns, (column, descending), and whether it is unique."""
    indexed = []
    for index in model._meta.indexes:
        if index.condition is None and index.fields:
            indexed.append(
                (
                    [
                        (model._meta.get_field(name).column, order == "DESC")
                        for name, order in index.fields_orders
                    ],
                    False,
                )
            )
    for constraint in model._meta.total_unique_constraints:
        columns = [(model._meta.get_field(name).column, False) for name in constraint.fields]
        indexed.append((columns, True))
    for field in model._meta.fields:
        if field.unique or field.db_index:
            indexed.append(([(field.column, False)], field.unique))
    return indexed


def served(order: list[Column], indexes: list[tuple[list[Column], bool]], equal: str = "") -> bool:
    """An index whose leading columns are the order, read forwards or backwards (a unique
    one may end early: what follows never breaks a tie); after the ``equal`` column first
    when the list is filtered on it (its direction is then moot)."""

    def matches(columns: list[Column], unique: bool) -> bool:
        if equal:
            if columns[0][0] != equal:
                return False
            columns = columns[1:]
        if len(columns) < len(order) and not unique:
            return False
        pairs = list(zip(order, columns, strict=False))
        if [c for (c, _), _ in pairs] != [c for _, (c, _) in pairs]:
            return False
        return all(d is None or d == i for (_, d), (_, i) in pairs) or all(
            d is None or d != i for (_, d), (_, i) in pairs
        )

    return any(matches(columns, unique) for columns, unique in indexes if columns)


@pytest.mark.parametrize("label", BIG_LISTS)
def test_every_big_list_reads_its_page_from_an_index_whole_and_by_status(label: str) -> None:
    """Issue 16, P5: at a million rows a page is an index range, not a sort of the table."""
    model = next(model for model, _ in REGISTERED if model._meta.label == label)
    model_admin = admin.site._registry[model]
    order = list_order(model, list(model_admin.get_ordering(None) or model._meta.ordering))
    indexes = index_columns(model)
    assert served(order, indexes), (label, order)
    if "status" in model_admin.list_filter:
        assert served(order, indexes, equal="status"), (label, "by status", order)
