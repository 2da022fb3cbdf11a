"""axe-core in Chromium (issue 15): the dashboard, every admin change form and the public pages
have no critical or serious violations (an input without a label, a select without a name,
text that cannot be read for contrast).

axe-core is vendored (tests/browser/vendor/), so the check needs no network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.browser.test_history_export import sign_in_counsel

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
GRAVE = {"critical", "serious"}
PUBLIC_PAGES = [
    "/",
    "/sub-processors/",
    "/sub-processors/notices/",
    "/privacy-requests/",
    "/audits/plan/",
]


def violations(page: Any) -> list[str]:
    """axe's critical and serious findings on the page as it stands, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, not by a <script>: the pages' strict
        # CSP stays as it is.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    page.wait_for_load_state("load")
    result = page.evaluate("async () => JSON.stringify(await axe.run(document))")
    found = []
    for violation in json.loads(result)["violations"]:
        if violation["impact"] in GRAVE:
            for node in violation["nodes"]:
                found.append(f"{page.url} {violation['id']}: {node['target']} {node['html'][:120]}")
    return found


@pytest.fixture
def change_forms(passwords: dict[str, str]) -> list[str]:
    """The add form of every admin and the change form of its first demo row (read before
    the browser opens: the ORM is not allowed in Playwright's thread)."""
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_add".format(*info)))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return urls


def test_the_public_pages_have_no_violations(page: Any) -> None:
    found: list[str] = []
    for url in PUBLIC_PAGES:
        page.goto(url)
        found += violations(page)
    assert found == [], "\n".join(found)


def test_the_dashboard_and_every_change_form_have_no_grave_violations(
    passwords: dict[str, str], change_forms: list[str], page: Any
) -> None:
    sign_in_counsel(page, passwords["counsel"])
    found = violations(page)
    for url in change_forms:
        response = page.goto(url)
        if response.status == 403:
            continue  # rows only a service creates (deliveries, the view log)
        assert response.status == 200, url
        found += violations(page)
    assert found == [], "\n".join(found)


def test_the_dashboard_fits_1280_pixels(passwords: dict[str, str], page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_counsel(page, passwords["counsel"])
    page.goto("/admin/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the dashboard is {width} px wide: it scrolls sideways at 1280 px"
    for name in ("due_after", "due_before"):
        field = page.locator(f"input[name={name}]")
        assert field.get_attribute("type") == "date"
        assert re.match(r"Due on or (after|before)", field.get_attribute("aria-label") or "")
