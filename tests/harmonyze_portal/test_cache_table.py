"""`migrate` alone makes a working portal: it creates the database cache table the public
forms' rate limits count in (migration 0005). Without the table every public post was a 500."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

SIGNUP = "/sub-processors/notices/"
BASE_DIR = Path(settings.BASE_DIR)


def cache_table() -> str:
    location: str = settings.CACHES["default"]["LOCATION"]
    return location


def has_cache_table() -> bool:
    return cache_table() in connection.introspection.table_names()


def drop_cache_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(cache_table())}")


@pytest.mark.django_db(transaction=True)
def test_migrate_creates_the_cache_table_a_public_post_needs() -> None:
    client = Client(raise_request_exception=False)
    drop_cache_table()
    try:
        # The deployment that skipped `createcachetable`, as it was.
        assert client.post(SIGNUP, {"email": "dpo@acme.com"}).status_code == 500

        call_command("migrate", "harmonyze_portal", "0004_history_record", verbosity=0)
        call_command("migrate", verbosity=0)

        assert has_cache_table()
        response = client.post(SIGNUP, {"email": "dpo@acme.com"})
        assert response.status_code == 302
        assert response["Location"] == "/sub-processors/notices/sent/"
    finally:
        call_command("createcachetable", verbosity=0)


class Editor:
    """What the migration's function uses of a schema editor: the connection it migrates."""

    connection = connection


@pytest.mark.django_db
def test_the_migration_leaves_an_existing_table_and_a_redis_cache_alone(settings) -> None:
    migration = import_module("harmonyze_portal.migrations.0005_create_cache_table")
    database_cache = settings.CACHES

    migration.create_cache_tables(None, Editor())  # the table exists: nothing to do
    assert has_cache_table()

    drop_cache_table()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379",
        }
    }
    try:
        migration.create_cache_tables(None, Editor())
        assert not has_cache_table()
    finally:
        settings.CACHES = database_cache
        call_command("createcachetable", verbosity=0)


POST_ONCE = """
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client(raise_request_exception=False).post(
    "/sub-processors/notices/", {"email": "dpo@acme.com"}
)
print(response.status_code)
"""


def test_a_fresh_sqlite_database_after_migrate_alone_takes_a_signup(tmp_path: Path) -> None:
    """The deployment steps as README gives them, on a new file: `migrate`, then a post."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    run = {"cwd": BASE_DIR, "env": env, "capture_output": True, "text": True, "timeout": 300}

    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"], check=False, **run
    )
    assert migrated.returncode == 0, migrated.stderr
    posted = subprocess.run([sys.executable, "-c", POST_ONCE], check=False, **run)  # noqa: S603

    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.strip().splitlines()[-1] == "302", posted.stdout + posted.stderr
