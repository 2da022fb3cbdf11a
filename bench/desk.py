"""T5 at scale: the deadline desk with 100,000 open items against the same desk with 1,000.

Each source is one indexed ``ORDER BY due LIMIT`` query and one exact ``COUNT`` over a partial
index matching its open filter, so the page should cost about the same whatever the number of
open items. Target: at most 1.5x.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from bench.setup import django_with_fresh_database

SMALL = int(os.environ.get("BENCH_DESK_SMALL", "1000"))
LARGE = int(os.environ.get("BENCH_DESK_LARGE", "100000"))
ROUNDS = 15
TARGET = 1.5


def _best(run: Callable[[], object]) -> float:
    run()  # warm caches (permissions, templates)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    django_with_fresh_database()
    from django.conf import settings
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import RequestFactory

    from customers.models import AssistanceRequest, Customer
    from harmonyze_portal import desk
    from harmonyze_portal.clock import legal_today
    from harmonyze_portal.history import acting_as, bulk_create_with_history
    from harmonyze_portal.roles import COUNSEL

    # The index reads the clock, so the items are spread around today's legal date.
    today = legal_today()
    counsel = get_user_model().objects.create_user("counsel", is_staff=True)
    counsel.groups.add(Group.objects.get(name=COUNSEL))
    request = RequestFactory().get("/admin/")
    # What django-otp's middleware sets once the second factor is verified.
    setattr(counsel, "is_verified", lambda: True)  # noqa: B010
    request.user = counsel

    def add_open_items(count: int) -> None:
        """Assistance requests (C6) due from five weeks ago to five weeks ahead."""
        with acting_as("task: benchmark setup"):
            customers = bulk_create_with_history(
                [
                    Customer(legal_name=f"Customer {n} {count}", agreement_effective_on=today)
                    for n in range(50)
                ],
                Customer,
            )
            rows = []
            for n in range(count):
                received = today - timedelta(days=n % 70)
                rows.append(
                    AssistanceRequest(
                        customer=customers[n % len(customers)],
                        kind="dpia",
                        received_on=received,
                        due_on=received + timedelta(days=settings.ASSISTANCE_TARGET_DAYS),
                    )
                )
            bulk_create_with_history(rows, AssistanceRequest)
        settle()

    def settle() -> None:
        """What autovacuum does on a live PostgreSQL database: fresh statistics (without them
        the planner takes the rows just inserted for a few and picks a bitmap scan) and a
        visibility map, so each exact count is an index-only scan of its partial index."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE customers_assistancerequest")

    def page() -> None:
        """The admin index as counsel gets it: the desk, its filter and the app list."""
        admin.site.index(request).render()

    def items_only() -> None:
        desk.deadline_items(counsel, today)

    add_open_items(SMALL)
    small_items, small_page = _best(items_only), _best(page)
    add_open_items(LARGE - SMALL)
    open_now = AssistanceRequest.objects.open().count()
    large_items, large_page = _best(items_only), _best(page)

    ratio = large_page / small_page
    ok = ratio <= TARGET and open_now == LARGE
    print(
        f"desk: deadline_items {SMALL} open {small_items * 1000:.1f}ms, {open_now} open "
        f"{large_items * 1000:.1f}ms (ratio {large_items / small_items:.2f}); "
        f"items + page render {small_page * 1000:.1f}ms vs {large_page * 1000:.1f}ms, "
        f"ratio {ratio:.2f} (target <= {TARGET}) -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1
