"""`manage.py verify_history`: recompute every history seal from the rows (DOMAIN.md H3).

Prints, per history table, its seals and the newest seal's hash (compare it with the one
``seal_history`` printed when it wrote it), or the first broken seal with the history ids it
covers. Exits 1 when any seal is broken, 0 otherwise; rows not sealed yet are counted, not
failed. Rows a PP 4 purge blanked, each disclosed by its redaction entry, are counted apart
("N rows redacted under PP 4"): their seals count the hash they had when written.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonyze_portal.seals import verify_history


class Command(BaseCommand):
    help = "Check every history row against its seal (H3); exit 1 on the first broken seal."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = redacted = 0
        for check in verify_history():
            if check.broken is not None:
                broken += 1
                found = check.broken
                covers = (
                    f" covering history ids {found['after_id'] + 1} to {found['last_id']} "
                    f"({found['sealed_rows']} rows sealed, {found['found_rows']} found)"
                    if "last_id" in found
                    else ""
                )
                self.stderr.write(
                    f"BROKEN {check.table}: seal {found['number']}{covers}: {found['problem']}"
                )
                continue
            redacted += check.redacted_rows
            blanked = f" ({check.redacted_rows} redacted under PP 4)" if check.redacted_rows else ""
            self.stdout.write(
                f"ok {check.table}: {check.seals} seals over {check.sealed_rows} rows{blanked}, "
                f"{check.unsealed_rows} not sealed yet, head {check.head}"
            )
        if broken:
            self.stderr.write(f"{broken} history tables have a broken seal.")
            raise SystemExit(1)
        self.stdout.write(f"{redacted} rows redacted under PP 4 (see History redactions).")
        self.stdout.write("Every seal matches its rows.")
