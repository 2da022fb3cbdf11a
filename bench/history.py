"""H2: exporting 1,000,000 history rows takes at most 3x PostgreSQL's own
``COPY (...) TO STDOUT CSV`` of the same rows, and peak memory grows by less than 50 MB between
100,000 and 1,000,000 rows.

Needs PostgreSQL ($BENCH_DATABASE_URL, any database on the server): the run creates its own
database, ``harmonyze_bench_<pid>``, and drops it afterwards. The measurement runs in a child
process and reads its peak RSS from ``VmHWM``, reset before each size's exports: ``ru_maxrss``
carried the parent's peak over (and the migrations' peak hid the exports'), so the growth it
showed was always 0.0 MB.
$BENCH_HISTORY_ROWS scales the run down (the memory check then uses a tenth of it as the base).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROWS = int(os.environ.get("BENCH_HISTORY_ROWS", "1000000"))
VERSIONS = 10  # history rows per holiday: one creation, nine edits
TIME_TARGET = 3.0
MEMORY_TARGET_MB = 50.0
REPEATS = 5
TABLE = "harmonyze_portal_historicalpublicholiday"
COLUMNS = (
    "history_date, history_actor, id, history_record, date, name, history_type, "
    "history_change_reason"
)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> int:
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        print("history: SKIP (needs PostgreSQL: set BENCH_DATABASE_URL=postgres://…)")
        return 0
    import psycopg

    name = f"harmonyze_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(_with_database(base, "postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"history: SKIP (PostgreSQL not reachable: {str(exc).strip()})")
        return 0
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            env = {**os.environ, "BENCH_DATABASE_URL": _with_database(base, name)}
            return subprocess.run([sys.executable, "-m", "bench.history"], env=env).returncode
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _insert_history(cursor: Any, first: int, last: int) -> None:
    """History rows ``first`` to ``last`` - 1, written directly: a benchmark's fixture, not a
    change to any record, so no tracked model is bypassed."""
    # Constants only in the f-string; the bounds are parameters.
    cursor.execute(
        f"""
        INSERT INTO {TABLE}
            (id, history_actor, date, name, history_record, history_date,
             history_change_reason, history_type, history_user_id)
        SELECT g / {VERSIONS}, 'task: benchmark', DATE '2026-01-01' + (g / {VERSIONS}) %% 3650,
               'Holiday ' || (g / {VERSIONS}) || ' v' || (g %% {VERSIONS}),
               (DATE '2026-01-01' + (g / {VERSIONS}) %% 3650)::text || ' Holiday '
                   || (g / {VERSIONS}) || ' v' || (g %% {VERSIONS}),
               TIMESTAMPTZ '2026-01-01 00:00Z' + g * INTERVAL '1 second',
               CASE WHEN g %% {VERSIONS} = 0 THEN '' ELSE 'Renamed' END,
               CASE WHEN g %% {VERSIONS} = 0 THEN '+' ELSE '~' END, NULL
        FROM generate_series(%s, %s) AS g
        """,  # noqa: S608
        [first, last - 1],
    )
    cursor.execute(f"ANALYZE {TABLE}")


def _export(view: Any, request: Any) -> tuple[float, int]:
    started = time.perf_counter()
    response = view(request)
    assert response.status_code == 200, response.status_code
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    return time.perf_counter() - started, size


def _copy(connection: Any) -> tuple[float, int]:
    sql = (
        f"COPY (SELECT {COLUMNS} FROM {TABLE} ORDER BY id, history_date, history_id) "  # noqa: S608
        "TO STDOUT CSV"
    )
    started = time.perf_counter()
    size = 0
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql) as copy:
        for data in copy:
            size += len(data)
    return time.perf_counter() - started, size


def run() -> int:
    from bench.setup import django_with_fresh_database, peak_rss_mb, reset_peak_rss

    django_with_fresh_database()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import RequestFactory

    from harmonyze_portal.history_export import export_view

    auditor = get_user_model().objects.create_superuser("auditor", "auditor@harmonyze.com")
    request = RequestFactory().get(
        "/admin/history/export/", {"model": "harmonyze_portal.publicholiday"}
    )
    request.user = auditor

    small = ROWS // 10
    with connection.cursor() as cursor:
        _insert_history(cursor, 0, small)
    # Each size's peak since a reset: the exports' own, not the set-up's or the migrations'.
    reset_peak_rss()
    _export(export_view, request)
    base_rss = peak_rss_mb()

    with connection.cursor() as cursor:
        _insert_history(cursor, small, ROWS)
    reset_peak_rss()
    # Each export is timed next to a COPY and the median of those paired ratios is reported:
    # this machine's neighbours come and go, and a pair shares the same conditions.
    export_runs, copy_runs = [], []
    for _ in range(REPEATS):
        export_seconds, export_bytes = _export(export_view, request)
        export_runs.append(export_seconds)
        copy_runs.append(_copy(connection)[0])
    growth = peak_rss_mb() - base_rss
    ratios = [export / copy for export, copy in zip(export_runs, copy_runs, strict=True)]
    ratio = statistics.median(ratios)
    export_seconds, copy_seconds = statistics.median(export_runs), statistics.median(copy_runs)
    ok = ratio <= TIME_TARGET and growth < MEMORY_TARGET_MB
    print(
        f"history: {ROWS} history rows -> {export_bytes / 1e6:.0f} MB of CSV in "
        f"{export_seconds:.1f} s; COPY TO STDOUT CSV {copy_seconds:.1f} s (medians of {REPEATS}); "
        f"ratio {ratio:.2f} (target <= {TIME_TARGET}; median of "
        f"{', '.join(f'{r:.2f}' for r in ratios)}); "
        f"peak RSS growth {small} -> {ROWS} rows {growth:.1f} MB (target < "
        f"{MEMORY_TARGET_MB:.0f}) -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(run())
