"""The evidence pack: one ZIP for one customer and one period (DOMAIN.md H2, H3, R6; issue 17).

The pack reads only what the core's registries offer, so it names no area: the customer page's
sections (``<area>/hub.py``) give the records and their deadlines, the compliance registry
(``<area>/compliance.py``) gives rule by rule what happened and whether it was on time, and
every file field of a record a section shows is a document of the pack. The history is sealed
first (:func:`~harmonyze_portal.seals.seal_history`) and the seals go in, so that whoever
receives the pack can check the history export against them.

The ZIP is written to a temporary file entry by entry (documents are copied in chunks, never
read whole) and only then stored; ``manifest.json`` and ``manifest.csv`` list every other
file's SHA-256, computed while it is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.files import File
from django.db.models import Count, FileField, Model
from django.utils import timezone

from harmonyze_portal import compliance, customer_page, desk
from harmonyze_portal.exports import neutralise_formula
from harmonyze_portal.history_export import has_portal_history, may_export, stream_csv
from harmonyze_portal.models import EvidencePack, HistorySeal, PackStatus
from harmonyze_portal.pdf import render_pdf
from harmonyze_portal.seals import seal_history

CHUNK = 64 * 1024
ENTRY_COLUMNS = ["rule", "what", "date", "due_label", "due", "status", "overdue", "record", "link"]
RULE_COLUMNS = ["rule", "clause", "what", "events", "on_time", "late", "open", "records"]
SEAL_COLUMNS = [
    "history_table",
    "number",
    "first_id",
    "last_id",
    "row_count",
    "previous_sha256",
    "sha256",
    "sealed_at",
]


@dataclass
class Listed:
    """One file of the pack as the manifest lists it."""

    path: str
    size: int
    sha256: str


@dataclass
class SectionPart:
    section: customer_page.Section
    entries: list[customer_page.Entry]


@dataclass
class RulePart:
    source: compliance.RuleEvents
    events: int
    on_time: int
    late: int
    open: int
    records: list[int] = field(default_factory=list)


class _Hashing(io.RawIOBase):
    """A writable stream that hashes and counts what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.hasher = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.hasher.update(chunk)
        self.size += len(chunk)
        self.target.write(chunk)
        return len(chunk)


class PackWriter:
    """The ZIP being written, with the manifest of what went in."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.listed: list[Listed] = []

    @contextmanager
    def open(self, path: str) -> Iterator[_Hashing]:
        with self.archive.open(path, "w", force_zip64=True) as target:
            stream = _Hashing(target)
            yield stream
        self.listed.append(Listed(path, stream.size, stream.hasher.hexdigest()))

    def write_bytes(self, path: str, data: bytes) -> None:
        with self.open(path) as stream:
            stream.write(data)

    def write_csv(self, path: str, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
        """One row at a time: the CSV is never held whole (P6: a year of rows)."""
        line = io.StringIO()
        writer = csv.writer(line)
        with self.open(path) as stream:
            writer.writerow(header)
            for row in rows:
                stream.write(line.getvalue().encode())
                line.seek(0)
                line.truncate()
                writer.writerow([neutralise_formula(value) for value in row])
            stream.write(line.getvalue().encode())

    def write_file(self, path: str, source: IO[bytes]) -> None:
        with self.open(path) as stream:
            shutil.copyfileobj(source, stream, CHUNK)

    def write_manifest(self) -> None:
        """``manifest.json`` and ``manifest.csv``: every file written so far, with its hash."""
        rows = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.listed]
        listing = json.dumps({"algorithm": "sha256", "files": rows}, indent=2)
        self.archive.writestr("manifest.json", listing)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["path", "size", "sha256"])
        writer.writerows([f.path, f.size, f.sha256] for f in self.listed)
        self.archive.writestr("manifest.csv", out.getvalue())


def in_period(entry: customer_page.Entry, start: date, end: date) -> bool:
    """Whether a row of the customer page belongs in a pack for ``start``–``end``: it happened
    in the period, fell due in it, or was still running when the period began (a DPA in force,
    an open clock)."""
    if entry.on is not None and start <= entry.on <= end:
        return True
    if entry.due is not None and start <= entry.due <= end:
        return True
    if entry.on is None:
        return entry.due is None or (entry.due >= start and not entry.done)
    return entry.on < start and not entry.done and (entry.due is None or entry.due >= start)


def section_parts(pack: EvidencePack, today: date) -> list[SectionPart]:
    """The customer page's sections the requester may view, each with its rows of the period.
    A restricted section (R6) only when counsel included it, and each showing is logged."""
    user = pack.requested_by
    parts = []
    for section in customer_page.sections():
        if not user.has_perm(section.permission):
            continue
        if section.restricted and not pack.include_law_enforcement:
            continue
        entries = [
            entry
            for entry in section.entries(pack.customer, today)
            if in_period(entry, pack.period_start, pack.period_end)
        ]
        if section.restricted and entries:
            desk.restricted_items_shown.send(
                sender=section.model,
                user=user,
                pks=sorted({entry.record for entry in entries if entry.record}),
                path=f"evidence pack {pack.pk}",
            )
        parts.append(SectionPart(section, entries))
    return parts


def rule_parts(pack: EvidencePack, today: date) -> list[RulePart]:
    """Rule by rule, the customer's events of the period and how many were on time, late or
    open; a rule with no event is kept, with zeros (shown as "no record", never as met)."""
    user = pack.requested_by
    parts = []
    for source in compliance.visible_sources(user):
        if source.restricted and not pack.include_law_enforcement:
            continue
        if not source.customer:
            continue
        on_time, late, still_open = source.outcomes(today)
        events = source.events(pack.period_start, pack.period_end).filter(
            **{source.customer: pack.customer.pk}
        )
        counts = events.aggregate(
            events=Count("pk", distinct=True),
            on_time=Count("pk", filter=on_time, distinct=True),
            late=Count("pk", filter=late, distinct=True),
            open=Count("pk", filter=still_open, distinct=True),
        )
        records = sorted(set(events.values_list("pk", flat=True)))
        if source.restricted and records:
            desk.restricted_items_shown.send(
                sender=source.model, user=user, pks=records, path=f"evidence pack {pack.pk}"
            )
        parts.append(RulePart(source, records=records, **counts))
    return parts


def _files(record: Model) -> Iterator[FileField]:
    for file_field in record._meta.concrete_fields:
        if isinstance(file_field, FileField) and getattr(record, file_field.attname):
            yield file_field


def _may_view(user: Any, model: Any) -> bool:
    return bool(user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"))


def _documents(
    pack: EvidencePack, parts: list[SectionPart]
) -> Iterator[tuple[str, Model, FileField]]:
    """(folder, record, file field) of every file a shown record holds, and of the records
    its section names in ``documents_of`` (once each) that the requester may view."""
    linked: set[tuple[type[Model], Any]] = set()
    for part in parts:
        pks = {entry.record for entry in part.entries if entry.record}
        if not pks:
            continue
        section = part.section
        related = [
            name
            for name in section.documents_of
            if _may_view(pack.requested_by, section.model._meta.get_field(name).related_model)
        ]
        records = section.model._default_manager.filter(pk__in=pks).order_by("pk")
        for record in records.select_related(*related) if related else records:
            for file_field in _files(record):
                yield section.key, record, file_field
            for name in related:
                other = getattr(record, name)
                if other is None or (type(other), other.pk) in linked:
                    continue
                linked.add((type(other), other.pk))
                for file_field in _files(other):
                    yield f"{section.key}/{other._meta.model_name}", other, file_field


def _histories(pack: EvidencePack, parts: list[SectionPart]) -> Iterator[tuple[type[Model], Any]]:
    """(model, pk) of the customer and of every record a section shows, whose history the
    requester may export (H2; R6 restricted history needs its own permission)."""
    seen: set[tuple[type[Model], Any]] = {(type(pack.customer), pack.customer.pk)}
    yield type(pack.customer), pack.customer.pk
    for part in parts:
        model = part.section.model
        if not has_portal_history(model) or not may_export(pack.requested_by, model):
            continue
        for pk in sorted({entry.record for entry in part.entries if entry.record}):
            if (model, pk) not in seen:
                seen.add((model, pk))
                yield model, pk


def _entry_row(entry: customer_page.Entry, today: date) -> list[Any]:
    return [
        entry.rule,
        entry.what,
        entry.on.isoformat() if entry.on else "",
        entry.due_label,
        entry.due.isoformat() if entry.due else "",
        entry.status,
        "yes" if entry.overdue(today) else "no",
        entry.record or "",
        entry.url,
    ]


def _seal_rows() -> Iterator[list[Any]]:
    for seal in HistorySeal.objects.order_by("history_table", "number").iterator():
        yield [
            seal.history_table,
            seal.number,
            seal.first_id,
            seal.last_id,
            seal.row_count,
            seal.previous_sha256,
            seal.sha256,
            seal.sealed_at.isoformat(),
        ]


def write_pack(
    pack: EvidencePack,
    target: IO[bytes],
    *,
    today: date,
    progress: Callable[[int], None] = lambda percent: None,
) -> list[Listed]:
    """Write ``pack``'s ZIP to ``target`` (a file open for writing); return the manifest."""
    seals = seal_history()
    progress(10)
    sections = section_parts(pack, today)
    progress(30)
    rules = rule_parts(pack, today)
    progress(45)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = PackWriter(archive)
        context = {
            "pack": pack,
            "customer": pack.customer,
            "today": today,
            "sections": sections,
            "rules": rules,
            "seal_count": HistorySeal.objects.count(),
            "new_seals": len(seals),
        }
        writer.write_bytes(
            "summary.pdf", render_pdf("harmonyze_portal/evidence_pack.pdf.html", context)
        )
        progress(60)
        for part in sections:
            rows = (_entry_row(entry, today) for entry in part.entries)
            writer.write_csv(f"sections/{part.section.key}.csv", ENTRY_COLUMNS, rows)
        writer.write_csv(
            "rules.csv",
            RULE_COLUMNS,
            (
                [r.source.rule, r.source.clause, r.source.what, r.events, r.on_time, r.late,
                 r.open, " ".join(str(pk) for pk in r.records)]
                for r in rules
            ),
        )  # fmt: skip
        writer.write_csv("history-seals.csv", SEAL_COLUMNS, _seal_rows())
        progress(70)
        missing = []
        for folder, record, file_field in _documents(pack, sections):
            stored = getattr(record, file_field.attname)
            name = PurePosixPath(stored.name).name
            path = f"documents/{folder}/{record.pk}-{file_field.name}-{name}"
            try:
                source = stored.open("rb")
            except OSError:
                # A record names a file the storage no longer has: said, not silently dropped.
                missing.append([path, record._meta.label_lower, record.pk, stored.name])
                continue
            with source:
                writer.write_file(path, source)
        if missing:
            writer.write_csv(
                "documents/missing.csv", ["path", "model", "record", "stored as"], missing
            )
        progress(80)
        # Each record's history with its seal columns (H3): the README's checker reruns it.
        for model, pk in _histories(pack, sections):
            with writer.open(f"history/{model._meta.label_lower}-{pk}.csv") as stream:
                for chunk in stream_csv([model], record=str(pk), seals=True):
                    stream.write(chunk)
        progress(90)
        writer.write_manifest()
    return writer.listed


def build_pack(pack: EvidencePack, *, today: date) -> EvidencePack:
    """Build ``pack``: status and progress saved as it goes (each a history row), the ZIP
    written to a temporary file and then stored, its SHA-256 kept on the row."""

    def progress(percent: int) -> None:
        pack.progress = percent
        pack.save(update_fields=["progress"])

    pack.status = PackStatus.BUILDING
    pack.progress = 0
    pack.error = ""
    pack.save()
    try:
        with tempfile.TemporaryFile() as spool:
            write_pack(pack, spool, today=today, progress=progress)
            spool.seek(0)
            hasher = hashlib.sha256()
            for chunk in iter(lambda: spool.read(CHUNK), b""):
                hasher.update(chunk)
            spool.seek(0)
            # A random name (PrivateUploadPath): the customer's name stays out of the URL.
            pack.file.save("pack.zip", File(spool, name="pack.zip"), save=False)
            pack.sha256 = hasher.hexdigest()
    except Exception as exc:
        pack.status = PackStatus.FAILED
        pack.error = f"{type(exc).__name__}: {exc}"
        pack.save()
        raise
    pack.status = PackStatus.DONE
    pack.progress = 100
    pack.built_at = timezone.now()
    pack.save()
    return pack
