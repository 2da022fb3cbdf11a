"""What changed between two versions of a record, in words an auditor reads (DOMAIN.md H1, H2).

Shared by the admin's history page and the CSV export. Both walk historical rows in order and
compare each with the previous row of the same record, so neither queries per row: the names
behind foreign keys are loaded for a whole batch of rows at once (:meth:`ValueRenderer.prime`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils.text import capfirst

from harmonyze_portal.history import unnamed

CREATED, CHANGED, DELETED = "+", "~", "-"


def tracked_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields whose history is kept, without the primary key (the record column shows it)."""
    history_model: Any = model.history.model  # type: ignore[attr-defined]
    return [field for field in history_model.tracked_fields if not field.primary_key]


def field_label(field: models.Field[Any, Any]) -> str:
    return capfirst(str(field.verbose_name))


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


def changed_attnames(
    fields: Sequence[models.Field[Any, Any]],
    previous: Sequence[Any] | None,
    current: Sequence[Any],
    history_type: str,
) -> list[int]:
    """Indexes of the fields a historical row records as changed.

    A creation lists every field (before: nothing), a deletion too (after: nothing); an edit
    lists the fields that differ from the record's previous row. An edit whose previous row is
    missing (history kept from before tracking began) is shown whole, like a creation.
    """
    if history_type != CHANGED or previous is None:
        return list(range(len(fields)))
    return [index for index in range(len(fields)) if previous[index] != current[index]]


def recorded_names(model: Any, ids: Iterable[Any]) -> dict[Any, str]:
    """Each record's most recent name from its own history (``history_record``), with
    "(deleted)" once that history ends in a deletion. Users are named by their full name."""
    history: Any = model.history.model
    key = model._meta.pk.attname
    latest = (
        history._default_manager.filter(**{key: OuterRef(key)})
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    rows = history._default_manager.filter(
        **{f"{key}__in": list(ids)}, history_id=Subquery(latest)
    ).values_list(key, "history_record", "history_type")
    return {
        pk: (name or unnamed(model, pk)) + (" (deleted)" if kind == DELETED else "")
        for pk, name, kind in rows
    }


class ValueRenderer:
    """Stored values as text: choice labels, names behind foreign keys, ISO dates.

    Names are looked up once per batch of rows (:meth:`prime`) and only that batch's are kept,
    so memory stays flat however long the history is.
    """

    def __init__(
        self,
        fields: Sequence[models.Field[Any, Any]],
        format_datetime: Callable[[datetime], str],
    ) -> None:
        self.fields = list(fields)
        self.format_datetime = format_datetime
        self.choices = [
            {key: str(label) for key, label in field.flatchoices} if field.choices else None
            for field in self.fields
        ]
        self.foreign = [
            index
            for index, field in enumerate(self.fields)
            if field.many_to_one or field.one_to_one
        ]
        self.names: dict[int, dict[Any, str]] = {}

    def prime(self, rows: Iterable[Sequence[Any]]) -> None:
        """Load the names behind every foreign key in ``rows``: one query per related model."""
        if not self.foreign:
            return
        wanted: dict[int, set[Any]] = {index: set() for index in self.foreign}
        for row in rows:
            for index in self.foreign:
                if row[index] is not None:
                    wanted[index].add(row[index])
        self.names = {
            index: recorded_names(self.fields[index].related_model, ids) if ids else {}
            for index, ids in wanted.items()
        }

    def render(self, index: int, value: Any) -> str:
        if value is None:
            return ""
        choices = self.choices[index]
        if choices is not None:
            return choices.get(value, str(value))
        if index in self.names:
            related = self.fields[index].related_model
            return self.names[index].get(value) or f"{unnamed(related, value)} (deleted)"
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, datetime):
            return self.format_datetime(value)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def changes(
        self, previous: Sequence[Any] | None, current: Sequence[Any], history_type: str
    ) -> list[FieldChange]:
        result = []
        for index in changed_attnames(self.fields, previous, current, history_type):
            field = self.fields[index]
            value = self.render(index, current[index])
            if history_type == DELETED:
                old, new = value, ""
            elif history_type == CREATED or previous is None:
                old, new = "", value
            else:
                old, new = self.render(index, previous[index]), value
            result.append(FieldChange(field.name, field_label(field), old, new))
        return result
