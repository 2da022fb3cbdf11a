"""The three staff roles: the groups, the rule that fills them, and what each may open."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from harmonyze_portal.areas import portal_apps
from harmonyze_portal.models import PublicHoliday, StaffDeletionRefused
from harmonyze_portal.restricted import counsel_only_permissions
from harmonyze_portal.roles import ANALYST, COUNSEL, ROLES, VIEWER, grants
from tests.conftest import PASSWORD

AREA_APP = "customers"


def group_permissions(name: str) -> set[str]:
    return {
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in Group.objects.get(name=name).permissions.select_related("content_type")
    }


def granted_permissions(role: str) -> set[str]:
    return {
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in Permission.objects.select_related("content_type")
        if grants(role, perm.content_type.app_label, perm.codename)
    }


# --- The groups in the database.


@pytest.mark.django_db
def test_migrations_leave_exactly_the_three_roles() -> None:
    assert set(Group.objects.values_list("name", flat=True)) == {
        "Privacy counsel",
        "Privacy analyst",
        "Viewer",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_group_holds_exactly_what_grants_allows(role: str) -> None:
    held = group_permissions(role)
    assert held, f"{role} holds no permission at all"
    assert held == granted_permissions(role)


@pytest.mark.django_db
def test_groups_hold_the_expected_landmark_permissions() -> None:
    counsel = group_permissions(COUNSEL)
    analyst = group_permissions(ANALYST)
    viewer = group_permissions(VIEWER)

    assert {
        "harmonyze_portal.add_publicholiday",
        "harmonyze_portal.delete_publicholiday",
        "harmonyze_portal.view_historicaluser",
        "auth.add_user",
        "auth.change_user",
        "axes.delete_accessattempt",
        "otp_totp.delete_totpdevice",
        "django_tasks_database.view_dbtaskresult",
    } <= counsel
    assert "auth.delete_user" not in counsel
    assert "auth.change_group" not in counsel
    assert "harmonyze_portal.change_historicalpublicholiday" not in counsel

    assert "harmonyze_portal.view_publicholiday" in analyst
    assert "harmonyze_portal.change_publicholiday" not in analyst
    assert "harmonyze_portal.view_historicaluser" not in analyst
    assert not {perm for perm in analyst if perm.startswith(("auth.", "axes.", "otp_"))}

    assert viewer == {perm for perm in viewer if perm.split(".")[1].startswith("view_")}
    assert "harmonyze_portal.view_publicholiday" in viewer


@pytest.mark.django_db
def test_rule_r6_demand_records_links_steps_and_exports_are_counsels_alone() -> None:
    restricted = {
        f"requests.{action}_{model}"
        for action in ("view", "add", "change")
        for model in ("lawenforcementdemand", "demandcustomer", "demandstep")
    } | {
        "requests.view_historicaldemandcustomer",
        "requests.view_historicaldemandstep",
        "requests.view_demand_history",
        "requests.export_demands",
    }

    assert restricted <= group_permissions(COUNSEL)
    assert not restricted & group_permissions(ANALYST)
    assert not restricted & group_permissions(VIEWER)


@pytest.mark.django_db
def test_post_migrate_resyncs_groups_that_drifted() -> None:
    viewer = Group.objects.get(name=VIEWER)
    viewer.permissions.add(Permission.objects.get(codename="delete_publicholiday"))
    Group.objects.get(name=ANALYST).permissions.clear()
    Group.objects.get(name=COUNSEL).delete()

    call_command("migrate", verbosity=0)

    for role in ROLES:
        assert group_permissions(role) == granted_permissions(role)


@pytest.mark.django_db
def test_the_data_migration_creates_the_groups_on_a_fresh_database() -> None:
    migration = importlib.import_module("harmonyze_portal.migrations.0002_staff_roles")
    # The historical app registry of the migration, not the live one: the migration toggles
    # models_module on the app configs it is given.
    state_apps = MigrationLoader(connection).project_state().apps
    Group.objects.filter(name__in=ROLES).delete()

    migration.create_roles(state_apps, None)

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)
    for role in ROLES:
        assert group_permissions(role) == granted_permissions(role)

    migration.remove_roles(state_apps, None)
    assert not Group.objects.filter(name__in=ROLES).exists()


# --- grants(): the rule, no database.


@pytest.mark.parametrize("app_label", sorted(portal_apps()))
@pytest.mark.parametrize("action", ["add", "change", "delete", "view", "export"])
def test_counsel_holds_every_permission_of_the_portal_apps(app_label: str, action: str) -> None:
    assert grants(COUNSEL, app_label, f"{action}_thing")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("app_label", sorted(portal_apps()))
@pytest.mark.parametrize("action", ["add", "change", "delete"])
def test_nobody_writes_history(role: str, app_label: str, action: str) -> None:
    assert not grants(role, app_label, f"{action}_historicalthing")
    assert not grants(role, app_label, f"{action}_historicaluser_groups")


def test_counsel_and_viewer_may_read_area_history_but_only_counsel_reads_staff_history() -> None:
    assert grants(COUNSEL, AREA_APP, "view_historicalcustomer")
    assert grants(ANALYST, AREA_APP, "view_historicalcustomer")
    assert grants(VIEWER, AREA_APP, "view_historicalcustomer")
    for codename in ("view_historicaluser", "view_historicaluser_groups"):
        assert grants(COUNSEL, "harmonyze_portal", codename)
        assert not grants(ANALYST, "harmonyze_portal", codename)
        assert not grants(VIEWER, "harmonyze_portal", codename)


@pytest.mark.parametrize(
    ("app_label", "codename", "expected"),
    [
        ("auth", "add_user", True),
        ("auth", "change_user", True),
        ("auth", "view_user", True),
        ("auth", "delete_user", False),
        ("auth", "view_group", True),
        ("auth", "add_group", False),
        ("auth", "change_group", False),
        ("auth", "view_permission", False),
        ("axes", "view_accessattempt", True),
        ("axes", "delete_accessattempt", True),
        ("axes", "change_accessattempt", False),
        ("otp_totp", "view_totpdevice", True),
        ("otp_totp", "delete_totpdevice", True),
        ("otp_totp", "add_totpdevice", False),
        ("otp_static", "delete_staticdevice", True),
        ("django_tasks_database", "view_dbtaskresult", True),
        ("django_tasks_database", "delete_dbtaskresult", False),
        ("admin", "view_logentry", True),
        ("admin", "delete_logentry", False),
        ("sessions", "view_session", False),
    ],
)
def test_counsel_outside_the_portal_apps(app_label: str, codename: str, expected: bool) -> None:
    assert grants(COUNSEL, app_label, codename) is expected


@pytest.mark.parametrize("app_label", sorted(portal_apps() - {"harmonyze_portal"}))
def test_analyst_works_in_the_areas_but_never_deletes(app_label: str) -> None:
    assert grants(ANALYST, app_label, "add_notice")
    assert grants(ANALYST, app_label, "change_notice")
    assert grants(ANALYST, app_label, "view_notice")
    assert grants(ANALYST, app_label, "export_notice")
    assert not grants(ANALYST, app_label, "delete_notice")


def test_analyst_only_views_the_shared_portal_settings() -> None:
    assert grants(ANALYST, "harmonyze_portal", "view_publicholiday")
    assert not grants(ANALYST, "harmonyze_portal", "add_publicholiday")
    assert not grants(ANALYST, "harmonyze_portal", "change_publicholiday")
    assert not grants(ANALYST, "harmonyze_portal", "delete_publicholiday")


@pytest.mark.parametrize("role", [ANALYST, VIEWER])
@pytest.mark.parametrize(
    ("app_label", "codename"),
    [
        ("auth", "view_user"),
        ("auth", "add_user"),
        ("auth", "change_user"),
        ("auth", "view_group"),
        ("axes", "view_accessattempt"),
        ("otp_totp", "view_totpdevice"),
        ("django_tasks_database", "view_dbtaskresult"),
        ("admin", "view_logentry"),
    ],
)
def test_analyst_and_viewer_hold_nothing_outside_the_portal_apps(
    role: str, app_label: str, codename: str
) -> None:
    assert not grants(role, app_label, codename)


@pytest.mark.parametrize("app_label", sorted(portal_apps()))
def test_viewer_only_views_and_exports(app_label: str) -> None:
    assert grants(VIEWER, app_label, "view_thing")
    assert grants(VIEWER, app_label, "export_thing")
    assert not grants(VIEWER, app_label, "add_thing")
    assert not grants(VIEWER, app_label, "change_thing")
    assert not grants(VIEWER, app_label, "delete_thing")
    assert not grants(VIEWER, app_label, "send_thing")


@pytest.mark.parametrize(
    ("app_label", "codename"),
    [
        (AREA_APP, "view_customer"),
        ("harmonyze_portal", "view_publicholiday"),
        # Outside the portal apps and on history, too: a misspelt role must fail loudly
        # wherever it is asked about, not quietly hold nothing.
        ("auth", "view_user"),
        (AREA_APP, "change_historicalcustomer"),
    ],
)
def test_an_unknown_role_raises(app_label: str, codename: str) -> None:
    with pytest.raises(ValueError, match="unknown role 'Privacy counsle'"):
        grants("Privacy counsle", app_label, codename)


# --- What each role may open in the admin, signed in through both factors.

ALL = {"counsel": 200, "analyst": 200, "viewer": 200, "outsider": 200}
COUNSEL_ONLY = {"counsel": 200, "analyst": 403, "viewer": 403, "outsider": 403}
NOBODY = {"counsel": 403, "analyst": 403, "viewer": 403, "outsider": 403}
READERS = {"counsel": 200, "analyst": 200, "viewer": 200, "outsider": 403}

ADMIN_MATRIX = {
    "/admin/": ALL,
    "/admin/auth/user/": COUNSEL_ONLY,
    "/admin/auth/user/add/": COUNSEL_ONLY,
    "/admin/auth/user/{counsel}/change/": COUNSEL_ONLY,
    "/admin/auth/user/{viewer}/change/": COUNSEL_ONLY,
    "/admin/auth/user/{viewer}/history/": COUNSEL_ONLY,
    # Staff accounts are deactivated, never deleted: counsel included.
    "/admin/auth/user/{viewer}/delete/": NOBODY,
    "/admin/auth/user/{counsel}/delete/": NOBODY,
    "/admin/auth/group/": COUNSEL_ONLY,
    "/admin/auth/group/add/": NOBODY,
    "/admin/harmonyze_portal/publicholiday/": READERS,
    "/admin/harmonyze_portal/publicholiday/add/": COUNSEL_ONLY,
    # A view-only change page is the read-only form.
    "/admin/harmonyze_portal/publicholiday/{holiday}/change/": READERS,
    "/admin/harmonyze_portal/publicholiday/{holiday}/history/": READERS,
    "/admin/harmonyze_portal/publicholiday/{holiday}/delete/": COUNSEL_ONLY,
    "/admin/axes/accessattempt/": COUNSEL_ONLY,
    "/admin/axes/accesslog/": COUNSEL_ONLY,
    "/admin/axes/accessfailurelog/": COUNSEL_ONLY,
    "/admin/otp_totp/totpdevice/": COUNSEL_ONLY,
    "/admin/otp_totp/totpdevice/add/": NOBODY,
    "/admin/otp_static/staticdevice/": COUNSEL_ONLY,
    "/admin/django_tasks_database/dbtaskresult/": COUNSEL_ONLY,
}


@pytest.mark.parametrize("person", ["counsel", "analyst", "viewer", "outsider"])
@pytest.mark.parametrize("url", list(ADMIN_MATRIX))
def test_admin_page_by_role(
    everyone: dict[str, Any],
    signed_in: Callable[[Any], Client],
    person: str,
    url: str,
) -> None:
    holiday = PublicHoliday.objects.create(date=date(2026, 12, 25), name="Christmas Day")
    client = signed_in(everyone[person])
    path = url.format(
        counsel=everyone["counsel"].pk, viewer=everyone["viewer"].pk, holiday=holiday.pk
    )

    response = client.get(path)

    assert response.status_code == ADMIN_MATRIX[url][person], (person, path)


@pytest.mark.django_db
def test_admin_index_lists_only_what_the_role_may_open(
    counsel: Any, viewer: Any, outsider: Any, signed_in: Callable[[Any], Client]
) -> None:
    counsel_index = signed_in(counsel).get("/admin/").content.decode()
    assert 'href="/admin/auth/user/"' in counsel_index
    assert 'href="/admin/harmonyze_portal/publicholiday/"' in counsel_index
    assert 'href="/admin/harmonyze_portal/publicholiday/add/"' in counsel_index

    viewer_index = signed_in(viewer).get("/admin/").content.decode()
    assert 'href="/admin/harmonyze_portal/publicholiday/"' in viewer_index
    assert 'href="/admin/harmonyze_portal/publicholiday/add/"' not in viewer_index
    assert 'href="/admin/auth/user/"' not in viewer_index

    outsider_index = signed_in(outsider).get("/admin/").content.decode()
    assert "/admin/harmonyze_portal/" not in outsider_index
    assert "/admin/auth/" not in outsider_index
    assert "permission to view or edit anything" in outsider_index


@pytest.mark.django_db
def test_counsel_cannot_delete_a_user_through_the_admin_post(
    counsel: Any, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(counsel)

    page = client.post(f"/admin/auth/user/{viewer.pk}/delete/", {"post": "yes"})
    action = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [viewer.pk]},
        follow=True,
    )

    assert page.status_code == 403
    # The bulk delete action is not offered, so the admin refuses to run it.
    assert action.redirect_chain == [("/admin/auth/user/", 302)]
    assert b"No action selected." in action.content
    assert get_user_model().objects.filter(pk=viewer.pk, is_active=True).exists()


# --- Staff accounts are deactivated, never deleted.


@pytest.mark.django_db
def test_deleting_a_user_through_the_orm_is_refused(viewer: Any) -> None:
    # Each attempt in its own savepoint: Django deletes without one, so a refusal would
    # otherwise spoil the test's transaction.
    with pytest.raises(StaffDeletionRefused, match="deactivate it instead"), transaction.atomic():
        viewer.delete()
    with pytest.raises(StaffDeletionRefused), transaction.atomic():
        get_user_model().objects.filter(pk=viewer.pk).delete()

    assert get_user_model().objects.filter(pk=viewer.pk).exists()


@pytest.mark.django_db
def test_the_deactivate_action_deactivates_and_records_who_and_why(
    counsel: Any, analyst: Any, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    client = signed_in(counsel)

    response = client.post(
        "/admin/auth/user/", {"action": "deactivate", "_selected_action": [viewer.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/auth/user/"
    viewer.refresh_from_db()
    analyst.refresh_from_db()
    assert viewer.is_active is False
    assert analyst.is_active is True
    latest = viewer.history.latest("history_date")
    assert latest.is_active is False
    assert latest.history_type == "~"
    assert latest.history_change_reason == "Deactivated by counsel"
    assert latest.history_actor == "staff: counsel"
    assert latest.history_user == counsel
    messages = client.get("/admin/auth/user/").content.decode()
    assert "Deactivated 1 staff account." in messages


@pytest.mark.django_db
def test_a_deactivated_user_can_no_longer_sign_in(
    counsel: Any, viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    signed_in(counsel).post(
        "/admin/auth/user/", {"action": "deactivate", "_selected_action": [viewer.pk]}
    )

    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "viewer", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert b"Please enter the correct username and password" in response.content


# --- The areas declare what is counsel's alone (issue 12): the same permissions as before.

# What roles.COUNSEL_ONLY named when the core listed the areas' permissions itself.
RESERVED_BEFORE_THE_DECLARATIONS = frozenset(
    {
        "view_historicaluser",
        "view_historicaluser_groups",
        *(
            f"{action}_{model}"
            for action in ("add", "change", "delete", "view")
            for model in (
                # Staff-only tables of the core (issue 13): calendar feeds hold token hashes.
                "calendarfeed",
                "historicalcalendarfeed",
                "staffpreference",
                "historicalstaffpreference",
                "digestsent",
                "historicaldigestsent",
                "lawenforcementdemand",
                "historicallawenforcementdemand",
                "demandview",
                "historicaldemandview",
                "demandcustomer",
                "historicaldemandcustomer",
                "demandstep",
                "historicaldemandstep",
            )
        ),
        "view_demand_history",
        "export_demands",
        "waive_delivery",
        # Added since, by its area's declaration (issue 14, S7): counsel acknowledges a change
        # that names processing outside the United States.
        "acknowledge_transfer",
        "add_regime",
        "change_regime",
        "delete_regime",
    }
)


def grants_before_the_declarations(role: str, app_label: str, codename: str) -> bool:
    """grants() for analyst and viewer in the portal apps, as it read with COUNSEL_ONLY."""
    action, _, model = codename.partition("_")
    if (model.startswith("historical") and action != "view") or (
        codename in RESERVED_BEFORE_THE_DECLARATIONS
    ):
        return False
    if (app_label, codename) == ("harmonyze_portal", "add_evidencepack"):
        return role == ANALYST  # issue 17: analysts build evidence packs (not with R6 demands)
    if role == ANALYST:
        return action == "view" if app_label == "harmonyze_portal" else action != "delete"
    return action in {"view", "export"}


@pytest.mark.parametrize(
    ("role", "codename", "granted"),
    [
        (COUNSEL, "add_evidencepack", True),
        (ANALYST, "add_evidencepack", True),
        (VIEWER, "add_evidencepack", False),
        (VIEWER, "view_evidencepack", True),
        (COUNSEL, "change_evidencepack", False),
        (COUNSEL, "delete_evidencepack", False),
        (ANALYST, "change_evidencepack", False),
    ],
)
def test_evidence_packs_are_built_by_counsel_and_analysts_and_never_edited(
    role: str, codename: str, granted: bool
) -> None:
    """Issue 17: a built pack is evidence handed to an auditor; R6 is the model's own check."""
    assert grants(role, "harmonyze_portal", codename) is granted


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ANALYST, VIEWER])
def test_the_declarations_reserve_exactly_what_the_core_reserved_before(role: str) -> None:
    portal = Permission.objects.filter(content_type__app_label__in=portal_apps())
    changed = [
        f"{perm.content_type.app_label}.{perm.codename}"
        for perm in portal.select_related("content_type")
        if grants(role, perm.content_type.app_label, perm.codename)
        is not grants_before_the_declarations(role, perm.content_type.app_label, perm.codename)
    ]
    assert portal.count() > 100
    assert changed == []


@pytest.mark.django_db
def test_every_declared_counsel_only_permission_exists() -> None:
    """A misspelt codename in an AppConfig would reserve nothing, silently."""
    existing = {
        (perm.content_type.app_label, perm.codename)
        for perm in Permission.objects.select_related("content_type")
    }
    assert counsel_only_permissions() <= existing
    assert counsel_only_permissions()
