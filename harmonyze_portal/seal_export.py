"""The seal columns of the history export (DOMAIN.md H2, H3).

With seals asked for, each line of the export also carries its version's history id, the
version text that was hashed, that hash, and the seal covering it (number, the ids it covers,
how many rows, the previous seal's hash and its own). A version a PP 4 purge blanked also
carries the hash it had when it was written, which its seal covers, and says it was redacted.
``docs/verify_history_export.py`` recomputes every seal the file holds whole from these
columns alone (README: History seals).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from django.db import models

from harmonyze_portal.seals import (
    columns,
    redactions,
    seal_index,
    sealed_hash,
    sha256_hex,
    version_text,
)

SEAL_HEADER = [
    "history id",
    "version",
    "version sha256",
    "redacted",
    "sha256 as sealed",
    "seal",
    "seal after id",
    "seal last id",
    "seal rows",
    "previous seal sha256",
    "seal sha256",
]
NOT_SEALED = [""] * 6
REDACTED = "PP 4"  # the "redacted" cell of a version whose personal data a purge blanked


class SealColumns:
    """The seal cells of one historical table's rows, loaded a batch of ids at a time."""

    def __init__(self, history_model: type[models.Model]) -> None:
        self.model = history_model
        self.label = history_model._meta.label_lower
        self.names = columns(history_model)
        self.index = self.names.index(history_model._meta.pk.attname)
        self.seals = seal_index(self.label)
        self.lasts = [seal.last_id for seal in self.seals]
        self.cells: dict[Any, list[Any]] = {}

    def prime(self, ids: Iterable[Any]) -> None:
        """Read the versions of these history ids in one query."""
        wanted = list(ids)
        rows = self.model._default_manager.filter(pk__in=wanted).values_list(*self.names)
        blanked = redactions(self.label, row_id__in=wanted)
        self.cells = {}
        for values in rows:
            history_id = values[self.index]
            text = version_text(self.label, self.names, values)
            sealed, redacted = sealed_hash(text, blanked.get(history_id))
            redaction = [REDACTED, sealed] if redacted else ["", ""]
            self.cells[history_id] = [
                history_id,
                text,
                sha256_hex(text),
                *redaction,
                *self._seal(history_id),
            ]

    def _seal(self, history_id: int) -> list[Any]:
        position = bisect_left(self.lasts, history_id)
        if position == len(self.seals):
            return NOT_SEALED
        seal = self.seals[position]
        return [
            seal.number,
            seal.after_id,
            seal.last_id,
            seal.row_count,
            seal.previous_sha256,
            seal.sha256,
        ]

    def __getitem__(self, history_id: Any) -> list[Any]:
        return self.cells[history_id]
