"""A throwaway database and Django set up for a benchmark run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_ready = False


def django_with_fresh_database(*, keep_rows: bool = False) -> Path:
    """Configure Django on a new SQLite file (or $BENCH_DATABASE_URL, emptied) and migrate it.

    ``keep_rows``: a child reading the rows its parent wrote to $BENCH_DATABASE_URL (the
    exports bench's memory runs) must not empty it first."""
    global _ready
    folder = Path(tempfile.mkdtemp(prefix="harmonyze-bench-"))
    if not _ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        os.environ["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}"
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        if "BENCH_DATABASE_URL" in os.environ and not keep_rows:
            # A PostgreSQL database outlives the run: start from empty tables every time.
            call_command("flush", interactive=False, verbosity=0)
        _ready = True
    return folder


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``), in MB.

    Not ``getrusage().ru_maxrss``: Linux carries that over from the parent, so a benchmark
    started from a process that once used more memory reads the parent's peak and cannot see
    its own growth (it read 0.0 MB whatever the export did).
    """
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def reset_peak_rss() -> None:
    """Start this process's peak RSS afresh (Linux: ``5`` to ``/proc/self/clear_refs``), so
    the next :func:`peak_rss_mb` is the peak of what ran since, not of Django's set-up or the
    migrations before it."""
    Path("/proc/self/clear_refs").write_text("5")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run_in_child(module: str, label: str) -> int:
    """Run ``python -m <module>`` in a fresh process on a database of its own.

    A fresh process, so its peak memory and its caches are its own and not those of the
    benchmarks run before it; its own database, so a second run starts from the same empty
    tables. On PostgreSQL ($BENCH_DATABASE_URL, any database on the server) it creates
    ``harmonyze_bench_<pid>`` and drops it afterwards; on SQLite the child makes a new file.
    """
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return subprocess.run([sys.executable, "-m", module]).returncode  # noqa: S603
    import psycopg

    name = f"harmonyze_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(_with_database(base, "postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"{label}: SKIP (PostgreSQL not reachable: {str(exc).strip()})")
        return 0
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            env = {**os.environ, "BENCH_DATABASE_URL": _with_database(base, name)}
            return subprocess.run([sys.executable, "-m", module], env=env).returncode  # noqa: S603
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
