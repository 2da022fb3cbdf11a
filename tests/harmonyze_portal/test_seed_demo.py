"""`manage.py seed_demo`: idempotent demo data and one demo user per role."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

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
    assert PublicHoliday.objects.count() == 22
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
