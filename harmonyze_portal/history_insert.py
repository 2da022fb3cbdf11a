"""A history row written by one cached INSERT, not by the row's own ``save()`` (H1 at every save).

simple-history saves each history row as a model: Django then compiles the INSERT afresh for
every save (quoting some forty column names, cloning a query, sending the historical model's
own save signals, which nothing here listens to). That Python work was half of what history
added to a save (``bench save``, P6). The statement is the same for every row of a history
model, so it is built once; each row's values still go through each field's ``pre_save`` and
``get_db_prep_save``, as Django's INSERT does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connections, models, router


@cache
def _statement(model: type[models.Model], alias: str) -> tuple[str, tuple[Any, ...]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names from the model's own metadata, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({placeholders}) RETURNING {quote(str(model._meta.pk.column))}"
    )
    return sql, fields


def supported(model: type[models.Model], using: str | None = None) -> bool:
    """Whether :func:`insert` can write the model's rows: a database that returns the new id
    from the INSERT itself (PostgreSQL; SQLite 3.35 and later)."""
    alias = using or router.db_for_write(model)
    return bool(connections[alias].features.can_return_columns_from_insert)


def insert(row: models.Model, using: str | None = None) -> None:
    """Insert the new ``row`` (its primary key unset) and give it its id, as ``save()`` would."""
    model = type(row)
    alias = using or router.db_for_write(model, instance=row)
    connection = connections[alias]
    sql, fields = _statement(model, alias)
    values = [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        (row.pk,) = cursor.fetchone()
    row._state.adding = False
    row._state.db = alias
