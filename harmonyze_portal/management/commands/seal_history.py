"""`manage.py seal_history`: seal the history rows written since the last run (DOMAIN.md H3).

Run it from cron (hourly, say). It writes one seal per history table that has new rows, each
chained to that table's previous seal, and prints each table's newest seal hash: keep that
output somewhere the database's administrators cannot rewrite (the cron mail, a ticket), so a
rewrite of the whole chain is caught too. A second run finds nothing new; two runs at once
write each seal once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonyze_portal.seals import seal_history


class Command(BaseCommand):
    help = "Seal the history rows written since the last run (H3): one chained seal per table."

    def handle(self, *args: Any, **options: Any) -> None:
        seals = seal_history()
        for seal in seals:
            self.stdout.write(
                f"{seal.history_table}: seal {seal.number} over {seal.row_count} rows "
                f"(ids to {seal.last_id}) {seal.sha256}"
            )
        self.stdout.write(f"{len(seals)} seals written.")
