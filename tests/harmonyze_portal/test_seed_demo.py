"""`manage.py seed_demo`: idempotent demo data and one demo user per role."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from harmonyze_portal.management.commands import seed_demo
from harmonyze_portal.management.commands.seed_demo import area_demos
from harmonyze_portal.models import PublicHoliday

pytestmark = pytest.mark.django_db

LOGIN_LINE = re.compile(r"^\s+(counsel|analyst|viewer)\s+(\S+)\s+\((.+)\)$", re.MULTILINE)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_refuses_to_run_without_debug(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        seed()
    assert not get_user_model().objects.exists()


def test_creates_one_user_per_role_and_prints_passwords_once(settings) -> None:
    settings.DEBUG = True
    first = seed()
    logins = LOGIN_LINE.findall(first)
    assert [(name, role) for name, _, role in logins] == [
        ("counsel", "Privacy counsel"),
        ("analyst", "Privacy analyst"),
        ("viewer", "Viewer"),
    ]
    users = get_user_model().objects
    for name, password, role in logins:
        user = users.get(username=name)
        assert user.is_staff
        assert not user.is_superuser
        assert user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [role]

    second = seed()
    assert LOGIN_LINE.findall(second) == []
    assert users.count() == 3
    assert PublicHoliday.objects.count() == 3  # closure days; holidays come from the library
    assert "0 holidays added" in second


def test_reset_passwords_prints_new_working_ones(settings) -> None:
    settings.DEBUG = True
    old = {name: pw for name, pw, _ in LOGIN_LINE.findall(seed())}
    new = {name: pw for name, pw, _ in LOGIN_LINE.findall(seed("--reset-passwords"))}
    assert set(new) == {"counsel", "analyst", "viewer"}
    counsel = get_user_model().objects.get(username="counsel")
    assert new["counsel"] != old["counsel"]
    assert counsel.check_password(new["counsel"])


def test_demo_rows_name_the_seed_task_in_their_history(settings) -> None:
    settings.DEBUG = True
    seed()
    record = PublicHoliday.objects.first().history.get()
    assert record.history_actor == "task: seed demo data"
    assert record.history_change_reason == "Demo data"


# --- The areas' demo modules: discovered, called in INSTALLED_APPS order, each reporting.


def test_each_area_demo_is_found_in_installed_apps_order() -> None:
    assert [label for label, _ in area_demos()] == [
        "customers",
        "subprocessors",
        "requests",
        "audits",
    ]


@time_machine.travel(datetime(2026, 3, 1, 3, 0, tzinfo=UTC), tick=False)
def test_each_area_demo_gets_the_legal_date_and_the_staff_and_reports(
    settings, monkeypatch
) -> None:
    settings.DEBUG = True
    calls: list[dict[str, Any]] = []

    def seed_area(*, now: datetime, today: date, staff: Mapping[str, Any]) -> str:
        calls.append({"now": now, "today": today, "staff": dict(staff)})
        return f"{len(calls)} things added"

    monkeypatch.setattr(seed_demo, "area_demos", lambda: [("one", seed_area), ("two", seed_area)])

    out = seed()

    assert "Demo data ready (3 holidays added, 1 things added, 2 things added)." in out
    assert [call["today"] for call in calls] == [date(2026, 2, 28)] * 2  # New York (T1)
    assert calls[0]["now"] == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert sorted(calls[0]["staff"]) == ["analyst", "counsel", "viewer"]
    assert calls[0]["staff"]["counsel"].groups.get().name == "Privacy counsel"


def test_an_area_demo_that_fails_leaves_nothing_behind(settings, monkeypatch) -> None:
    settings.DEBUG = True

    def broken(**kwargs: Any) -> str:
        raise RuntimeError("the area's demo is broken")

    demos = area_demos()
    monkeypatch.setattr(seed_demo, "area_demos", lambda: [*demos, ("broken", broken)])

    with pytest.raises(RuntimeError):
        seed()

    assert not get_user_model().objects.exists()
    assert not PublicHoliday.objects.exists()


def test_make_run_gets_the_logins_last_and_a_second_run_says_how_to_get_new_ones(
    settings, tmp_path
) -> None:
    """Issue 15: `make run` prints the logins after everything else (it reads them from the
    file); on a second run there are none to print, and the output says what to do."""
    settings.DEBUG = True
    logins = tmp_path / "logins"
    first = seed("--logins-to", str(logins))

    assert LOGIN_LINE.findall(first) == []
    assert [name for name, _, _ in LOGIN_LINE.findall(logins.read_text())] == [
        "counsel",
        "analyst",
        "viewer",
    ]
    second = seed()
    assert "make demo-passwords" in second
    assert LOGIN_LINE.findall(second) == []


def test_make_run_points_links_at_its_port_and_keeps_emails_in_the_outbox() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert "PORTAL_BASE_URL=http://$(HOST):$(PORT)" in makefile
    assert "EMAIL_FILE_PATH=" in makefile
    assert "make run PORT=" in readme
