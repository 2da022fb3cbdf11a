"""Trigram indexes for the admin's search on PostgreSQL (issue 16, P5s).

Django's admin search is ``UPPER(column::text) LIKE UPPER('%term%')`` on each search field: a
b-tree cannot serve a pattern that starts with ``%``, so at a million rows every search read the
whole table. A GIN index of ``pg_trgm`` trigrams on exactly that expression serves it. SQLite,
the embedded default, has no such index and needs none at its size: the operation does nothing
there, which is why it is a migration operation and not a ``Meta.indexes`` entry (a GinIndex
would fail to create on SQLite).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"[:63]


def trigram_search_indexes(table: str, columns: list[str]) -> migrations.RunPython:
    """A migration operation adding one trigram GIN index per column of ``table`` on
    PostgreSQL (the ``pg_trgm`` extension with it), dropped again when migrating back."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(index_name(table, column))} ON "
                f"{quote(table)} USING gin (UPPER({quote(column)}::text) gin_trgm_ops)"
            )

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(
                f"DROP INDEX IF EXISTS {schema_editor.quote_name(index_name(table, column))}"
            )

    return migrations.RunPython(create, drop, elidable=False)
