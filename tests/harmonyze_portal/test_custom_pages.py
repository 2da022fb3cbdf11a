"""The portal's own admin pages look and navigate like the admin (issue 15): the admin's
stylesheet, breadcrumbs back to the dashboard, and dates written one way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

SignIn = Callable[[Any], Client]

PAGES = [
    "calendar_manage",
    "history_export",
    "outbox",
    "admin:customers_customer_import",
    "admin:audits_auditreport_coverage",
    "admin:requests_datasubjectrequest_metrics",
    "admin:requests_lawenforcementdemand_transparency",
]


@pytest.mark.parametrize("name", PAGES)
def test_each_custom_page_uses_the_admin_styles_and_breadcrumbs(
    name: str, counsel: Any, signed_in: SignIn, settings: Any, tmp_path: Any
) -> None:
    settings.DEBUG = True  # the outbox exists only in the demo
    settings.OUTBOX_DIR = str(tmp_path)
    page = signed_in(counsel).get(reverse(name)).content.decode()

    assert "admin/css/base.css" in page
    assert 'class="breadcrumbs"' in page
    assert f'href="{reverse("admin:index")}"' in page
