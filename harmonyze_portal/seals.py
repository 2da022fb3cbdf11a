"""The tamper-evident history (DOMAIN.md H3): hash-chained seals over every history table.

A history row costs nothing more when it is written (P6): ``manage.py seal_history`` (cron,
and the evidence pack before it reads the history) later hashes the rows written since the
last run, table by table, in history id order, and stores one :class:`HistorySeal` per table
whose hash also covers the previous seal. ``manage.py verify_history`` recomputes every seal
from the rows; a row altered, deleted or slipped in below a seal breaks it. The algorithm,
written out in the README ("History seals") so that an auditor can rerun it from an export:

- a row's *version text* is the JSON object ``{"row": {column: value, ...}, "table": label}``
  with keys sorted, no spaces (``","`` and ``":"``), UTF-8, non-ASCII kept: every column of
  the historical table by attribute name, NULL as ``null``, booleans and integers as JSON
  values, datetimes as UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, dates ``YYYY-MM-DD``, anything
  else as its text;
- a row's hash is the SHA-256 (hex) of its version text;
- a seal's hash is the SHA-256 (hex) of ``previous + "\\n" + table + "\\n" + number`` followed
  by ``"\\n" + row hash`` for every row it covers: all rows with ``after_id < history id <=
  last_id``, where ``after_id`` is the previous seal's ``last_id`` (0 for the first seal).

Rows younger than ``HISTORY_SEAL_SETTLE_SECONDS`` wait for the next run: an id is taken when a
row is inserted but seen by others only at commit, so a transaction still open could otherwise
commit a row below a range already sealed (it would then show as slipped in).
A row blanked by a PP 4 purge (:func:`harmonyze_portal.retention.forget`) has a
:class:`HistoryRedaction` entry with its hash as written: where the row now hashes to the
entry's redacted hash, the seal counts the hash as written, and the row is reported as redacted.
An entry counts only if its own history (sealed too) records it as written; a row blanked
without an entry, or changed after its redaction, breaks its seal like any other change.
The seals of the seal table's own history are not sealed again (each run would seal the last
run's seals and never be done); the seals themselves are chained, which is their protection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Min
from django.utils import timezone

from harmonyze_portal.areas import portal_apps
from harmonyze_portal.history import acting_as
from harmonyze_portal.models import GENESIS, HistoryRedaction, HistorySeal

CHUNK = 2000
ACTOR = "task: seal history"
# Its rows record seals, which the chain protects; sealing them again would never end.
UNSEALED = frozenset({"harmonyze_portal.historicalhistoryseal"})


def history_tables() -> list[type[models.Model]]:
    """Every historical table of the portal's apps (many-to-many history included), by label."""
    found = [
        model
        for model in apps.get_models()
        if model._meta.app_label in portal_apps()
        and model._meta.pk is not None
        and model._meta.pk.name in ("history_id", "m2m_history_id")
        and model._meta.label_lower not in UNSEALED
    ]
    return sorted(found, key=lambda model: model._meta.label_lower)


def history_table(label: str) -> type[models.Model]:
    for model in history_tables():
        if model._meta.label_lower == label:
            return model
    raise LookupError(f"{label} is not a sealed history table.")


def columns(model: type[models.Model]) -> list[str]:
    return sorted(column.attname for column in model._meta.concrete_fields)


def canonical_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def version_text(table: str, names: Sequence[str], values: Sequence[Any]) -> str:
    """A history row's canonical serialisation (the README's "version" column)."""
    row = {name: canonical_value(value) for name, value in zip(names, values, strict=True)}
    return json.dumps(
        {"row": row, "table": table}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _date_lookup(model: type[models.Model]) -> str:
    # A many-to-many history row is dated by the version of the record it belongs to.
    names = {column.name for column in model._meta.concrete_fields}
    return "history_date" if "history_date" in names else "history__history_date"


def _rows(model: type[models.Model], after: int, last: int) -> Iterator[tuple[int, str]]:
    """(history id, version text) of every row with ``after < id <= last``, in id order."""
    names = columns(model)
    label = model._meta.label_lower
    pk = model._meta.pk.attname
    index = names.index(pk)
    rows = (
        model._default_manager.filter(pk__gt=after, pk__lte=last)
        .order_by("pk")
        .values_list(*names)
        .iterator(chunk_size=CHUNK)
    )
    for values in rows:
        yield values[index], version_text(label, names, values)


@dataclass
class Digest:
    sha256: str
    first_id: int | None
    row_count: int
    redacted: int = 0


def redactions(label: str, **rows: Any) -> dict[int, tuple[str, str]]:
    """history id -> (hash as sealed, hash once blanked) of the rows of ``label`` (``rows``:
    a lookup on ``row_id``) that a PP 4 purge blanked; only entries whose own history records
    them as written count (an entry slipped into the table alone is ignored)."""
    found = {
        pk: (row_id, sealed, blanked)
        for pk, row_id, sealed, blanked in HistoryRedaction.objects.filter(
            history_table=label, **rows
        ).values_list("pk", "row_id", "sealed_sha256", "redacted_sha256")
    }
    if not found:
        return {}
    history = HistoryRedaction.history
    written = {
        pk: (row_id, sealed, blanked)
        for pk, row_id, sealed, blanked in history.filter(
            id__in=list(found), history_type="+", history_table=label
        ).values_list("id", "row_id", "sealed_sha256", "redacted_sha256")
    }
    return {
        entry[0]: (entry[1], entry[2]) for pk, entry in found.items() if written.get(pk) == entry
    }


def sealed_hash(text: str, redaction: tuple[str, str] | None) -> tuple[str, bool]:
    """The hash a seal counts for a row with this version text, and whether it is redacted."""
    row_hash = sha256_hex(text)
    if redaction is not None and row_hash == redaction[1]:
        return redaction[0], True
    return row_hash, False


def digest(
    model: type[models.Model], *, previous: str, number: int, after: int, last: int
) -> Digest:
    """The hash of the seal ``number`` of ``model``'s table over ``after < id <= last``."""
    label = model._meta.label_lower
    hasher = hashlib.sha256(f"{previous}\n{label}\n{number}".encode())
    blanked = redactions(label, row_id__gt=after, row_id__lte=last)
    first: int | None = None
    count = redacted = 0
    for history_id, text in _rows(model, after, last):
        first = history_id if first is None else first
        count += 1
        row_hash, was_redacted = sealed_hash(text, blanked.get(history_id))
        redacted += was_redacted
        hasher.update(f"\n{row_hash}".encode())
    return Digest(hasher.hexdigest(), first, count, redacted)


def _mark(model: type[models.Model], after: int, cutoff: datetime) -> int | None:
    """The highest id that may be sealed now: every row up to it is older than ``cutoff``."""
    newer = model._default_manager.filter(pk__gt=after)
    top = newer.aggregate(top=Max("pk"))["top"]
    if top is None:
        return None
    young = newer.filter(**{f"{_date_lookup(model)}__gte": cutoff}).aggregate(first=Min("pk"))
    mark = top if young["first"] is None else young["first"] - 1
    return mark if mark > after else None


def seal_table(model: type[models.Model], *, cutoff: datetime) -> HistorySeal | None:
    """Seal ``model``'s rows written since its last seal and before ``cutoff``; None if there
    are none, or if another run sealed them first (the constraints refuse a second successor)."""
    label = model._meta.label_lower
    with transaction.atomic():
        head = HistorySeal.objects.filter(history_table=label).order_by("-number").first()
        after = head.last_id if head else 0
        last = _mark(model, after, cutoff)
        if last is None:
            return None
        previous = head.sha256 if head else GENESIS
        number = head.number + 1 if head else 1
        found = digest(model, previous=previous, number=number, after=after, last=last)
        if found.first_id is None:
            return None
        seal = HistorySeal(
            history_table=label,
            number=number,
            first_id=found.first_id,
            last_id=last,
            row_count=found.row_count,
            previous_sha256=previous,
            sha256=found.sha256,
        )
        try:
            with transaction.atomic():
                seal.save()
        except IntegrityError:
            return None  # a concurrent run wrote this link of the chain
        return seal


def seal_history(
    *, now: datetime | None = None, settle: timedelta | None = None
) -> list[HistorySeal]:
    """Seal every history table (H3): what ``manage.py seal_history`` runs, and what the
    evidence pack runs before reading the history. Idempotent; safe to run twice at once."""
    if settle is None:
        settle = timedelta(seconds=settings.HISTORY_SEAL_SETTLE_SECONDS)
    cutoff = (now or timezone.now()) - settle
    written = []
    with acting_as(ACTOR, reason="Periodic history seal (H3)"):
        for model in history_tables():
            seal = seal_table(model, cutoff=cutoff)
            if seal is not None:
                written.append(seal)
    return written


@dataclass
class TableCheck:
    """What verification found for one history table."""

    table: str
    seals: int = 0
    sealed_rows: int = 0
    # Sealed rows a PP 4 purge blanked, each with its redaction entry (disclosed, not failed).
    redacted_rows: int = 0
    unsealed_rows: int = 0
    head: str = GENESIS
    # The first broken seal: its number, the ids it covers and what is wrong.
    broken: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_table(model: type[models.Model]) -> TableCheck:
    """Recompute every seal of ``model``'s table in order; stop at the first that breaks."""
    label = model._meta.label_lower
    check = TableCheck(label)
    previous, after, expected = GENESIS, 0, 1
    for seal in HistorySeal.objects.filter(history_table=label).order_by("number").iterator():
        found = digest(model, previous=previous, number=seal.number, after=after, last=seal.last_id)
        problem = _seal_problem(seal, expected, previous, found)
        if problem:
            check.broken = {
                "number": seal.number,
                "after_id": after,
                "last_id": seal.last_id,
                "sealed_rows": seal.row_count,
                "found_rows": found.row_count,
                "problem": problem,
            }
            return check
        check.seals += 1
        check.sealed_rows += seal.row_count
        check.redacted_rows += found.redacted
        previous, after, expected = seal.sha256, seal.last_id, seal.number + 1
    check.head = previous
    check.unsealed_rows = model._default_manager.filter(pk__gt=after).count()
    return check


def _seal_problem(seal: HistorySeal, expected: int, previous: str, found: Digest) -> str:
    if seal.number != expected:
        return f"seal {expected} is missing: the chain jumps to seal {seal.number}"
    if seal.previous_sha256 != previous:
        return "it does not follow the previous seal (its previous hash differs)"
    if found.row_count != seal.row_count:
        return (
            f"it sealed {seal.row_count} rows and {found.row_count} are there now "
            "(rows deleted or slipped in)"
        )
    if found.sha256 != seal.sha256:
        return "a row it covers was altered (the hash differs)"
    return ""


def verify_history() -> list[TableCheck]:
    """Every history table checked (H3); ``manage.py verify_history`` prints the result."""
    checks = [verify_table(model) for model in history_tables()]
    known = {check.table for check in checks}
    for label in HistorySeal.objects.exclude(history_table__in=known).values_list(
        "history_table", flat=True
    ):
        orphan = TableCheck(label)
        orphan.broken = {"number": 0, "problem": "seals of a table the portal no longer has"}
        checks.append(orphan)
    return checks


@dataclass(frozen=True)
class SealInfo:
    """A seal as the history export writes it beside each row it covers."""

    number: int
    after_id: int
    last_id: int
    row_count: int
    previous_sha256: str
    sha256: str


def seal_index(table: str) -> list[SealInfo]:
    """The table's seals in order, each with the id after which it starts."""
    infos, after = [], 0
    for seal in HistorySeal.objects.filter(history_table=table).order_by("number"):
        infos.append(
            SealInfo(
                seal.number,
                after,
                seal.last_id,
                seal.row_count,
                seal.previous_sha256,
                seal.sha256,
            )
        )
        after = seal.last_id
    return infos
