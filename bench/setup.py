"""A throwaway database and Django set up for a benchmark run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_ready = False


def django_with_fresh_database() -> Path:
    """Configure Django on a new SQLite file (or $BENCH_DATABASE_URL, emptied) and migrate it."""
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
        if "BENCH_DATABASE_URL" in os.environ:
            # A PostgreSQL database outlives the run: start from empty tables every time.
            call_command("flush", interactive=False, verbosity=0)
        _ready = True
    return folder
