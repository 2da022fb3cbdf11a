"""Every change to every record is kept, with who and why (DOMAIN.md H1, H2)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from simple_history.signals import pre_create_historical_record

from harmonyze_portal.history import (
    PUBLIC_FORM,
    SYSTEM_ACTOR,
    HistoryBypassError,
    acting_as,
    bulk_create_with_history,
    bulk_update_with_history,
    untracked_models,
)
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.roles import COUNSEL

TRACKED_APPS = ["harmonyze_portal", "customers", "subprocessors", "requests", "audits"]


def make_holiday(day: date = date(2026, 12, 25), name: str = "Christmas Day") -> PublicHoliday:
    return PublicHoliday.objects.create(date=day, name=name)


def test_every_model_of_the_portal_apps_is_history_tracked_and_guarded() -> None:
    """Rule H1: a model added without HistoricalRecords or TrackedModel fails here."""
    assert untracked_models(TRACKED_APPS) == []


def test_the_walk_reports_untracked_models() -> None:
    # auth's Permission and Group have no history: the walker must say so, or it proves nothing.
    problems = untracked_models(["auth"])
    assert "auth.Permission: no HistoricalRecords" in problems
    assert "auth.Group: no HistoricalRecords" in problems


def test_the_walk_reports_a_tracked_model_with_an_unguarded_manager() -> None:
    # auth.User has history (registered by the portal) but Django's UserManager.
    assert untracked_models(["auth"]).count("auth.User: default manager is not a TrackedQuerySet")


@pytest.mark.django_db
def test_queryset_update_is_refused_and_writes_nothing() -> None:
    holiday = make_holiday()
    with pytest.raises(HistoryBypassError, match="without recording history"):
        PublicHoliday.objects.filter(pk=holiday.pk).update(name="Renamed")
    with pytest.raises(HistoryBypassError):
        PublicHoliday.objects.update(name="Renamed")
    holiday.refresh_from_db()
    assert holiday.name == "Christmas Day"


@pytest.mark.django_db
def test_bulk_create_and_bulk_update_are_refused_and_write_nothing() -> None:
    with pytest.raises(HistoryBypassError, match="bulk_create_with_history"):
        PublicHoliday.objects.bulk_create([PublicHoliday(date=date(2026, 1, 1), name="New Year")])
    assert not PublicHoliday.objects.exists()

    holiday = make_holiday()
    holiday.name = "Renamed"
    with pytest.raises(HistoryBypassError, match="bulk_update_with_history"):
        PublicHoliday.objects.bulk_update([holiday], ["name"])
    holiday.refresh_from_db()
    assert holiday.name == "Christmas Day"


@pytest.mark.django_db
def test_bulk_helpers_write_rows_and_history_with_the_actor() -> None:
    with acting_as("task: load holidays", reason="Yearly holiday import"):
        created = bulk_create_with_history(
            [
                PublicHoliday(date=date(2027, 1, 1), name="New Year's Day"),
                PublicHoliday(date=date(2027, 12, 24), name="Christmas (observed)"),
            ],
            PublicHoliday,
        )
    assert len(created) == 2
    records = PublicHoliday.history.order_by("date")
    assert [(r.history_type, r.history_actor, r.history_change_reason) for r in records] == [
        ("+", "task: load holidays", "Yearly holiday import"),
        ("+", "task: load holidays", "Yearly holiday import"),
    ]

    for holiday in created:
        holiday.name = holiday.name.upper()
    assert bulk_update_with_history(created, PublicHoliday, ["name"], reason="Capitals") == 2
    updates = PublicHoliday.history.filter(history_type="~")
    assert updates.count() == 2
    assert {r.history_change_reason for r in updates} == {"Capitals"}
    assert {r.history_actor for r in updates} == {SYSTEM_ACTOR}
    # The guard is back on once the helper returns.
    with pytest.raises(HistoryBypassError):
        PublicHoliday.objects.bulk_create([PublicHoliday(date=date(2027, 5, 1), name="x")])


@pytest.mark.django_db
def test_public_form_and_task_writes_name_their_actor() -> None:
    with acting_as(PUBLIC_FORM, reason="Notice Form signup"):
        holiday = make_holiday()
    with acting_as("task: send notices"):
        holiday.name = "Christmas"
        holiday.save()
    holiday.name = "Xmas"
    holiday.save()  # outside any block: a shell or migration

    actors = list(
        holiday.history.order_by("history_id").values_list(
            "history_actor", "history_change_reason", "history_user"
        )
    )
    assert actors == [
        ("public form", "Notice Form signup", None),
        ("task: send notices", None, None),
        ("system", None, None),
    ]


@pytest.mark.django_db
def test_nested_actors_restore_the_outer_one() -> None:
    with acting_as("task: outer"):
        with acting_as("task: inner"):
            inner = make_holiday(date(2026, 1, 1), "a")
        outer = make_holiday(date(2026, 1, 2), "b")
    assert inner.history.get().history_actor == "task: inner"
    assert outer.history.get().history_actor == "task: outer"


@pytest.mark.django_db
def test_deleting_a_record_keeps_its_history() -> None:
    holiday = make_holiday()
    pk = holiday.pk
    holiday.delete()
    assert not PublicHoliday.objects.filter(pk=pk).exists()
    assert list(
        PublicHoliday.history.filter(id=pk)
        .order_by("history_id")
        .values_list("history_type", flat=True)
    ) == ["+", "-"]


@pytest.mark.django_db
def test_staff_change_in_the_admin_records_user_actor_and_reason(counsel, signed_in) -> None:
    holiday = make_holiday()
    client = signed_in(counsel)
    response = client.post(
        f"/admin/harmonyze_portal/publicholiday/{holiday.pk}/change/",
        {"date": "2026-12-25", "name": "Christmas Day (observed)", "change_reason": "OPM list"},
    )
    assert response.status_code == 302, response.content
    latest = holiday.history.latest()
    assert latest.history_user == counsel
    assert latest.history_actor == "staff: counsel"
    assert latest.history_change_reason == "OPM list"
    assert latest.diff_against(latest.prev_record).changed_fields == ["name"]


@pytest.mark.django_db
def test_staff_accounts_have_history_without_password_hashes(counsel) -> None:
    counsel.groups.remove(Group.objects.get(name=COUNSEL))
    counsel.set_password("another long passphrase 99")
    counsel.save()
    fields = {f.name for f in counsel.history.model._meta.get_fields()}
    assert "password" not in fields
    assert "last_login" not in fields
    assert counsel.history.count() >= 2


@pytest.mark.django_db
def test_history_admin_page_shows_the_reason(counsel, signed_in) -> None:
    holiday = make_holiday()
    holiday._change_reason = "Added from the OPM calendar"
    holiday.name = "Christmas"
    holiday.save()
    response = signed_in(counsel).get(
        f"/admin/harmonyze_portal/publicholiday/{holiday.pk}/history/"
    )
    assert response.status_code == 200
    assert "Added from the OPM calendar" in response.content.decode()


# --- What history adds to a save (issue 16, P6) -------------------------------------------------


def test_the_history_manager_class_is_built_once_per_model() -> None:
    # simple-history 3.13 built a new class (an inspect.getmembers scan) on every access, that
    # is on every save; the portal's descriptor builds it once.
    assert type(PublicHoliday.history) is type(PublicHoliday.history)
    user_model = get_user_model()
    assert type(user_model.history) is type(user_model.history)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_cached_manager_still_reads_one_records_history() -> None:
    holiday = make_holiday()
    other = make_holiday(date(2026, 1, 1), "New Year's Day")
    holiday.name = "Christmas"
    holiday.save()
    assert [row.name for row in holiday.history.all()] == ["Christmas", "Christmas Day"]
    assert other.history.get().name == "New Year's Day"
    assert PublicHoliday.history.count() == 3
    assert holiday.history.most_recent().name == "Christmas"


@pytest.mark.django_db
def test_a_tracked_save_is_two_queries_in_a_transaction(acme, django_assert_num_queries) -> None:
    acme.legal_name = "Acme Corporation"
    with acting_as("task: test", reason="Renamed"), django_assert_num_queries(2):
        acme.save()  # the UPDATE and the history INSERT; no savepoint, no lookup


@pytest.mark.django_db(transaction=True)
def test_a_save_outside_a_transaction_commits_its_change_with_its_history_or_neither() -> None:
    """H1: a change whose history row cannot be written is not kept. Outside a transaction
    simple-history wrote the row after the record's UPDATE had committed on its own."""
    holiday = make_holiday()

    def refuse(**kwargs: object) -> None:
        raise RuntimeError("history table unavailable")

    pre_create_historical_record.connect(refuse, dispatch_uid="test-refuse")
    try:
        holiday.name = "Renamed without history"
        with pytest.raises(RuntimeError, match="history table unavailable"):
            holiday.save()
    finally:
        pre_create_historical_record.disconnect(dispatch_uid="test-refuse")
    holiday.refresh_from_db()
    assert holiday.name == "Christmas Day"
    assert holiday.history.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_save_outside_a_transaction_keeps_actor_name_and_reason() -> None:
    holiday = make_holiday()
    holiday.name = "Christmas"
    holiday._change_reason = "Official name"  # type: ignore[attr-defined]
    with acting_as("task: rename"):
        holiday.save()
    row = holiday.history.first()
    assert (row.history_actor, row.history_record, row.history_change_reason) == (
        "task: rename",
        str(holiday),
        "Official name",
    )
