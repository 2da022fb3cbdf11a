"""Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container Chromium needs --no-sandbox; the network flags stop it from calling
# home, which a closed CI network refuses many times over.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Debian's chromium is not installed (apt-get install --no-install-recommends chromium)"
    if os.environ.get("REQUIRE_BROWSER_TESTS"):
        pytest.fail(f"browser tests are required here, but {reason}")
    pytest.skip(reason)


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    """A fresh browser per test.

    Playwright's sync API runs an event loop in this thread while it is open, and Django
    refuses ORM calls from there (and would open a second, never-closed connection if forced).
    So a test prepares its data in fixtures listed *before* ``page`` and only drives the
    browser afterwards; the browser is closed before the database is flushed.
    """
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console",
            lambda message: (
                page.csp_violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        yield page
        context.close()
        browser.close()


@pytest.fixture
def passwords(transactional_db: None, settings: Any) -> dict[str, str]:
    """The demo users, created by `seed_demo` as `make run` does, with their passwords."""
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    settings.DEBUG = False
    return dict(re.findall(r"^\s+(counsel|analyst|viewer)\s+(\S+)", out.getvalue(), re.MULTILINE))
