"""C2, H2 at scale: the DPA register of 100,000 DPAs exported as CSV at least twice as fast as
django-import-export's ``Resource.export()`` of the same rows (the dataset alone, before any
file is written), and the export's peak memory grows by less than 20 MB from 10,000 to 100,000
DPAs.

The time is the median of paired runs, each export timed next to a ``Resource.export()``. The
memory is each export's own: a fresh process per size sets Django up, exports the first N DPAs
through the admin's export path, and reports its peak RSS (``VmHWM``); the figure is the
100,000-DPA process's peak minus the 10,000-DPA one's. (``ru_maxrss`` of a child started from
a big parent begins at the parent's peak, so it could not see any growth.)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.setup import peak_rss_mb, reset_peak_rss, run_in_child

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
SPEED_TARGET = 2.0
MEMORY_TARGET_MB = 20.0
REPEATS = 3


def main() -> int:
    return run_in_child("bench.exports", "exports")


def _seed(count: int) -> None:
    """``count`` customers, each with a DPA in force; written with their history."""
    from customers.models import DPA, Customer
    from harmonyze_portal.history import acting_as, bulk_create_with_history

    batch = 5000
    with acting_as("task: benchmark setup"):
        for first in range(0, count, batch):
            customers = bulk_create_with_history(
                [
                    Customer(
                        legal_name=f"Customer {n:06d} GmbH",
                        agreement_effective_on=date(2020, 1, 1) + timedelta(days=n % 1500),
                    )
                    for n in range(first, min(first + batch, count))
                ],
                Customer,
            )
            bulk_create_with_history(
                [
                    DPA(
                        customer=customer,
                        version="2024-03",
                        signed_on=customer.agreement_effective_on,
                        effective_on=customer.agreement_effective_on,
                        uk_addendum=n % 3 == 0,
                        supervisory_authority="=cmd|' /C calc'!A0" if n % 1000 == 0 else "BfDI",
                        supervisory_authority_country="Germany",
                    )
                    for n, customer in enumerate(customers, start=first)
                ],
                DPA,
            )


@dataclass
class _Read:
    """What came down the stream, counted as it came: the reader keeps no copy, so the peak
    memory measured is the export's, not a reader's holding the whole file."""

    seconds: float = 0.0
    size: int = 0
    lines: int = 0
    neutralised: bool = False


def _admin_export(rows: int | None, file_format: Any = None) -> _Read:
    """The admin's export path for the first ``rows`` DPAs (all when None): its changelist
    queryset, then the register's streamed download, read to the end."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from import_export.formats import base_formats

    from customers.models import DPA

    model_admin = admin.site.get_model_admin(DPA)
    request = RequestFactory().get("/admin/customers/dpa/export/")
    request.user = get_user_model().objects.get(username="auditor")
    started = time.perf_counter()
    queryset = model_admin.get_export_queryset(request)  # type: ignore[attr-defined]
    if rows is not None:
        queryset = queryset.filter(pk__lte=rows)
    response = model_admin._do_file_export(  # type: ignore[attr-defined]
        file_format or base_formats.CSV(), request, queryset
    )
    assert response.status_code == 200, response.status_code
    read = _Read()
    for piece in response.streaming_content:
        read.size += len(piece)
        read.lines += piece.count(b"\n")
        read.neutralised = read.neutralised or b"'=cmd|" in piece
    read.seconds = time.perf_counter() - started
    return read


def _resource_export() -> tuple[float, int]:
    from customers.exports import DPARegisterResource
    from customers.models import DPA

    started = time.perf_counter()
    dataset = DPARegisterResource().export(queryset=DPA.objects.order_by("-pk"))
    return time.perf_counter() - started, len(dataset)


def _peak_mb(rows: int) -> float:
    """Peak RSS of a fresh process that exports the first ``rows`` DPAs."""
    done = subprocess.run(  # noqa: S603 - this module, in a fresh interpreter
        [sys.executable, "-m", "bench.exports", "--peak", str(rows)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_DATABASE_URL": os.environ["DATABASE_URL"]},  # this database
    )
    return float(done.stdout.strip().splitlines()[-1])


def peak(rows: int) -> int:
    from bench.setup import django_with_fresh_database

    django_with_fresh_database()  # the parent's database (BENCH_DATABASE_URL), its DPAs
    reset_peak_rss()  # the export's own peak, not the migrations'
    read = _admin_export(rows)
    assert read.lines == rows + 1, (read.lines, rows)
    print(f"{peak_rss_mb():.1f}")
    return 0


def run() -> int:
    from bench.setup import django_with_fresh_database

    django_with_fresh_database()
    from django.contrib.auth import get_user_model
    from django.db import connection

    get_user_model().objects.create_superuser("auditor", "auditor@harmonyze.com")
    started = time.perf_counter()
    _seed(ROWS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    print(f"exports: seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    _admin_export(1000)  # warm up both paths
    _resource_export()
    export_runs, resource_runs = [], []
    for _ in range(REPEATS):
        read = _admin_export(None)
        export_runs.append(read.seconds)
        resource_seconds, resource_rows = _resource_export()
        resource_runs.append(resource_seconds)
    assert read.lines == ROWS + 1 == resource_rows + 1
    assert read.neutralised, "formula neutralising stays"
    speedups = [r / e for e, r in zip(export_runs, resource_runs, strict=True)]
    speedup = statistics.median(speedups)

    small, large = ROWS // 10, ROWS
    growth = _peak_mb(large) - _peak_mb(small)

    ok = speedup >= SPEED_TARGET and growth < MEMORY_TARGET_MB
    print(
        f"exports: DPA register of {ROWS} DPAs as CSV ({read.size / 1e6:.1f} MB) in "
        f"{statistics.median(export_runs):.2f} s; import-export Resource.export() "
        f"{statistics.median(resource_runs):.2f} s; {speedup:.2f}x as fast (target >= "
        f"{SPEED_TARGET}; median of {', '.join(f'{s:.2f}' for s in speedups)}); "
        f"peak RSS growth {small} -> {large} DPAs {growth:.1f} MB "
        f"(target < {MEMORY_TARGET_MB:.0f}) -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        raise SystemExit(peak(int(sys.argv[2])))
    raise SystemExit(run())
