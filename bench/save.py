"""H1 at every save: a tracked ``save()`` (the record, its history row with actor, name and
reason) costs at most 1.6x the same save with history off, measured in the same run.

Two ways a record is saved are measured, each against itself with history off: a staff
member's edit in the admin (one transaction per save, the member signed in, a reason typed)
and a background task's bare ``save()`` (autocommit, an actor from ``acting_as``). Each round
times a batch of tracked saves next to a batch of untracked ones of the same record; the
figure is the median of the paired ratios, because this machine's neighbours come and go.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from typing import Any

from bench.setup import run_in_child

SAVES = int(os.environ.get("BENCH_SAVES", "200"))
ROUNDS = 15
TARGET = 1.6


def main() -> int:
    return run_in_child("bench.save", "save")


def _timed(saves: int, save: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for n in range(saves):
        save(n)
    return time.perf_counter() - started


def _paired(save: Callable[[int, bool], None]) -> tuple[float, list[float]]:
    for n in range(20):  # warm up both paths
        save(n, True)
        save(n, False)
    ratios = []
    for round_ in range(ROUNDS):
        # Alternate which goes first, so neither always runs on a warmer cache.
        order = (True, False) if round_ % 2 else (False, True)
        seconds = {tracked: _timed(SAVES, lambda n, t=tracked: save(n, t)) for tracked in order}
        ratios.append(seconds[True] / seconds[False])
    return statistics.median(ratios), ratios


def run() -> int:
    from bench.setup import django_with_fresh_database

    django_with_fresh_database()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import RequestFactory
    from simple_history.models import HistoricalRecords

    from customers.models import Customer
    from harmonyze_portal.history import acting_as

    counsel = get_user_model().objects.create_user("counsel", is_staff=True)
    with acting_as("task: benchmark setup"):
        customer = Customer(legal_name="Acme Corp", agreement_effective_on=date(2024, 1, 1))
        customer.save()
    before = customer.history.count()  # type: ignore[attr-defined]

    def edit(n: int, tracked: bool, atomic: Callable[[], AbstractContextManager[Any]]) -> None:
        customer.legal_name = f"Acme Corp {n}"
        if tracked:
            customer._change_reason = "Corrected the legal name"  # type: ignore[attr-defined]
        else:
            customer.skip_history_when_saving = True  # type: ignore[attr-defined]
        with atomic():
            customer.save()
        if not tracked:
            del customer.skip_history_when_saving  # type: ignore[attr-defined]

    @contextmanager
    def signed_in() -> Iterator[None]:
        # What simple-history's middleware does for an admin request.
        request = RequestFactory().post("/admin/customers/customer/1/change/")
        request.user = counsel
        HistoricalRecords.context.request = request
        try:
            yield
        finally:
            del HistoricalRecords.context.request

    with signed_in():
        admin_ratio, _ = _paired(lambda n, t: edit(n, t, transaction.atomic))
    with acting_as("task: benchmark"):
        task_ratio, _ = _paired(lambda n, t: edit(n, t, nullcontext))

    # The tracked saves really wrote their rows, each with who and why.
    written = customer.history.count() - before  # type: ignore[attr-defined]
    expected = 2 * (20 + ROUNDS * SAVES)
    assert written == expected, (written, expected)
    last = customer.history.first()  # type: ignore[attr-defined]
    assert last.history_actor == "task: benchmark", last.history_actor
    assert last.history_change_reason == "Corrected the legal name"
    assert last.history_record == customer.legal_name

    ok = admin_ratio <= TARGET and task_ratio <= TARGET
    print(
        f"save: tracked save() vs the same save with history off, {SAVES} saves x {ROUNDS} "
        f"rounds; admin edit (one transaction, signed in, reason) ratio {admin_ratio:.2f}, "
        f"task save (autocommit, acting_as) ratio {task_ratio:.2f} (target <= {TARGET}; "
        f"medians of paired rounds) -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(run())
