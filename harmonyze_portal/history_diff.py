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

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models.base import ModelState
from django.utils.text import capfirst

CREATED, CHANGED, DELETED = "+", "~", "-"


def tracked_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields whose history is kept, without the primary key (the record column shows it)."""
    history_model: Any = model.history.model  # type: ignore[attr-defined]
    return [field for field in history_model.tracked_fields if not field.primary_key]


def field_label(field: models.Field[Any, Any]) -> str:
    return capfirst(str(field.verbose_name))


def person_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


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
        self.objects: dict[int, dict[Any, models.Model]] = {}

    def prime(self, rows: Iterable[Sequence[Any]]) -> None:
        """Load the names behind every foreign key in ``rows``: one query per related model."""
        if not self.foreign:
            return
        wanted: dict[int, set[Any]] = {index: set() for index in self.foreign}
        for row in rows:
            for index in self.foreign:
                if row[index] is not None:
                    wanted[index].add(row[index])
        self.names, self.objects = {}, {}
        user_model = get_user_model()
        for index, ids in wanted.items():
            related: Any = self.fields[index].related_model
            objects = related._base_manager.in_bulk(ids) if ids else {}
            self.objects[index] = objects
            self.names[index] = {
                pk: person_name(obj) if related is user_model else str(obj)
                for pk, obj in objects.items()
            }

    def record_label(self, model: type[models.Model], values: dict[str, Any]) -> str:
        """``str()`` of the record as this row stood, its foreign keys taken from the batch's
        names (a ``__str__`` that follows one must not query per row)."""
        # Built without __init__ (no signals, no defaults): one per exported row adds up.
        instance = model.__new__(model)
        instance._state = ModelState()
        instance._state.adding = False
        instance.__dict__.update(values)
        for index, objects in self.objects.items():
            related = objects.get(values.get(self.fields[index].attname))
            if related is not None:
                self.fields[index].set_cached_value(instance, related)  # type: ignore[attr-defined]
        try:
            return str(instance)
        except (AttributeError, TypeError, ValueError, ObjectDoesNotExist):
            return f"{capfirst(str(model._meta.verbose_name))} #{instance.pk}"

    def render(self, index: int, value: Any) -> str:
        if value is None:
            return ""
        choices = self.choices[index]
        if choices is not None:
            return choices.get(value, str(value))
        if index in self.names:
            related = self.fields[index].related_model
            label = related._meta.verbose_name if related else "record"
            return self.names[index].get(value) or f"{capfirst(str(label))} #{value} (deleted)"
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
