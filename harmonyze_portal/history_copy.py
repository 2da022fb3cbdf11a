"""The history export on PostgreSQL: the database compares versions and writes the CSV itself.

One ``COPY (...) TO STDOUT CSV`` per model. A window (``LAG``) pairs every version with the one
before it; a join with the list of fields makes each version one row per field, and only the
fields an edit changed are kept. Python passes the bytes through, so a million rows cost a small
multiple of PostgreSQL's own COPY of the table (``bench history``).

It writes what :func:`harmonyze_portal.history_export.history_rows` writes (a test compares the
two on every model): values rendered as :class:`~harmonyze_portal.history_diff.ValueRenderer`
renders them, cells neutralised like :func:`~harmonyze_portal.exports.neutralise_formula`, an
empty value written as an empty cell (NULL), not as ``""``. Lines end in LF, PostgreSQL's only
choice, where Python's writer ends them in CRLF; any CSV reader reads both the same.

Shaped for speed, measured (``EXPLAIN (ANALYZE, BUFFERS)`` and ``perf`` on the bench's million
rows): the field list is a join rather than a ``LATERAL`` list (about 30% faster), every
expression is evaluated over columns rather than nested expressions, what belongs to a version
is worked out once per version inside the window, timestamps are PostgreSQL's own text in the
legal zone rather than ``to_char()`` (which took a fifth of the time), and JIT is off for the
statement (compiling it costs more than it saves on a streamed query). The sort is not the cost:
the window reads the record index and sorts each record's few versions (an incremental sort of
30 kB at most), so ``work_mem`` has nothing to give; an index on the window's whole order would
save that sort, about a tenth, but it is a write on every tracked save (``bench save`` is at its
limit) and the baseline's COPY, which sorts the same way, would use it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from psycopg import sql

from harmonyze_portal.exports import FORMULA_TRIGGERS, neutralise_formula
from harmonyze_portal.history import type_name
from harmonyze_portal.history_diff import field_label, tracked_fields

CHUNK_BYTES = 64 * 1024
CHANGE_NAMES = (("+", "created"), ("~", "changed"), ("-", "deleted"))

# Renderings that can never begin with a formula trigger, so need no neutralising.
_PLAIN_FIELDS = (
    models.BooleanField,
    models.DateField,  # DateTimeField too
    models.GenericIPAddressField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
)


def copy_supported(model: type[models.Model]) -> bool:
    """Whether every tracked field of ``model`` has an SQL rendering that matches Python's
    (other types, say floats or JSON, print differently: their models export through Python)."""
    if not isinstance(model._meta.pk, models.IntegerField):
        return False
    for field in tracked_fields(model):
        if field.many_to_one or field.one_to_one:
            related: Any = field.related_model
            if not isinstance(related._meta.pk, models.IntegerField) or not hasattr(
                related._meta, "simple_history_manager_attribute"
            ):
                return False
        elif (isinstance(field, models.BooleanField) and field.choices) or not isinstance(
            field, _SUPPORTED_FIELDS
        ):
            return False
    return True


_SUPPORTED_FIELDS = (
    models.CharField,  # EmailField, SlugField, URLField ...
    models.TextField,
    models.FileField,
    models.BooleanField,
    models.DateField,  # DateTimeField too
    models.IntegerField,  # every integer and auto field
    models.GenericIPAddressField,
)


def _text(value: str) -> sql.Composable:
    return sql.Literal(value)


def neutralised(column: sql.Composable) -> sql.Composable:
    """Text a spreadsheet would evaluate gets a leading quote. ``column`` is evaluated up to
    four times: give it a column, not an expression. ``ascii()`` of the first character
    compared with integers costs much less than comparing ``left(x, 1)`` as text, and most
    text begins above every trigger (with a letter), which one comparison settles before the
    list is looked at (4% of ``bench history``)."""
    codes = sql.SQL(", ").join(sql.Literal(ord(trigger)) for trigger in FORMULA_TRIGGERS)
    above = sql.Literal(max(ord(trigger) for trigger in FORMULA_TRIGGERS))
    return sql.SQL(
        "CASE WHEN ascii({c}) > {above} THEN {c}"
        " WHEN ascii({c}) IN ({codes}) THEN '''' || {c} ELSE {c} END"
    ).format(c=column, above=above, codes=codes)


def iso_text(column: sql.Composable) -> sql.Composable:
    """The instant in ``column`` as PostgreSQL writes it in the session's zone (the legal zone:
    :func:`copy_history` sets it), to the second, with a ``T``: ``2026-03-02T09:05:00-05``,
    ``2026-03-02T09:05:00+05:30``. :func:`full_offset` completes a whole-hour offset. Much
    cheaper than ``to_char()``, which formats field by field (a sixth of the export's time)."""
    return sql.SQL("replace(date_trunc('second', {c})::text, ' ', 'T')").format(c=column)


def full_offset(text: sql.Composable) -> sql.Composable:
    """:func:`iso_text` with a whole-hour offset's minutes written out (``-05`` becomes
    ``-05:00``), as Python's ``isoformat()`` writes it; 22 characters is
    ``YYYY-MM-DDTHH:MM:SS-05``. ``text`` is evaluated up to three times: give it a column."""
    return sql.SQL("CASE WHEN octet_length({t}) = 22 THEN {t} || ':00' ELSE {t} END").format(t=text)


def legal_iso(column: sql.Composable) -> sql.Composable:
    """ISO 8601 in the legal time zone with its offset, to the second, as
    :func:`harmonyze_portal.timefmt.legal_iso` writes it: ``2026-03-02T09:05:00-05:00``.

    The session's zone is the legal zone while the export runs, so the offset follows the
    clock changes (EST -05:00, EDT -04:00); an offset with seconds (local mean time, before
    1883 in New York) keeps them, as Python writes it: ``-04:56:02``.
    """
    return full_offset(iso_text(column))


class _Field:
    """One tracked field: its columns in the versions, and how its values read as text."""

    def __init__(self, index: int, field: models.Field[Any, Any]) -> None:
        self.index = index
        self.field = field
        self.column = sql.Identifier(field.attname if field.column is None else field.column)
        self.related: Any = field.related_model if (field.many_to_one or field.one_to_one) else None
        self.names = sql.Identifier(f"names{index}")

    def value(self, version: str) -> sql.Composable:
        """The stored value in the version (``"v"``) or the one before it (``"p"``)."""
        return sql.SQL("v.{}").format(sql.Identifier(f"{version}{self.index}"))

    def name(self, version: str) -> sql.Composable:
        return sql.SQL("v.{}").format(sql.Identifier(f"{version}{self.index}name"))

    def names_cte(self, table: sql.Identifier) -> sql.Composable:
        """Each related record's most recent name, from its own history, as the admin shows it:
        ``(deleted)`` once that history ends in a deletion."""
        history: Any = self.related.history.model
        key = sql.Identifier(self.related._meta.pk.column)
        fallback = sql.SQL("{v} || ' #' || t.{k}").format(v=_text(type_name(self.related)), k=key)
        return sql.SQL(
            "{names} AS ("
            " SELECT DISTINCT ON (t.{k}) t.{k} AS id,"
            "  COALESCE(NULLIF(t.history_record, ''), {fallback})"
            "  || CASE WHEN t.history_type = '-' THEN ' (deleted)' ELSE '' END AS name"
            " FROM {related} t WHERE t.{k} IN (SELECT h.{column} FROM {table} h)"
            " ORDER BY t.{k}, t.history_date DESC, t.history_id DESC)"
        ).format(
            names=self.names,
            k=key,
            fallback=fallback,
            related=sql.Identifier(history._meta.db_table),
            column=self.column,
            table=table,
        )

    def render(self, version: str) -> sql.Composable:
        """``ValueRenderer.render`` then ``neutralise_formula``, in SQL; NULL for no value."""
        field, x = self.field, self.value(version)
        if self.related is not None:
            name = self.name(version)
            return sql.SQL(
                "CASE WHEN {x} IS NULL THEN NULL"
                " WHEN {name} IS NULL THEN {v} || ' #' || {x} || ' (deleted)'"
                " ELSE {neutral} END"
            ).format(x=x, name=name, v=_text(type_name(self.related)), neutral=neutralised(name))
        if field.choices:
            cases = sql.SQL(" ").join(
                sql.SQL("WHEN {} THEN {}").format(
                    _text(str(key)), _text(neutralise_formula(str(label)))
                )
                for key, label in field.flatchoices
            )
            other = neutralised(sql.SQL("{}::text").format(x))
            return sql.SQL("CASE {x}::text {cases} ELSE {other} END").format(
                x=x, cases=cases, other=other
            )
        if isinstance(field, models.BooleanField):
            return sql.SQL("CASE WHEN {x} THEN 'Yes' WHEN NOT {x} THEN 'No' END").format(x=x)
        if isinstance(field, models.DateTimeField):
            return legal_iso(x)
        if isinstance(field, models.GenericIPAddressField):
            return sql.SQL("host({})").format(x)
        text = sql.SQL("{}::text").format(x)
        return text if isinstance(field, _PLAIN_FIELDS) else neutralised(text)


def _by_field(fields: list[_Field], expression: Any) -> sql.Composable:
    """``CASE n.i WHEN 0 THEN <field 0's expression> WHEN 1 THEN ... END``."""
    if len(fields) == 1:
        return expression(fields[0])
    return sql.SQL("CASE n.i {} END").format(
        sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(sql.Literal(field.index), expression(field))
            for field in fields
        )
    )


def copy_statement(
    model: type[models.Model],
    *,
    since: datetime | None,
    until: datetime | None,
    record: Any = None,
) -> sql.Composable:
    """The COPY writing ``model``'s history rows from ``since`` to before ``until``."""
    history_model: Any = model.history.model  # type: ignore[attr-defined]
    table = sql.Identifier(history_model._meta.db_table)
    key = sql.Identifier(model._meta.pk.attname)
    fields = [_Field(index, field) for index, field in enumerate(tracked_fields(model))]
    foreign = [field for field in fields if field.related is not None]

    where: list[sql.Composable] = [sql.SQL("TRUE")]
    if until is not None:
        where.append(sql.SQL("h.history_date < {}").format(sql.Literal(until)))
    if record is not None:
        where.append(sql.SQL("h.{} = {}").format(key, sql.Literal(record)))

    # Versions: each field's value and the previous version's, names joined before the window.
    version_columns = [
        sql.SQL("h.{c} AS {v}, LAG(h.{c}) OVER w AS {p}").format(
            c=field.column,
            v=sql.Identifier(f"v{field.index}"),
            p=sql.Identifier(f"p{field.index}"),
        )
        for field in fields
    ] + [
        sql.SQL("{n}.name AS {vn}, LAG({n}.name) OVER w AS {pn}").format(
            n=field.names,
            vn=sql.Identifier(f"v{field.index}name"),
            pn=sql.Identifier(f"p{field.index}name"),
        )
        for field in foreign
    ]
    joins = [
        sql.SQL("LEFT JOIN {n} ON {n}.id = h.{c}").format(n=field.names, c=field.column)
        for field in foreign
    ]
    # What belongs to a version rather than to one of its fields is worked out once per
    # version, inside the window, and not again on each of its lines: its timestamp, actor,
    # record name, change, reason, and whether every field is written (a creation, a deletion,
    # or an edit with no earlier version). The first version is row_number() 1, cheaper than
    # another LAG; the frame is ROWS because no function here reads one, and RANGE would
    # make the window find each row's peers for nothing.
    change = sql.SQL("CASE h.history_type {} ELSE h.history_type END").format(
        sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(_text(kind), _text(name))
            for kind, name in CHANGE_NAMES
        )
    )
    record_name = sql.SQL(
        "CASE WHEN h.history_record = '' THEN {v} || ' #' || h.{key} ELSE {name} END"
    ).format(v=_text(type_name(model)), key=key, name=neutralised(sql.SQL("h.history_record")))
    versions = sql.SQL(
        "versions AS ("
        " SELECT h.history_id, h.{key} AS record_id, h.history_date,"
        "  {stamp} AS stamp, NULLIF({actor}, '') AS actor, {record} AS record,"
        "  {change} AS change, NULLIF({reason}, '') AS reason,"
        "  h.history_type = '-' AS deleted,"
        "  h.history_type <> '~' OR row_number() OVER w = 1 AS whole, {columns}"
        " FROM {table} h {joins}"
        " WHERE {where}"
        " WINDOW w AS (PARTITION BY h.{key} ORDER BY h.history_date, h.history_id"
        "  ROWS UNBOUNDED PRECEDING))"
    ).format(
        key=key,
        stamp=iso_text(sql.SQL("h.history_date")),
        actor=neutralised(sql.SQL("h.history_actor")),
        record=record_name,
        change=change,
        reason=neutralised(sql.SQL("h.history_change_reason")),
        columns=sql.SQL(", ").join(version_columns),
        table=table,
        joins=sql.SQL(" ").join(joins),
        where=sql.SQL(" AND ").join(where),
    )

    field_list = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(
            sql.Literal(field.index), _text(neutralise_formula(field_label(field.field)))
        )
        for field in fields
    )
    changed = _by_field(
        fields,
        lambda field: sql.SQL("{} IS DISTINCT FROM {}").format(field.value("v"), field.value("p")),
    )
    new = _by_field(fields, lambda field: field.render("v"))
    old = _by_field(fields, lambda field: field.render("p"))
    in_range = (
        sql.SQL("v.history_date >= {}").format(sql.Literal(since))
        if since is not None
        else sql.SQL("TRUE")
    )
    ctes = [field.names_cte(table) for field in foreign] + [versions]
    return sql.SQL(
        "COPY (WITH {ctes}"
        " SELECT {stamp}, v.actor, {model}, v.record_id, v.record, v.change, n.label,"
        "  CASE WHEN v.deleted THEN {new} WHEN v.whole THEN NULL ELSE {old} END,"
        "  CASE WHEN v.deleted THEN NULL ELSE {new} END,"
        "  v.reason"
        " FROM versions v CROSS JOIN (VALUES {field_list}) AS n(i, label)"
        " WHERE {in_range} AND (v.whole OR {changed})"
        " ORDER BY v.record_id, v.history_date, v.history_id{by_field}"
        ") TO STDOUT WITH (FORMAT csv)"
    ).format(
        ctes=sql.SQL(", ").join(ctes),
        stamp=full_offset(sql.SQL("v.stamp")),
        model=_text(model._meta.label_lower),
        new=new,
        old=old,
        field_list=field_list,
        in_range=in_range,
        changed=changed,
        # The whole table: fields within a version come in the field list's order, because a
        # join with no equality can only be a nested loop, the versions outside (the window
        # has sorted them: no sort above it) and the list inside, read in order for each
        # version. Sorting on n.i too costs a fifth of the export's time for the same result.
        # One record: the planner may sort above the join, so the field is a key as well
        # (a small sort). The tests compare field order with the Python writer's.
        by_field=sql.SQL(", n.i" if record is not None else ""),
    )


# The export's settings, for its own transaction: ISO dates, the legal zone (PostgreSQL writes
# the timestamps in it: iso_text), no JIT (compiling costs more than it saves on a stream).
_CURRENT = (
    "SELECT current_setting('DateStyle'), current_setting('TimeZone'), current_setting('jit')"
)
_SET = (
    "SELECT set_config('DateStyle', %s, true), set_config('TimeZone', %s, true),"
    " set_config('jit', %s, true)"
)


def copy_history(
    model: type[models.Model],
    *,
    since: datetime | None,
    until: datetime | None,
    record: Any = None,
) -> Iterator[bytes]:
    """The CSV of ``model``'s history as PostgreSQL writes it, in chunks of about 64 KiB
    (PostgreSQL sends a message per line; a response write per line would cost more)."""
    statement = copy_statement(model, since=since, until=until, record=record)
    chunk = bytearray()
    # A reader who stops early cancels the COPY, which fails the transaction it ran in: its own
    # (or a savepoint inside the caller's) is rolled back and the connection goes on.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CURRENT)
        before = cursor.fetchone()
        cursor.execute(_SET, ("ISO, YMD", settings.TIME_ZONE, "off"))
        with cursor.cursor.copy(statement) as copy:
            for block in copy:
                chunk += block
                if len(chunk) >= CHUNK_BYTES:
                    yield bytes(chunk)
                    chunk.clear()
        # Inside a caller's transaction the settings would outlast this export (and Django
        # reads timestamps as UTC): put them back.
        cursor.execute(_SET, before)
    if chunk:
        yield bytes(chunk)
