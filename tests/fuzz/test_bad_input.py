"""Input that once gave a 500 (issue 13): each is now a 4xx with a clear message, or ignored.

The NUL-byte cases matter on PostgreSQL, which refuses NUL in text; run this module there too.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from axes.models import AccessAttempt
from django.test import Client

from harmonyze_portal import views
from harmonyze_portal.clock import legal_today
from harmonyze_portal.dates import add_days
from tests.customers.builders import make_assistance, make_customer
from tests.downloads import body as content_of
from tests.harmonyze_portal.test_security import assert_strict_csp
from tests.requests.builders import make_dsr

ROLES = ["counsel", "analyst", "viewer"]


def staff_client(request: pytest.FixtureRequest, role: str, signed_in: Any) -> Client:
    client: Client = signed_in(request.getfixturevalue(role))
    client.raise_request_exception = False
    return client


# --- The error pages are the portal's, never read the request, and keep the headers.


@pytest.mark.django_db
def test_the_400_page_is_the_portals_own_with_its_headers(settings: Any) -> None:
    settings.LEGAL_INBOX_EMAIL = "privacy-desk@harmonyze.example"
    client = Client(raise_request_exception=False)

    response = client.generic(
        "POST",
        "/privacy-requests/",
        b"email=\xff\xfe",
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Bad request" in body
    # Django's default view renders without the portal's context: the inbox was the fallback.
    assert "privacy-desk@harmonyze.example" in body
    assert_strict_csp(response)


@pytest.mark.django_db
def test_a_500_is_the_portals_page_with_its_headers(settings: Any, monkeypatch: Any) -> None:
    settings.LEGAL_INBOX_EMAIL = "privacy-desk@harmonyze.example"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "JsonResponse", broken)
    response = Client(raise_request_exception=False).get("/healthz")

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "privacy-desk@harmonyze.example" in response.content.decode()
    assert_strict_csp(response)


class Unreadable:
    """A request whose query and body raise when read, as an undecodable one does."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the error view read request.{name}")


@pytest.mark.parametrize(
    ("view", "status"),
    [("bad_request", 400), ("permission_denied", 403), ("page_not_found", 404)],
)
def test_the_error_views_never_read_the_request(view: str, status: int) -> None:
    assert getattr(views, view)(Unreadable(), Exception("x")).status_code == status
    assert views.server_error(Unreadable()).status_code == 500  # type: ignore[arg-type]


def test_a_500_page_that_cannot_render_still_answers(monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("template gone")

    monkeypatch.setattr(views, "render_to_string", broken)

    response = views.server_error(Unreadable())  # type: ignore[arg-type]

    assert response.status_code == 500
    assert b"Something went wrong" in response.content


# --- Staff login: a username longer than the column django-axes writes it to.


@pytest.mark.django_db
def test_a_username_over_255_characters_is_an_invalid_login(counsel: Any) -> None:
    client = Client(raise_request_exception=False)

    response = client.post("/admin/login/?next=/admin/", {"username": "a" * 300, "password": "x"})

    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert "_auth_user_id" not in client.session


# --- Staff files: a folder is not a document.


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_a_staff_files_folder_is_a_404(
    request: pytest.FixtureRequest, role: str, signed_in: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "customers" / "dpas").mkdir(parents=True)
    client = staff_client(request, role, signed_in)

    for url in ["/staff/files/customers/dpas/", "/staff/files/customers", "/staff/files/a%00b"]:
        assert client.get(url).status_code == 404, url


# --- The dashboard and its exports: dates near the end of the calendar.


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "query",
    [
        "due_after=9999-12-31",
        "due_before=9999-12-31",
        "due_after=0001-01-01&due_before=9999-12-31",
        "due_after=0001-01-01",
    ],
)
@pytest.mark.parametrize("path", ["/admin/", "/admin/deadlines.csv", "/admin/deadlines.xlsx"])
def test_out_of_range_dashboard_dates_are_refused_not_a_500(
    request: pytest.FixtureRequest, role: str, query: str, path: str, signed_in: Any
) -> None:
    response = staff_client(request, role, signed_in).get(f"{path}?{query}")

    assert response.status_code == 200
    if path == "/admin/":
        assert "Choose dates between 1900-01-01 and 2999-12-31" in response.content.decode()


# --- Changelists, search, list filters and autocomplete.


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url",
    [
        "/admin/harmonyze_portal/publicholiday/?date__year=99999999999999999999",
        "/admin/harmonyze_portal/publicholiday/?date__year=2026&date__month=99999999999999999999",
        "/admin/harmonyze_portal/publicholiday/?date__year=2026&date__month=1&date__day=-1",
    ],
)
def test_a_huge_date_hierarchy_number_is_a_400(
    request: pytest.FixtureRequest, role: str, url: str, signed_in: Any
) -> None:
    response = staff_client(request, role, signed_in).get(url)

    assert response.status_code == 400
    assert "must be a number of at most four digits" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url",
    [
        "/admin/harmonyze_portal/publicholiday/?q=%00",
        "/admin/harmonyze_portal/publicholiday/?q=a%00b",
        "/admin/harmonyze_portal/publicholiday/?name=%00",
        "/admin/auth/user/?username__exact=a%00",
        "/admin/auth/user/?is_active__exact=%00",
        "/admin/harmonyze_portal/publicholiday/?%00=1",
        "/admin/autocomplete/?term=%00&app_label=auth&model_name=user&field_name=user",
        "/admin/?due_after=%00",
        "/admin/deadlines.csv?rule=%00",
    ],
)
def test_a_nul_byte_in_an_admin_query_is_a_400(
    request: pytest.FixtureRequest, role: str, url: str, signed_in: Any
) -> None:
    response = staff_client(request, role, signed_in).get(url)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert_strict_csp(response)


# --- XLSX exports: control characters typed into a public form.

ESCAPED = "\x1b[31mJane\x08 Subject\x07"  # no NUL: PostgreSQL refuses it in text


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_control_characters_do_not_break_the_dsr_log_xlsx(
    request: pytest.FixtureRequest, role: str, signed_in: Any
) -> None:
    make_dsr(email="esc@example.org", requester_name=ESCAPED)
    make_dsr(email="formula@example.org", requester_name="\x1b=HYPERLINK(evil)")
    client = staff_client(request, role, signed_in)

    response = client.post("/admin/requests/datasubjectrequest/export/", {"format": "1"})

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(content_of(response))).active
    assert sheet is not None
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"[31mJane Subject", "'=HYPERLINK(evil)"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_control_characters_do_not_break_the_dashboard_xlsx(
    request: pytest.FixtureRequest, role: str, signed_in: Any
) -> None:
    customer = make_customer("\x1b=Acme\x0b", effective=date(2024, 1, 1))
    make_assistance(customer, received=add_days(legal_today(), -30))  # due today
    client = staff_client(request, role, signed_in)

    response = client.get("/admin/deadlines.xlsx")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(content_of(response))).active
    assert sheet is not None
    header, *rows = sheet.iter_rows(values_only=True)
    customers = [row[header.index("Customer")] for row in rows]
    assert customers == ["'=Acme"]
