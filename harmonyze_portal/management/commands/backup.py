"""`manage.py backup <folder or file>`: the database and every document, with a manifest.

See ``harmonyze_portal/backup.py`` for the archive's layout and why the database is dumped
before the documents are copied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harmonyze_portal.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database and every document under MEDIA_ROOT into one .tar file with a "
        "manifest of SHA-256 hashes. Never overwrites an existing backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target",
            type=Path,
            help="A new .tar file to write, or an existing folder to write "
            "harmonyze-backup-<UTC time>.tar into.",
        )

    def handle(self, *args: Any, target: Path, **options: Any) -> None:
        try:
            archive, manifest = backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        files = manifest["files"]
        size = sum(entry["size"] for entry in files)
        self.stdout.write(
            f"Backup written to {archive}: the {manifest['database']['vendor']} database and "
            f"{len(files)} documents ({size / 1024 / 1024:.1f} MB)."
        )
