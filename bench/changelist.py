"""P5 and P5s: the data subject request changelist at 1,000,000 rows against 1,000.

Three pages as counsel gets them (plain, filtered by status, searched by a name), each against
the same page at 1,000 rows: target at most 1.5x (P5). The same list searched by an email
address: at most 3x (P5s). Each figure is the median of rounds of the whole page (the view and
its rendering). It also prints how many queries each page ran, the same at both sizes.

On PostgreSQL (``BENCH_DATABASE_URL``) the rows are written by one ``INSERT … SELECT`` over
``generate_series``, on SQLite over a recursive CTE. Bench data is not a tracked write path
(H1 governs what people and tasks do to records; these rows are scaffolding that no one
made), so it skips ``save()`` and history on purpose. ``BENCH_LISTS_LARGE`` scales it down.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.setup import django_with_fresh_database

SMALL = int(os.environ.get("BENCH_LISTS_SMALL", "1000"))
LARGE = int(os.environ.get("BENCH_LISTS_LARGE", "1000000"))
ROUNDS = 15
TARGET = 1.5
SEARCH_TARGET = 3.0
# A row present at both sizes, whose name and email the searches look for.
SOUGHT = 777


def _median(run: Callable[[], object]) -> float:
    run()  # warm caches (permissions, templates, plans)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def name_token(n: int) -> str:
    """A surname-like word unique to row n (Knuth's multiplicative hash, in hex)."""
    return f"{n * 2654435761 % 4294967296:08x}"


def _varying(vendor: str) -> dict[str, str]:
    """SQL for the columns that differ from row to row, over the series column ``n`` (``%%``
    is a literal ``%`` in a statement with parameters, on both databases)."""
    if vendor == "postgresql":
        word = "lpad(to_hex((n::bigint * 2654435761) %% 4294967296), 8, '0')"
        received = "date '2019-01-01' + (n %% 2900)::int"
        respond = "date '2019-01-01' + (n %% 2900)::int + 30"
    else:
        word = "printf('%%08x', (n * 2654435761) %% 4294967296)"
        received = "date('2019-01-01', '+' || (n %% 2900) || ' days')"
        respond = "date('2019-01-01', '+' || ((n %% 2900) + 30) || ' days')"
    return {
        "requester_name": f"'Pat ' || {word}",
        "requester_email": f"'pat.' || {word} || '@mail' || (n %% 400) || '.example.com'",
        "status": "CASE WHEN n %% 5 = 0 THEN 'open' ELSE 'closed' END",
        "outcome": "CASE WHEN n %% 5 = 0 THEN '' ELSE 'fulfilled' END",
        "right": "CASE n %% 3 WHEN 0 THEN 'access' WHEN 1 THEN 'deletion' ELSE 'correction' END",
        "received_on": received,
        "respond_by": respond,
    }


def add_requests(first: int, last: int) -> None:
    """Rows ``first``..``last`` in one statement, every column from a prototype request."""
    from django.db import connection
    from django.utils import timezone

    from requests.models import DataSubjectRequest, Regime

    prototype = DataSubjectRequest(
        regime=Regime.objects.get(code="gdpr"),
        created_at=timezone.now(),
        details="Please send me a copy of my data.",
        service_named="Harmonyze Forms",
    )
    varying = _varying(connection.vendor)
    columns, expressions, params = [], [], []
    for field in DataSubjectRequest._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in varying:
            expressions.append(varying[field.column])
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(prototype, True), connection))
    table = connection.ops.quote_name(DataSubjectRequest._meta.db_table)
    if connection.vendor == "postgresql":
        series = "generate_series(%s, %s) AS n"
        prefix = ""
    else:
        series = "s"
        prefix = "WITH RECURSIVE s(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM s WHERE n < %s) "
    sql = (
        f"{prefix}INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (quoted names)
        f"SELECT {', '.join(expressions)} FROM {series}"
    )
    all_params = [first, last, *params] if prefix else [*params, first, last]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        if connection.vendor == "postgresql":
            # What autovacuum does on a live database: statistics and a visibility map.
            cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("VACUUM ANALYZE customers_customer")


def main() -> int:
    django_with_fresh_database()
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from harmonyze_portal.roles import COUNSEL
    from requests.models import DataSubjectRequest

    if connection.vendor == "postgresql":
        # The bench database is a throwaway (BENCH_DATABASE_URL): start from no requests.
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {DataSubjectRequest._meta.db_table} CASCADE")
    else:
        DataSubjectRequest.objects.all().delete()
    counsel, _ = get_user_model().objects.get_or_create(
        username="bench-lists-counsel", defaults={"is_staff": True}
    )
    counsel.groups.add(Group.objects.get(name=COUNSEL))
    # What django-otp's middleware sets once the second factor is verified.
    setattr(counsel, "is_verified", lambda: True)  # noqa: B010
    model_admin = admin.site._registry[DataSubjectRequest]
    email = f"pat.{name_token(SOUGHT)}@mail{SOUGHT % 400}.example.com"
    pages = {
        "plain": {},
        "filtered": {"status": "open"},
        "searched": {"q": name_token(SOUGHT)},
        "searched by email": {"q": email},
    }

    def page(query: dict[str, str]) -> Callable[[], Any]:
        def run() -> Any:
            request = RequestFactory().get("/admin/requests/datasubjectrequest/", query)
            request.user = counsel
            request._messages = CookieStorage(request)  # type: ignore[attr-defined]
            response = model_admin.changelist_view(request)
            response.render()
            assert response.status_code == 200, response.status_code
            return response

        return run

    def measure() -> dict[str, tuple[float, int]]:
        figures = {}
        for name, query in pages.items():
            took = _median(page(query))
            with CaptureQueriesContext(connection) as queries:
                page(query)()
            figures[name] = (took, len(queries))
        return figures

    add_requests(1, SMALL)
    small = measure()
    add_requests(SMALL + 1, LARGE)
    rows = DataSubjectRequest.objects.count()
    large = measure()

    failed = 0
    for name in pages:
        target = SEARCH_TARGET if name == "searched by email" else TARGET
        ratio = large[name][0] / small[name][0]
        ok = ratio <= target and large[name][1] == small[name][1] and rows == LARGE
        failed += not ok
        print(
            f"changelist {name}: {SMALL} rows {small[name][0] * 1000:.1f}ms "
            f"({small[name][1]} queries), {rows} rows {large[name][0] * 1000:.1f}ms "
            f"({large[name][1]} queries), ratio {ratio:.2f} (target <= {target}) "
            f"-> {'OK' if ok else 'FAIL'}"
        )
    print(f"changelist: on {connection.vendor}, {date.today():%Y-%m-%d}")
    return 1 if failed else 0
