"""S1: the public sub-processor list must serve at least half the requests per second that
WhiteNoise serves a static file of the same size, measured in the same run.

Both are requested through the same WSGI application and middleware, called in-process (no
sockets, no test client), so the comparison is between the two code paths only.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.setup import django_with_fresh_database

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "5000"))
TARGET = 0.5


def _environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "portal.harmonyze.com",
        "SERVER_PORT": "443",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "REMOTE_ADDR": "198.51.100.10",
    }


def fetch(app: Callable[..., Any], path: str) -> tuple[str, bytes]:
    statuses: list[str] = []
    body = app(_environ(path), lambda status, headers, exc_info=None: statuses.append(status))
    content = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return statuses[0], content


def rate(app: Callable[..., Any], path: str) -> float:
    for _ in range(200):  # warm up
        fetch(app, path)
    started = time.perf_counter()
    for _ in range(REQUESTS):
        fetch(app, path)
    return REQUESTS / (time.perf_counter() - started)


def main() -> int:
    folder = django_with_fresh_database()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from harmonyze_portal.history import acting_as
    from subprocessors.demo import add_current

    with acting_as("task: benchmark setup"):
        for n in range(25):
            # Current only through a published change whose 15 days have passed (S3).
            add_current(
                f"Vendor {n:02d}, Inc.",
                "Hosting and storage of Service Data for the Services.",
                "United States, Ireland",
                "Account data, Service Data",
                "",
                date(2025, 1, 1),
            )

    # WhiteNoise in production mode, serving a file the size of the rendered list.
    static_root = folder / "static"
    static_root.mkdir()
    settings.STATIC_ROOT = static_root
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    probe = WSGIHandler()
    status, page = fetch(probe, "/sub-processors/")
    assert status.startswith("200"), status
    (static_root / "same-size.html").write_bytes(b"x" * len(page))
    app = WSGIHandler()  # loads the middleware, so WhiteNoise indexes the new file
    status, same = fetch(app, "/static/same-size.html")
    assert status.startswith("200"), status
    assert len(same) == len(page)

    static_rate = rate(app, "/static/same-size.html")
    list_rate = rate(app, "/sub-processors/")
    ratio = list_rate / static_rate
    ok = ratio >= TARGET
    print(
        f"public_list: {len(page)} bytes; list {list_rate:.0f} req/s, WhiteNoise static "
        f"{static_rate:.0f} req/s, ratio {ratio:.2f} (target >= {TARGET}) -> "
        f"{'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1
