"""Retention of what the public forms collect (PP 4), and the one place history is rewritten.

PP 4 keeps personal information only as long as needed. A Notice Form signup, a privacy request
or an audit plan whose email was never confirmed is not a signup, a request or a plan (S2, R3,
A2): once its link has expired it is purged. Each area registers its purge here, from its own
``<area>/retention.py`` (found the way the admin finds ``admin.py``), and
``manage.py purge_unconfirmed`` runs them all.

Deleting a tracked record is not enough: simple-history writes the deleted row's fields into a
"deleted" history row, and every earlier history row of the record holds them too, so the
name, email address, IP address and text sent would stay in the history for good. :func:`forget`
deletes the record and then blanks those fields in every history row of that record, and the
name the rows keep for it. What stays is that the record existed, when it was created, that it
was purged, by which job and why (H1): the history keeps that it was purged, not the data.

This is the one deliberate rewrite of history rows, limited to records that never became a
signup, request or plan, and it is disclosed: in the same transaction, each blanked row gets a
:class:`~harmonyze_portal.models.HistoryRedaction` entry (its table and id, its hash as written
and once blanked, when, by which job and why; no personal data), so that the seals (H3) still
verify and report the row as redacted under PP 4 instead of as tampered with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction

from harmonyze_portal.history import current_actor, current_reason, type_name
from harmonyze_portal.models import HistoryRedaction
from harmonyze_portal.seals import columns, sha256_hex, version_text

PURGED = "purged (PP 4)"
REDACTION_REASON = "Personal data of an unconfirmed public submission purged (PP 4)"
# Field types that carry what a person typed or sent, or where they sent it from.
_PERSONAL_TYPES = (
    models.CharField,
    models.TextField,
    models.GenericIPAddressField,
    models.FileField,
    models.JSONField,
)


@dataclass(frozen=True)
class Purge:
    area: str
    what: str  # "unconfirmed Notice Form signups": how the command's output names them
    run: Callable[[datetime], int]  # purges what expired by ``now``; returns how many


_purges: dict[tuple[str, str], Purge] = {}


def register(area: str, what: str, run: Callable[[datetime], int]) -> None:
    """Called by ``<area>/retention.py``. Registering the same purge again replaces it."""
    _purges[(area, what)] = Purge(area, what, run)


def purges() -> list[Purge]:
    return list(_purges.values())


def redactable_fields(model: type[models.Model], keep: Iterable[str] = ()) -> list[models.Field]:
    """The fields :func:`forget` blanks: free text, addresses, files and IPs; not the keys,
    dates, numbers or fixed choices (a status says nothing about a person), nor ``keep``."""
    kept = set(keep)
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, _PERSONAL_TYPES)
        and not field.choices
        and not field.primary_key
        and field.name not in kept
    ]


def _blank(field: models.Field) -> Any:
    return None if field.null else ""


def _row_hashes(history: type[models.Model], rows: models.QuerySet[Any]) -> dict[int, str]:
    """history id -> SHA-256 of the version text the seals hash (H3), for these rows."""
    names = columns(history)
    label = history._meta.label_lower
    index = names.index(history._meta.pk.attname)
    return {
        values[index]: sha256_hex(version_text(label, names, values))
        for values in rows.values_list(*names)
    }


def forget(instance: models.Model, *, keep: Iterable[str] = ()) -> int:
    """Delete ``instance`` and blank its personal fields in all its history rows, the
    "deleted" row included, each blanked row disclosed by a redaction entry (H3); returns how
    many history rows were blanked. Call it inside ``acting_as(job, reason)`` so the deleted
    row and the entries say who purged it and why (H1)."""
    model = type(instance)
    pk = instance.pk
    history = model.history.model  # type: ignore[attr-defined]
    columns_ = {field.attname for field in history._meta.concrete_fields}
    blanks = {
        field.attname: _blank(field)
        for field in redactable_fields(model, keep)
        if field.attname in columns_
    }
    rows = history._default_manager.filter(**{model._meta.pk.attname: pk})
    with transaction.atomic():
        instance.delete()
        written = _row_hashes(history, rows)
        # A QuerySet update of history rows: no history of the history, and no signal.
        count = int(rows.update(**blanks, history_record=f"{type_name(model)} #{pk}, {PURGED}"))
        blanked = _row_hashes(history, rows)
        job, why = current_actor(), (current_reason() or REDACTION_REASON)[:200]
        for row_id, sealed in sorted(written.items()):
            if blanked[row_id] != sealed:  # a row with nothing to blank is left as it was
                HistoryRedaction(
                    history_table=history._meta.label_lower,
                    row_id=row_id,
                    sealed_sha256=sealed,
                    redacted_sha256=blanked[row_id],
                    job=job,
                    reason=why,
                ).save()
        return count


def run_all(now: datetime) -> list[tuple[Purge, int]]:
    """Every registered purge, in registration order, each in its own transactions."""
    return [(purge, purge.run(now)) for purge in purges()]
