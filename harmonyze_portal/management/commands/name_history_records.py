"""`manage.py name_history_records`: name the history rows written before rows kept names.

Run once after upgrading past the migrations that added ``history_record``; running it again
names nothing new. Rows left unnamed still export, as "<type> #<id>".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harmonyze_portal.history import name_unnamed_versions


class Command(BaseCommand):
    help = "Give every history row written before names were kept the name of its record."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="History rows named per transaction (default 1000).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1.")
            raise SystemExit(2)
        named = name_unnamed_versions(batch_size=batch_size)
        for label, count in sorted(named.items()):
            self.stdout.write(f"{label}: {count} history rows named")
        self.stdout.write(f"{sum(named.values())} history rows named in all.")
