"""A throwaway database and Django set up for a benchmark run."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_ready = False


def django_with_fresh_database() -> Path:
    """Configure Django on a new SQLite file (or a new database on $BENCH_DATABASE_URL's
    PostgreSQL server) and migrate it."""
    global _ready
    folder = Path(tempfile.mkdtemp(prefix="harmonyze-bench-"))
    if not _ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        os.environ["DATABASE_URL"] = _own_postgres_database() or os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}"
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
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


def _own_postgres_database() -> str | None:
    """On PostgreSQL, a new database for this run (``harmonyze_bench_main_<pid>``, dropped when the
    process ends), so every run starts from the migrated state: emptying a database that
    outlives the run would also drop the rows the migrations seed (the regimes, holidays).
    None on SQLite, or when :func:`run_in_child` already made one."""
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return None
    if urlsplit(base).path.lstrip("/").startswith("harmonyze_bench_"):
        return None
    import psycopg

    name = f"harmonyze_bench_main_{os.getpid()}"  # run_in_child's are harmonyze_bench_<pid>
    admin = _with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return _with_database(base, name)


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
