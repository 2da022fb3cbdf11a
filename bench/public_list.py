"""S1: the public sub-processor list must serve at least half the requests per second that
WhiteNoise serves a static file of the same size, measured in the same run (in-process WSGI,
through the full middleware stack, so both pay the same framework overhead)."""

from __future__ import annotations

import os
import time
from datetime import date

from bench.setup import django_with_fresh_database

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
TARGET = 0.5


def rate(client: object, path: str, expect: int = 200) -> float:
    get = client.get  # type: ignore[attr-defined]
    for _ in range(50):  # warm up
        assert get(path).status_code == expect
    started = time.perf_counter()
    for _ in range(REQUESTS):
        get(path)
    return REQUESTS / (time.perf_counter() - started)


def main() -> int:
    folder = django_with_fresh_database()
    from django.conf import settings
    from django.test import Client

    from harmonyze_portal.history import acting_as
    from subprocessors.models import SubProcessor, SubProcessorStatus

    with acting_as("task: benchmark setup"):
        for n in range(25):
            SubProcessor.objects.get_or_create(
                name=f"Vendor {n:02d}, Inc.",
                defaults={
                    "purpose": "Hosting and storage of Service Data for the Services.",
                    "locations": "United States, Ireland",
                    "data_categories": "Account data, Service Data",
                    "status": SubProcessorStatus.ACTIVE,
                    "access_began_on": date(2025, 1, 1),
                },
            )
    client = Client()
    page = client.get("/sub-processors/")
    assert page.status_code == 200, page.status_code
    size = len(page.content)

    # A static file of the same size, served by WhiteNoise in production mode.
    static_root = folder / "static"
    static_root.mkdir()
    (static_root / "same-size.html").write_bytes(b"x" * size)

    settings.STATIC_ROOT = static_root
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    static_client = Client()

    static_rate = rate(static_client, "/static/same-size.html")
    list_rate = rate(client, "/sub-processors/")
    ratio = list_rate / static_rate
    ok = ratio >= TARGET
    print(
        f"public_list: {size} bytes; list {list_rate:.0f} req/s, WhiteNoise static "
        f"{static_rate:.0f} req/s, ratio {ratio:.2f} (target >= {TARGET}) -> "
        f"{'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1
