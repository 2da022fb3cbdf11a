"""R2, R3 under load: ``GET /privacy-requests/`` served by gunicorn at least 0.3x the requests
per second of WhiteNoise serving a static file of the same size, from the same gunicorn.

Production settings (DEBUG off, collected and hashed static files), two sync workers on
127.0.0.1, and four client threads each opening a connection per request, as a browser's
first visit does. Each round times the page next to the static file; the figure is the median
of the paired ratios. Each page still carries its own CSRF token and sets its cookie.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.setup import run_in_child

REQUESTS = int(os.environ.get("BENCH_FORM_REQUESTS", "600"))
ROUNDS = 5
CLIENTS = 4
WORKERS = 2
TARGET = 0.3


def main() -> int:
    return run_in_child("bench.public_form", "public_form")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Set-Cookie") or ""
    finally:
        connection.close()


def _rate(port: int, path: str) -> float:
    def one(_: int) -> int:
        return _get(port, path)[0]

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(one, range(REQUESTS)))
    seconds = time.perf_counter() - started
    assert set(statuses) == {200}, set(statuses)
    return REQUESTS / seconds


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with {server.returncode}")
        try:
            _get(port, "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def run() -> int:
    from bench.setup import django_with_fresh_database

    folder = django_with_fresh_database()
    from django.conf import settings

    static_root = folder / "static"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "harmonyze_portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_HOST": "smtp.invalid",
        "DATABASE_URL": settings.DATABASES["default"].get("URL") or os.environ["DATABASE_URL"],
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "warning",
    }
    root = Path(__file__).resolve().parent.parent
    subprocess.run(  # noqa: S603 - this interpreter, this project's manage.py
        [sys.executable, str(root / "manage.py"), "collectstatic", "--no-input", "-v", "0"],
        env=env,
        check=True,
    )

    def serve() -> tuple[subprocess.Popen[bytes], int]:
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 - gunicorn of this environment
            [
                sys.executable,
                "-m",
                "gunicorn",
                "harmonyze_portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=root,
        )
        _wait_until_up(port, server)
        return server, port

    # The page's size first, then a static file of that size, which WhiteNoise indexes when
    # the workers start.
    server, port = serve()
    try:
        status, page, cookie = _get(port, "/privacy-requests/")
    finally:
        server.terminate()
        server.wait()
    assert status == 200, status
    assert b'name="csrfmiddlewaretoken"' in page
    assert "csrftoken=" in cookie
    (static_root / "same-size.html").write_bytes(b"x" * len(page))

    server, port = serve()
    try:
        status, same, _ = _get(port, "/static/same-size.html")
        assert status == 200, status
        assert len(same) == len(page), (len(same), len(page))
        tokens = {
            re.search(
                rb'name="csrfmiddlewaretoken" value="([^"]+)"', _get(port, "/privacy-requests/")[1]
            ).group(1)  # type: ignore[union-attr]
            for _ in range(3)
        }
        assert len(tokens) == 3, "each visitor gets a token of their own"
        _rate(port, "/static/same-size.html")  # warm up both
        _rate(port, "/privacy-requests/")
        ratios, form_rates, static_rates = [], [], []
        for round_ in range(ROUNDS):
            paths = ["/static/same-size.html", "/privacy-requests/"]
            rates = {path: _rate(port, path) for path in (paths if round_ % 2 else paths[::-1])}
            static_rates.append(rates[paths[0]])
            form_rates.append(rates[paths[1]])
            ratios.append(rates[paths[1]] / rates[paths[0]])
    finally:
        server.terminate()
        server.wait()

    ratio = statistics.median(ratios)
    ok = ratio >= TARGET
    print(
        f"public_form: {len(page)} bytes under gunicorn ({WORKERS} workers, {CLIENTS} clients); "
        f"form {statistics.median(form_rates):.0f} req/s, WhiteNoise static "
        f"{statistics.median(static_rates):.0f} req/s, ratio {ratio:.2f} (target >= {TARGET}; "
        f"median of {', '.join(f'{r:.2f}' for r in ratios)}) -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(run())
