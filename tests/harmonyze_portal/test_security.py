"""Security headers on every HTML response; no inline script the CSP would have to allow."""

from __future__ import annotations

import re

import pytest
from django.test import Client

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def assert_strict_csp(response) -> None:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def assert_no_unnonced_inline_script(response) -> None:
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    for attributes in SCRIPT_TAG.findall(html):
        if "src=" in attributes:
            continue
        assert nonce, f"inline <script{attributes}> would be blocked by the CSP"
        assert f'nonce="{nonce.group(1)}"' in attributes, f"<script{attributes}> lacks the nonce"
    assert not re.search(r"\son[a-z]+=\"", html), "inline event handlers are blocked by the CSP"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/admin/login/", "/no-such-page/"])
def test_public_and_login_pages_carry_the_headers(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code in {200, 404}
    assert response["Content-Type"].startswith("text/html")
    assert_strict_csp(response)
    assert_no_unnonced_inline_script(response)


@pytest.mark.django_db
def test_admin_pages_carry_the_headers_and_no_inline_script(counsel, signed_in) -> None:
    client = signed_in(counsel)
    for url in [
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{counsel.pk}/change/",
        f"/admin/auth/user/{counsel.pk}/history/",
        "/admin/harmonyze_portal/publicholiday/add/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response)
        assert_no_unnonced_inline_script(response)


def test_the_404_page_is_the_portals_own(client: Client, db: None) -> None:
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Back to the portal" in response.content.decode()
