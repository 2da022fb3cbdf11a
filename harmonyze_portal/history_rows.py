"""One row's change and its history row in one statement, for hot paths that commit per row.

The Notice fan-out (S6) must commit each accepted message on its own, right after the SMTP
server's 250, so no failure afterwards can lose it. Through the ORM that commit costs an
UPDATE, an INSERT of the history row and a COMMIT: three round trips per message. On PostgreSQL
:func:`update_with_history` writes both rows with one data-modifying statement, which is its own
transaction in autocommit mode: the history row is built by the database from the row as the
UPDATE left it (``RETURNING``), so it records exactly what was written (H1). Elsewhere (SQLite)
it falls back to the ORM in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from django.db import connections, models, router, transaction
from django.utils import timezone
from simple_history.utils import get_change_reason_from_object

from harmonyze_portal.history import (
    _bulk_writes,
    _reason,
    acting_user,
    current_actor,
    record_history,
    record_label,
)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


@cache
def _statement(model: type[models.Model], fields: tuple[str, ...]) -> str:
    history = model.history.model  # type: ignore[attr-defined]
    quote = connections[router.db_for_write(model)].ops.quote_name
    tracked = [field.column for field in history.tracked_fields]
    assignments = ", ".join(
        f"{quote(cast('str', _field(model, name).column))} = %s" for name in fields
    )
    returned = ", ".join(quote(column) for column in tracked)
    extras = [
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user_id",
        "history_actor",
        "history_record",
    ]
    # Table and column names come from the models' own metadata, quoted; values are parameters.
    return (
        f"WITH changed AS (UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(cast('str', model._meta.pk.column))} = %s RETURNING {returned}) "
        f"INSERT INTO {quote(history._meta.db_table)} "
        f"({returned}, {', '.join(quote(column) for column in extras)}) "
        f"SELECT {returned}, %s, %s, '~', %s, %s, %s FROM changed"
    )


def update_with_history(
    instance: models.Model, fields: Sequence[str], *, user: Any = None, reason: str | None = None
) -> None:
    """Write ``fields`` of a saved ``instance`` and its history row ("changed"), atomically.

    Who and why are those ``save()`` would record: the caller's ``user``, else the task's or
    the request's, and the reason in force (H1). The caller has already derived every field
    that ``save()`` would (this writes exactly ``fields``). On PostgreSQL outside a transaction
    it is one statement and one round trip; otherwise one transaction through the ORM.
    """
    connection = connections[router.db_for_write(type(instance))]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic(using=connection.alias):
            instance.save_without_historical_record(update_fields=list(fields))  # type: ignore[attr-defined]
            record_history([instance], type(instance), user=user, reason=reason)
        return
    user = acting_user(user)
    model = type(instance)
    values = [
        _field(model, name).get_db_prep_save(
            getattr(instance, _field(model, name).attname), connection
        )
        for name in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _statement(model, tuple(fields)),
            [
                *values,
                instance.pk,
                timezone.now(),
                get_change_reason_from_object(instance) or reason or _reason.get() or "",
                getattr(user, "pk", None),
                current_actor(user),
                record_label(instance),
            ],
        )


def update_all(objs: Sequence[models.Model], **values: Any) -> int:
    """One UPDATE giving ``values`` (constants or expressions) to the rows of ``objs``, for a
    caller that has locked those rows (``select_for_update``), set the same values on each
    object and records their history rows itself (:func:`record_history`, in the same
    transaction): H1 holds, and a batch costs one statement instead of one per row."""
    if not objs:
        return 0
    model = type(objs[0])
    with _bulk_writes():
        return model._default_manager.filter(pk__in=[obj.pk for obj in objs]).update(**values)
