"""Changelists that stay fast at a million rows (issue 16, P5): every list on the portal's
admin site counts only what it can afford, and searches through indexes on PostgreSQL.

The site mixes ``LargeListMixin`` into every ModelAdmin it registers (``sites.py``), the
portal's own and those of the libraries (axes, django-otp, the task queue), so no list can
forget it. The date drill-down is the template tag in ``templatetags/portal_lists.py``.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import EmailField, Model, Q, QuerySet
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal

# Beyond this many rows a list says "about N": counting the rest exactly reads every row.
EXACT_COUNT_LIMIT = 10_000
# A search on a related record's field is first turned into that many ids at most, so the
# list's own query stays an OR of indexed conditions (see ``related_search``).
RELATED_SEARCH_LIMIT = 1_000


def estimated_rows(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's own estimate of a query's rows, without reading them: the table's
    ``pg_class.reltuples`` for the whole table, EXPLAIN's row estimate for a filtered list.
    None elsewhere (SQLite keeps no statistics) or while the table was never analysed."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        if not queryset.query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            estimate = int(row[0]) if row else -1
            return estimate if estimate >= 0 else None
        sql, params = queryset.order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ``EXACT_COUNT_LIMIT`` rows and estimates beyond (``estimated``).

    A list counts at most the limit plus one (``COUNT(*)`` over a ``LIMIT``, no ordering, so the
    count never sorts the table); past it, PostgreSQL's estimate stands in (the table's
    ``reltuples`` unfiltered, EXPLAIN's rows filtered). A page past the real end of an
    estimated list is empty.
    """

    _estimated = False

    @property
    def estimated(self) -> bool:
        """Whether ``count`` is PostgreSQL's estimate; asking counts first, if not yet."""
        return self.count is not None and self._estimated

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        # Asked even for a short list, so a page runs the same queries at any size.
        estimate = estimated_rows(queryset)
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        if estimate is None:
            # SQLite, the embedded default: small enough to count.
            return queryset.count()
        self._estimated = True
        return max(estimate, capped)


# A whole email address: searched for as itself in email fields (see ``is_email_field``).
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_address(term: str) -> bool:
    return bool(ADDRESS.match(term))


def is_email_field(model: type[Model], path: str) -> bool:
    """An email field is searched by the whole address, case-insensitive, through a b-tree on
    ``LOWER(field)``: a trigram index answers ``%pat@mail.example.com%`` slowly at a million
    rows, since "com", "exa" and "mai" are in every row's trigrams (P5s). LOWER, not UPPER:
    pg_trgm also serves ``UPPER(field) = …``, and the planner then takes the slow trigram
    index over the b-tree. A part of an address ("@acme.com", "pat") is still searched for
    anywhere in the field."""
    return isinstance(model._meta.get_field(path), EmailField)


def search_terms(search_term: str) -> list[str]:
    """The words of a search, quoted phrases kept whole: Django's admin splits them so."""
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        terms.append(bit)
    return terms


def searchable_path(model: type[Model], path: str) -> bool:
    """A search field this module searches itself: a chain of relations ending in a plain
    field, without a prefix (``^=@``) or a lookup; anything else is Django's to search."""
    if path[:1] in "^=@":
        return False
    name, _, rest = path.partition("__")
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    if not rest:
        return not field.is_relation
    return field.is_relation and searchable_path(field.related_model, rest)  # type: ignore[arg-type]


def field_search(model: type[Model], path: str, term: str) -> Q:
    """One search field's condition for one word, each served by an index on PostgreSQL.

    A field of the row: ``icontains`` (a trigram index), or for a whole address in an email
    field the address itself, case-insensitive (the ``LOWER(field)`` b-tree; the same rows on
    SQLite and PostgreSQL). A field of a related record: a condition on a joined table in an
    OR stops PostgreSQL from combining the list's indexes, so it reads every row; the related
    records are searched first, through their own indexes, and the list filters on ids: its
    indexed foreign key (``customer__legal_name``), or its own primary key for a reverse or
    many-to-many relation (``domains__domain``), which also spares the list the duplicate
    rows a join across such a relation gives. More matches than ``RELATED_SEARCH_LIMIT``:
    a subquery, still without duplicates."""
    name, _, rest = path.partition("__")
    if not rest:
        if is_address(term) and is_email_field(model, path):
            return Q(Exact(Lower(path), term.lower()))
        return Q(**{f"{path}__icontains": term})
    field = model._meta.get_field(name)
    related: type[Model] = field.related_model  # type: ignore[assignment]
    matching = related._default_manager.filter(field_search(related, rest, term)).order_by()
    related_ids = list(matching.values_list("pk", flat=True)[: RELATED_SEARCH_LIMIT + 1])
    forward = field.concrete and (field.many_to_one or field.one_to_one)
    if forward:
        if len(related_ids) > RELATED_SEARCH_LIMIT:
            return Q(**{f"{name}__in": matching.values("pk")})
        return Q(**{f"{name}__in": related_ids})
    related_rows = matching.values("pk") if len(related_ids) > RELATED_SEARCH_LIMIT else related_ids
    owners = model._default_manager.filter(**{f"{name}__in": related_rows}).order_by()
    own_ids = list(owners.values_list("pk", flat=True).distinct()[: RELATED_SEARCH_LIMIT + 1])
    if len(own_ids) > RELATED_SEARCH_LIMIT:
        return Q(pk__in=owners.values("pk"))
    return Q(pk__in=own_ids)


class LargeListMixin(admin.ModelAdmin):
    """What every changelist of the portal's site gets: no full-table COUNT, and a search
    whose conditions each use an index on PostgreSQL, with the same rows on SQLite."""

    paginator = EstimatedCountPaginator
    # Django's "N results (M total)" is a second COUNT over the whole table on every page.
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        fields = list(self.get_search_fields(request))
        if not search_term or not all(searchable_path(self.model, path) for path in fields):
            return super().get_search_results(request, queryset, search_term)
        for term in search_terms(search_term):
            condition = Q()
            for path in fields:
                condition |= field_search(self.model, path, term)
            queryset = queryset.filter(condition)
        return queryset, False
