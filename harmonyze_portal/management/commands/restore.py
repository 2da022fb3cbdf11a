"""`manage.py restore <backup.tar>`: verify a backup, then restore the database and documents.

Stop the web processes and the task worker first: the database is replaced in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harmonyze_portal.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by `manage.py backup`: checks every SHA-256 in its manifest "
        "first, then replaces the database and writes the documents into MEDIA_ROOT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The .tar file `manage.py backup` wrote.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a database that has user accounts, and restore over documents "
            "already in MEDIA_ROOT.",
        )

    def handle(self, *args: Any, archive: Path, force: bool, **options: Any) -> None:
        try:
            summary = restore(archive, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the {summary.vendor} database and {summary.documents} documents from "
            f"{archive}; every document matches the manifest."
        )
        if summary.left_in_place:
            self.stdout.write(
                f"{summary.left_in_place} files in MEDIA_ROOT that the backup does not hold "
                "were left in place."
            )
