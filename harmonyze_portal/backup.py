"""Backups that hold the proof: the database and every document under MEDIA_ROOT (issue 13).

A backup is one uncompressed tar file (the dump is already compressed, the documents are PDFs):

    database.dump | database.sqlite3   the database, one snapshot
    media/<path>                       every file under MEDIA_ROOT, copied after the snapshot
    manifest.json                      written last: each member's size and SHA-256, the
                                       migration state, the portal version and the time

Order is what makes a backup consistent. A document is written to MEDIA_ROOT before the row
that names it commits, and is never rewritten (each upload gets a new name). The database is
dumped first and the files are copied after the dump has finished, so every row in the dump has
its file in the backup; a document uploaded during the backup may be present without its row
(an orphan, harmless), never the reverse.

Restoring verifies every member against the manifest before it touches anything, restores the
database in one transaction, then writes the documents (each under a temporary name, renamed
into place) and checks them against the manifest again. Members are read and written in chunks:
memory stays constant whatever the size of the documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
CHUNK = 1024 * 1024
# A manifest lists paths and hashes; anything this large is not one.
MANIFEST_LIMIT = 64 * 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message says what and what to do."""


@dataclass(frozen=True)
class Member:
    """One file in a backup: its name in the archive, its size and its SHA-256 (hex)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreSummary:
    vendor: str
    documents: int
    left_in_place: int


# --- Writing a backup.


def backup(target: Path, *, alias: str = DEFAULT_DB_ALIAS) -> tuple[Path, dict[str, Any]]:
    """Write a backup of the database ``alias`` and MEDIA_ROOT to ``target`` (a new ``.tar``
    file, or an existing directory to write a timestamped one into) and return its path and
    manifest. Refuses to overwrite anything; a failed run leaves no archive behind."""
    created_at = timezone.now()
    archive = _archive_path(target, created_at.strftime("%Y%m%dT%H%M%SZ"))
    connection = connections[alias]
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    partial = archive.with_name(archive.name + ".partial")
    try:
        out = partial.open("xb")
    except FileExistsError:
        raise BackupError(
            f"{partial} exists: another backup is running, or one was interrupted "
            "(then delete that file and run again)."
        ) from None
    try:
        with out, tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
            migrations = _migration_state(alias)
            dump = Path(scratch) / DUMP_NAMES[vendor]
            # The snapshot comes first: documents are copied only once it is complete.
            _dump_database(alias, dump)
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                database = _add_file(tar, dump, DUMP_NAMES[vendor])
                media_root = Path(settings.MEDIA_ROOT)
                files = [
                    _add_file(tar, path, MEDIA_PREFIX + relative)
                    for path, relative in _media_files(media_root)
                ]
                manifest = {
                    "format": FORMAT,
                    "created_at": created_at.isoformat(),
                    "portal_version": portal_version(),
                    "database": {"vendor": vendor, **_entry(database)},
                    "migrations": migrations,
                    "files": [_entry(member) for member in files],
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mtime = int(created_at.timestamp())
                tar.addfile(info, _BytesReader(body))
            out.flush()
            os.fsync(out.fileno())
        # link() fails if the name appeared meanwhile: a backup is never overwritten.
        try:
            os.link(partial, archive)
        except FileExistsError:
            raise BackupError(f"{archive} already exists; a backup is never overwritten.") from None
    finally:
        partial.unlink(missing_ok=True)
    return archive, manifest


def _archive_path(target: Path, stamp: str) -> Path:
    if target.is_dir():
        archive = target / f"harmonyze-backup-{stamp}.tar"
    else:
        archive = target
        if not archive.parent.is_dir():
            raise BackupError(f"The folder {archive.parent} does not exist; create it first.")
    if archive.exists() or archive.is_symlink():
        raise BackupError(f"{archive} already exists; a backup is never overwritten.")
    # A backup inside MEDIA_ROOT would copy itself, and the next one would hold the last.
    if archive.parent.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
        raise BackupError(f"{archive} is inside MEDIA_ROOT; write backups somewhere else.")
    return archive


def _migration_state(alias: str) -> dict[str, str]:
    """The last migration applied to each app, in the order they were applied."""
    recorder = MigrationRecorder(connections[alias])
    last: dict[str, str] = {}
    for app, name in recorder.migration_qs.order_by("id").values_list("app", "name"):
        last[app] = name
    return dict(sorted(last.items()))


def portal_version() -> str | None:
    """The git commit the portal runs from, when it runs from a git checkout."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no input from outside
            [git, "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def _dump_database(alias: str, dump: Path) -> None:
    connection = connections[alias]
    if connection.vendor == "sqlite":
        # SQLite's online backup API copies every page in one step: a single snapshot, even
        # while the portal writes. From inside this connection's own write transaction it
        # would wait for that transaction for ever.
        if connection.in_atomic_block:
            raise BackupError("Run the backup outside a transaction (SQLite would wait for it).")
        connection.ensure_connection()
        target = sqlite3.connect(dump)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return
    _run_client(
        "pg_dump",
        ["--format=custom", "--no-password", f"--file={dump}"],
        connection.settings_dict,
    )


def _media_files(media_root: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file under MEDIA_ROOT with its POSIX path relative to it, sorted."""
    if not media_root.is_dir():
        return
    for folder, dirs, names in os.walk(media_root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(media_root).as_posix()


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> Member:
    """Stream ``path`` into the archive as ``name``, hashing the bytes as they are copied."""
    with path.open("rb") as source:
        info = tar.gettarinfo(fileobj=source, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _HashingReader(source)
        tar.addfile(info, reader)
    return Member(name, info.size, reader.digest.hexdigest())


def _entry(member: Member) -> dict[str, Any]:
    name = member.name.removeprefix(MEDIA_PREFIX)
    return {"path": name, "size": member.size, "sha256": member.sha256}


class _HashingReader:
    """A file object that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.position + size
        chunk = bytes(self.data[self.position : end])
        self.position += len(chunk)
        return chunk


# --- PostgreSQL client tools.


def client_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The environment for pg_dump / pg_restore: the connection settings of DATABASES, the
    password in PGPASSWORD (never on the command line, where `ps` shows it)."""
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
    ):
        values[variable] = options.get(option)
    for variable, value in values.items():
        if value not in (None, ""):
            env[variable] = str(value)
    return env


def _run_client(tool: str, arguments: list[str], settings_dict: dict[str, Any]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} is not installed; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) in the server's major version or later."
        )
    result = subprocess.run(  # noqa: S603 - the arguments are ours; the password is in env
        [executable, *arguments],
        env=client_env(settings_dict),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()}")


# --- Restoring.


def restore(archive: Path, *, force: bool = False, alias: str = DEFAULT_DB_ALIAS) -> RestoreSummary:
    """Restore ``archive`` into the database ``alias`` and MEDIA_ROOT.

    Nothing is written until every member matches the manifest; a database or MEDIA_ROOT in use
    is replaced only with ``force``. The database is restored in one transaction, then the
    documents, which are then checked against the manifest once more."""
    connection = connections[alias]
    manifest, members = verify(archive)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"{archive} holds a {vendor} database; the portal is configured for "
            f"{connection.vendor}. Nothing was restored."
        )
    _check_migrations_known(manifest["migrations"], archive)
    media_root = Path(settings.MEDIA_ROOT)
    if not force:
        _refuse_if_in_use(alias, media_root)

    with tarfile.open(archive, mode="r:") as tar:
        with tempfile.TemporaryDirectory() as scratch:
            dump = Path(scratch) / DUMP_NAMES[vendor]
            _extract(tar, members[DUMP_NAMES[vendor]], dump)
            _restore_database(alias, dump)
        ContentType.objects.clear_cache()
        documents = [m for name, m in members.items() if name.startswith(MEDIA_PREFIX)]
        for member in documents:
            _extract(tar, member, media_root / member.name.removeprefix(MEDIA_PREFIX))
    for member in documents:
        path = media_root / member.name.removeprefix(MEDIA_PREFIX)
        if not path.is_file() or _hash_file(path) != (member.size, member.sha256):
            raise BackupError(
                f"After the restore, {path} does not match the manifest: the database is "
                "restored, the documents are not. Check the disk and run restore --force again."
            )
    listed = {m.name.removeprefix(MEDIA_PREFIX) for m in documents}
    left = sum(1 for _, relative in _media_files(media_root) if relative not in listed)
    return RestoreSummary(vendor=vendor, documents=len(documents), left_in_place=left)


def verify(archive: Path) -> tuple[dict[str, Any], dict[str, Member]]:
    """Read the whole archive once, hashing every member, and compare it with the manifest.
    Returns the manifest and the members by archive name; raises :class:`BackupError` naming
    the first file that is missing, extra, altered or truncated."""
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file.")
    found: dict[str, Member] = {}
    raw_manifest: bytes | None = None
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for info in tar:
                if not info.isfile():
                    raise BackupError(
                        f"{archive} holds {info.name}, which is not a regular file; "
                        "a portal backup holds only files. Nothing was restored."
                    )
                if info.name in found or (info.name == MANIFEST and raw_manifest is not None):
                    raise BackupError(f"{archive} holds {info.name} twice. Nothing was restored.")
                if info.name == MANIFEST:
                    if info.size > MANIFEST_LIMIT:
                        raise BackupError(f"{archive}: {MANIFEST} is too large to be a manifest.")
                    source = tar.extractfile(info)
                    assert source is not None  # a regular file
                    raw_manifest = source.read()
                    if len(raw_manifest) != info.size:
                        raise EOFError
                    continue
                found[info.name] = _hash_member(tar, info)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(
            f"{archive} is truncated or is not a backup archive ({exc or 'unexpected end'}). "
            "Nothing was restored."
        ) from None
    if raw_manifest is None:
        raise BackupError(
            f"{archive} has no {MANIFEST}: it is truncated or is not a portal backup. "
            "Nothing was restored."
        )
    manifest = _parse_manifest(raw_manifest, archive)
    expected = _expected_members(manifest, archive)
    for name, member in expected.items():
        actual = found.get(name)
        if actual is None:
            raise BackupError(f"{archive} is missing {name}, listed in the manifest.")
        if actual.size != member.size:
            raise BackupError(
                f"{name} in {archive} is {actual.size} bytes; the manifest says {member.size}. "
                "The backup is truncated or was altered; nothing was restored."
            )
        if actual.sha256 != member.sha256:
            raise BackupError(
                f"{name} in {archive} does not match its SHA-256 in the manifest: it was "
                "altered. Nothing was restored."
            )
    for name in found:
        if name not in expected:
            raise BackupError(
                f"{archive} holds {name}, which the manifest does not list. Nothing was restored."
            )
    return manifest, expected


def _hash_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> Member:
    source = tar.extractfile(info)
    assert source is not None  # a regular file
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    if size != info.size:
        raise EOFError(f"{info.name} ends after {size} of {info.size} bytes")
    return Member(info.name, size, digest.hexdigest())


def _parse_manifest(raw: bytes, archive: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{archive}: {MANIFEST} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            f"{archive}: {MANIFEST} is not a format {FORMAT} portal manifest. Nothing was restored."
        )
    database = manifest.get("database")
    if not isinstance(database, dict) or database.get("vendor") not in DUMP_NAMES:
        raise BackupError(f"{archive}: {MANIFEST} does not describe its database dump.")
    if not isinstance(manifest.get("migrations"), dict) or not isinstance(
        manifest.get("files"), list
    ):
        raise BackupError(f"{archive}: {MANIFEST} lacks its migration state or its file list.")
    return manifest


def _expected_members(manifest: dict[str, Any], archive: Path) -> dict[str, Member]:
    database = manifest["database"]
    entries = [(DUMP_NAMES[database["vendor"]], database)]
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not _safe_relative(path):
            raise BackupError(
                f"{archive}: {MANIFEST} lists the path {path!r}, which is not inside MEDIA_ROOT. "
                "Nothing was restored."
            )
        entries.append((MEDIA_PREFIX + path, entry))
    expected: dict[str, Member] = {}
    for name, entry in entries:
        size, sha256 = entry.get("size"), entry.get("sha256")
        if not isinstance(size, int) or not isinstance(sha256, str) or name in expected:
            raise BackupError(f"{archive}: {MANIFEST} has a malformed entry for {name}.")
        expected[name] = Member(name, size, sha256)
    return expected


def _safe_relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return (
        bool(parts)
        and not PurePosixPath(path).is_absolute()
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in path
        and "\x00" not in path
    )


def _check_migrations_known(migrations: dict[str, Any], archive: Path) -> None:
    """A backup from a newer portal would restore tables this code does not know."""
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    for app, name in sorted(migrations.items()):
        if (app, name) not in known:
            raise BackupError(
                f"{archive} was taken after migration {app}.{name}, which this version of the "
                "portal does not have. Restore with the portal version named in its manifest. "
                "Nothing was restored."
            )


def _refuse_if_in_use(alias: str, media_root: Path) -> None:
    """Every portal in use has a staff account (the first counsel) or a document."""
    user_table = get_user_model()._meta.db_table
    connection = connections[alias]
    with connection.cursor() as cursor:
        if user_table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(user_table)} LIMIT 1")  # noqa: S608
            if cursor.fetchone() is not None:
                raise BackupError(
                    "The database is not empty (it has user accounts); restoring would replace "
                    "it. Run restore --force to replace it. Nothing was restored."
                )
    first = next(_media_files(media_root), None)
    if first is not None:
        raise BackupError(
            f"MEDIA_ROOT is not empty ({first[0]}); restoring would mix documents. "
            "Run restore --force to restore over it. Nothing was restored."
        )


def _extract(tar: tarfile.TarFile, member: Member, destination: Path) -> None:
    """Write a verified member to ``destination`` under a temporary name, checking its hash
    again on the way (the archive may change between reads), then rename it into place."""
    source = tar.extractfile(member.name)
    assert source is not None  # verified as a regular file
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".restoring-")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != member.sha256:
            raise BackupError(f"{member.name} changed while it was being restored.")
        Path(temporary).chmod(0o640)
        Path(temporary).replace(destination)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _restore_database(alias: str, dump: Path) -> None:
    connection = connections[alias]
    if connection.vendor == "sqlite":
        if connection.in_atomic_block:
            raise BackupError("Run the restore outside a transaction (SQLite would wait for it).")
        connection.ensure_connection()
        source = sqlite3.connect(dump)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    # The portal's own connection holds nothing the restore needs; close it so that
    # pg_restore --clean is not kept waiting by it.
    connection.close()
    _run_client(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        connection.settings_dict,
    )


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
