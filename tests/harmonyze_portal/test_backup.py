"""`manage.py backup` and `manage.py restore`: the database and the documents, the proof (issue
13, H1). A restore brings back every row and every file byte for byte, and refuses an altered,
truncated or unknown backup, or a portal in use, before it writes anything."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from customers.models import DPA, Customer, DeletionCertificate
from harmonyze_portal import backup as backup_module
from harmonyze_portal.backup import client_env
from harmonyze_portal.history import acting_as
from tests.conftest import make_staff
from tests.customers.builders import make_certificate, make_customer, make_dpa

BASE_DIR = Path(django_settings.BASE_DIR)
SIGNED_DPA = b"%PDF-1.7\n% signed DPA, Acme Analytics GmbH\n" + bytes(range(256)) * 64
CERTIFICATE = b"%PDF-1.7\n% certificate of deletion, Globex\n" + b"\x00\xff" * 5000

# A backup reads the database from outside the test's transaction (pg_dump is its own process;
# SQLite's backup API waits for an open write transaction), so every test commits its rows.
pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="restoring into a fresh PostgreSQL database needs PostgreSQL "
    "(run with DATABASE_URL=postgres://…); the SQLite path has its own test",
)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the SQLite backup API path runs only on SQLite; PostgreSQL has its own test",
)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def run_backup(target: Path) -> str:
    out = StringIO()
    call_command("backup", str(target), stdout=out)
    return out.getvalue()


def run_restore(archive: Path, *args: str) -> str:
    out = StringIO()
    call_command("restore", str(archive), *args, stdout=out)
    return out.getvalue()


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def add_documents() -> tuple[DPA, DeletionCertificate]:
    """A signed DPA and an issued certificate of deletion, stored as the admin stores them."""
    with acting_as("task: backup test", reason="Documents for the backup test"):
        acme = make_customer("Acme Backup GmbH")
        dpa = make_dpa(acme)
        dpa.signed_file.save("signed-dpa.pdf", ContentFile(SIGNED_DPA), save=False)
        dpa.save()
        certificate = make_certificate(make_customer("Globex Backup Ltd"))
        certificate.pdf.save("certificate.pdf", ContentFile(CERTIFICATE), save=False)
        certificate.save()
    return dpa, certificate


def seed_with_documents(settings: Any) -> tuple[DPA, DeletionCertificate]:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    settings.DEBUG = False
    return add_documents()


def rewrite(archive: Path, change: Callable[[str, bytes], tuple[str, bytes] | None]) -> Path:
    """A copy of ``archive`` with each member passed through ``change`` (None drops it)."""
    altered = archive.with_name("altered.tar")
    with tarfile.open(archive) as source, tarfile.open(altered, "w") as target:
        for info in source:
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            result = change(info.name, data)
            if result is None:
                continue
            name, data = result
            new = tarfile.TarInfo(name)
            new.size = len(data)
            target.addfile(new, io.BytesIO(data))
    return altered


def manifest_of(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]


# --- What a backup holds.


def test_backup_holds_the_dump_every_document_and_a_manifest_of_hashes(
    media: Path, tmp_path: Path
) -> None:
    dpa, certificate = add_documents()

    output = run_backup(tmp_path / "portal.tar")

    archive = tmp_path / "portal.tar"
    assert f"Backup written to {archive}" in output
    assert "2 documents" in output
    manifest = manifest_of(archive)
    assert {entry["path"]: (entry["size"], entry["sha256"]) for entry in manifest["files"]} == {
        dpa.signed_file.name: (len(SIGNED_DPA), hashlib.sha256(SIGNED_DPA).hexdigest()),
        certificate.pdf.name: (len(CERTIFICATE), hashlib.sha256(CERTIFICATE).hexdigest()),
    }
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        dump = tar.extractfile(manifest["database"]["path"]).read()  # type: ignore[union-attr]
        stored = tar.extractfile(f"media/{dpa.signed_file.name}").read()  # type: ignore[union-attr]
    assert names[-1] == "manifest.json"
    assert stored == SIGNED_DPA
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["sha256"] == hashlib.sha256(dump).hexdigest()
    last_applied = MigrationRecorder(connection).migration_qs.order_by("-id").first()
    assert manifest["migrations"][last_applied.app] == last_applied.name
    assert manifest["migrations"]["customers"].startswith("00")
    assert manifest["created_at"].endswith("+00:00")
    git = ["/usr/bin/git", "rev-parse", "HEAD"]
    head = subprocess.run(git, cwd=BASE_DIR, capture_output=True, text=True, check=False)  # noqa: S603
    assert manifest["portal_version"] == (head.stdout.strip() or None)


def test_backup_into_a_folder_writes_a_new_timestamped_file(media: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()

    run_backup(folder)

    [archive] = folder.iterdir()
    assert archive.name.startswith("harmonyze-backup-")
    assert archive.suffix == ".tar"


def test_backup_refuses_to_overwrite_an_existing_backup(media: Path, tmp_path: Path) -> None:
    existing = tmp_path / "portal.tar"
    existing.write_bytes(b"last night's backup")

    with pytest.raises(CommandError, match=r"portal\.tar already exists; a backup is never"):
        run_backup(existing)

    assert existing.read_bytes() == b"last night's backup"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["media", "portal.tar"]


def test_backup_into_a_missing_folder_says_so(media: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist; create it first"):
        run_backup(tmp_path / "nowhere" / "portal.tar")


def test_backup_refuses_to_write_inside_media_root(media: Path) -> None:
    with pytest.raises(CommandError, match="is inside MEDIA_ROOT; write backups somewhere else"):
        run_backup(media / "portal.tar")

    assert files_under(media) == {}


def test_the_database_password_goes_in_the_environment_not_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_dict = {
        "NAME": "portal",
        "USER": "portal",
        "PASSWORD": "s3cret-password",
        "HOST": "db.internal",
        "PORT": 5433,
        "OPTIONS": {"sslmode": "require"},
    }
    seen: dict[str, Any] = {}

    def fake_run(arguments: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen["arguments"], seen["env"] = arguments, kwargs["env"]
        return subprocess.CompletedProcess(arguments, 0, "", "")

    monkeypatch.setattr(backup_module.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(backup_module.subprocess, "run", fake_run)
    backup_module._run_client("pg_dump", ["--format=custom"], settings_dict)

    assert not any("s3cret" in argument for argument in seen["arguments"])
    assert seen["env"]["PGPASSWORD"] == "s3cret-password"
    env = client_env(settings_dict)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "db.internal",
        "5433",
        "portal",
        "portal",
        "require",
    )


# --- Round trips: every row and every document.


def sqlite_tables() -> dict[str, tuple[int, str]]:
    """Row count and a checksum of all rows ordered by primary key, per table."""
    snapshot = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            keys = connection.introspection.get_primary_key_columns(cursor, table) or ["rowid"]
            order = ", ".join(connection.ops.quote_name(key) for key in keys)
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
            rows = cursor.fetchall()
            snapshot[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return snapshot


@sqlite_only
def test_sqlite_restore_brings_back_every_row_and_every_document(
    settings: Any, media: Path, tmp_path: Path
) -> None:
    dpa, _ = seed_with_documents(settings)
    tables, documents = sqlite_tables(), files_under(media)
    assert tables["customers_historicaldpa"][0] > 0
    archive = tmp_path / "portal.tar"
    run_backup(archive)
    # What happens after the backup is what the restore undoes.
    with acting_as("task: backup test", reason="Changed after the backup"):
        renamed = Customer.objects.get(legal_name="Acme Backup GmbH")
        renamed.legal_name = "Renamed after the backup"
        renamed.save()
    (media / dpa.signed_file.name).unlink()

    output = run_restore(archive, "--force")

    assert "every document matches the manifest" in output
    assert sqlite_tables() == tables
    assert files_under(media) == documents
    assert DPA.objects.get(pk=dpa.pk).signed_file.read() == SIGNED_DPA


def postgres_url(settings_dict: dict[str, Any], name: str) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{name}"


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test database's server, dropped afterwards."""
    import psycopg

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_restore_{os.getpid()}"[:63]
    admin_url = postgres_url(settings_dict, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield postgres_url(settings_dict, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_tables(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of all rows ordered by primary key, per table; and each sequence's
    last value (a restore that left them behind would fail at the next insert)."""
    import psycopg

    snapshot: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        for table in tables:
            keys = [
                row[0]
                for row in conn.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                    "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                    "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
                    [f'public."{table}"'],
                )
            ]
            order = ", ".join(f't."{key}"' for key in keys) or "t::text"
            count, checksum = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), ''))"  # noqa: S608
                f' FROM public."{table}" t'
            ).fetchone()  # type: ignore[misc]
            snapshot[table] = (count, checksum)
        for name, last_value in conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        ):
            snapshot[f"sequence {name}"] = (last_value or 0, "")
    return snapshot


@postgresql_only
def test_postgresql_restore_into_a_fresh_database_is_identical(
    settings: Any, media: Path, tmp_path: Path, fresh_database: str
) -> None:
    dpa, certificate = seed_with_documents(settings)
    archive = tmp_path / "portal.tar"
    run_backup(archive)
    restored_media = tmp_path / "restored-media"

    # A fresh portal, as after losing the server: its own process, database and MEDIA_ROOT.
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": fresh_database,
            "MEDIA_ROOT": str(restored_media),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "every document matches the manifest" in result.stdout
    original = postgres_tables(
        postgres_url(connection.settings_dict, connection.settings_dict["NAME"])
    )
    restored = postgres_tables(fresh_database)
    assert restored == original
    assert original["customers_historicaldpa"][0] > 0
    assert original["customers_customer"][0] > 0
    assert files_under(restored_media) == files_under(media)
    # The demo's own documents (agreements, letters…) and the two added here, byte for byte.
    assert {dpa.signed_file.name, certificate.pdf.name} <= set(files_under(restored_media))
    assert files_under(restored_media)[dpa.signed_file.name] == SIGNED_DPA


# --- Refusals: each names the problem, and nothing is restored.


@pytest.fixture
def backed_up(media: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A backup of a portal with two documents, then a change made after it (the customer is
    renamed, a document removed), so that a half-done restore would show."""
    dpa, _ = add_documents()
    archive = tmp_path / "portal.tar"
    run_backup(archive)
    customer = dpa.customer
    with acting_as("task: backup test", reason="Changed after the backup"):
        customer.legal_name = "Renamed after the backup"
        customer.save()
    (media / dpa.signed_file.name).unlink()
    return archive, files_under(media)


def assert_nothing_restored(media: Path, documents: dict[str, bytes]) -> None:
    assert Customer.objects.filter(legal_name="Renamed after the backup").exists()
    assert files_under(media) == documents


def test_restore_refuses_an_altered_document_and_names_it(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up
    dpa = DPA.objects.get(customer__legal_name="Renamed after the backup")
    target = f"media/{dpa.signed_file.name}"

    def flip_a_byte(name: str, data: bytes) -> tuple[str, bytes]:
        return name, (data[:-1] + b"!" if name == target else data)

    altered = rewrite(archive, flip_a_byte)

    with pytest.raises(CommandError, match=f"{target} in .* does not match its SHA-256"):
        run_restore(altered, "--force")
    assert_nothing_restored(media, documents)


def test_restore_refuses_an_altered_manifest_and_names_the_file(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up
    manifest = manifest_of(archive)
    victim = manifest["files"][0]
    victim["size"] += 1

    def edit_manifest(name: str, data: bytes) -> tuple[str, bytes]:
        return name, (json.dumps(manifest).encode() if name == "manifest.json" else data)

    altered = rewrite(archive, edit_manifest)

    with pytest.raises(CommandError, match=f"media/{victim['path']} in .* the manifest says"):
        run_restore(altered, "--force")
    assert_nothing_restored(media, documents)


def test_restore_refuses_a_manifest_that_is_not_json(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up
    altered = rewrite(
        archive, lambda name, data: (name, b"{not json" if name == "manifest.json" else data)
    )

    with pytest.raises(CommandError, match=r"manifest\.json is not valid JSON"):
        run_restore(altered, "--force")
    assert_nothing_restored(media, documents)


def cut_points(archive: Path) -> dict[str, int]:
    with tarfile.open(archive) as tar:
        members = {info.name: info for info in tar}
    dump = members[manifest_of(archive)["database"]["path"]]
    document = next(info for name, info in members.items() if name.startswith("media/"))
    manifest = members["manifest.json"]
    return {
        "inside the database dump": dump.offset_data + dump.size // 2,
        "inside a document": document.offset_data + 10,
        "before the manifest": manifest.offset,
        "inside the manifest's header": manifest.offset + 100,
        "inside the manifest": manifest.offset_data + manifest.size // 2,
    }


@pytest.mark.parametrize(
    "where",
    [
        "inside the database dump",
        "inside a document",
        "before the manifest",
        "inside the manifest's header",
        "inside the manifest",
    ],
)
def test_restore_refuses_a_truncated_backup(
    backed_up: tuple[Path, dict[str, bytes]], media: Path, where: str
) -> None:
    archive, documents = backed_up
    truncated = archive.with_name("truncated.tar")
    truncated.write_bytes(archive.read_bytes()[: cut_points(archive)[where]])

    with pytest.raises(CommandError, match="truncated"):
        run_restore(truncated, "--force")
    assert_nothing_restored(media, documents)


def test_restore_refuses_a_backup_missing_a_listed_document(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up
    dropped = "media/" + manifest_of(archive)["files"][1]["path"]
    altered = rewrite(archive, lambda name, data: None if name == dropped else (name, data))

    with pytest.raises(CommandError, match=f"is missing {dropped}, listed in the manifest"):
        run_restore(altered, "--force")
    assert_nothing_restored(media, documents)


def test_restore_refuses_a_file_the_manifest_does_not_list(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up

    extra = rewrite(archive, lambda name, data: (name, data))
    with tarfile.open(extra, "a") as tar:
        info = tarfile.TarInfo("media/unlisted.pdf")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"%PDF"))
    with pytest.raises(CommandError, match=r"holds media/unlisted\.pdf, which the manifest"):
        run_restore(extra, "--force")
    assert_nothing_restored(media, documents)


def test_restore_refuses_a_path_outside_media_root(
    backed_up: tuple[Path, dict[str, bytes]], media: Path, tmp_path: Path
) -> None:
    archive, documents = backed_up
    manifest = manifest_of(archive)
    manifest["files"].append({"path": "../escaped.pdf", "size": 4, "sha256": "0" * 64})

    def escape(name: str, data: bytes) -> tuple[str, bytes]:
        return name, (json.dumps(manifest).encode() if name == "manifest.json" else data)

    altered = rewrite(archive, escape)

    with pytest.raises(CommandError, match=r"'\.\./escaped\.pdf', which is not inside MEDIA_ROOT"):
        run_restore(altered, "--force")
    assert not (tmp_path / "escaped.pdf").exists()
    assert_nothing_restored(media, documents)


def test_restore_refuses_a_backup_from_a_newer_portal(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up
    manifest = manifest_of(archive)
    manifest["migrations"]["customers"] = "9999_from_the_future"
    altered = rewrite(
        archive,
        lambda name, data: (
            name,
            json.dumps(manifest).encode() if name == "manifest.json" else data,
        ),
    )

    with pytest.raises(CommandError, match=r"after migration customers\.9999_from_the_future"):
        run_restore(altered, "--force")
    assert_nothing_restored(media, documents)


def test_restore_refuses_a_database_in_use_without_force(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, _ = backed_up
    for path in media.rglob("*"):
        if path.is_file():
            path.unlink()
    make_staff("counsel", None)

    with pytest.raises(CommandError, match=r"database is not empty .* restore --force"):
        run_restore(archive)
    assert_nothing_restored(media, {})


def test_restore_refuses_documents_in_media_root_without_force(
    backed_up: tuple[Path, dict[str, bytes]], media: Path
) -> None:
    archive, documents = backed_up
    assert documents  # the certificate is still there

    with pytest.raises(CommandError, match=r"MEDIA_ROOT is not empty .* restore --force"):
        run_restore(archive)
    assert_nothing_restored(media, documents)


def test_restore_of_a_missing_file_says_so(media: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is not a file"):
        run_restore(tmp_path / "nothing.tar")


def test_restore_documents_never_leave_a_partial_file_under_the_real_name(
    tmp_path: Path,
) -> None:
    data = b"%PDF-1.7 certificate"
    archive = tmp_path / "one.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("media/a.pdf")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    member = backup_module.Member("media/a.pdf", len(data), "0" * 64)  # a hash that won't match

    with tarfile.open(archive) as tar, pytest.raises(backup_module.BackupError, match="changed"):
        backup_module._extract(tar, member, tmp_path / "out" / "a.pdf")
    assert list((tmp_path / "out").iterdir()) == []
