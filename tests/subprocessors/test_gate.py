"""S3, the 15-day gate, tried on every write path as each role: a sub-processor becomes active,
or gets an access date, only through a published change whose earliest access date has come."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.test import Client

from harmonyze_portal.clock import legal_today
from subprocessors.models import (
    Change,
    ChangeStatus,
    Delivery,
    DeliveryStatus,
    SubProcessor,
    SubProcessorStatus,
)
from subprocessors.services import change_publish
from tests.subprocessors.builders import (
    NO_LOCATIONS,
    make_change,
    make_delivery,
    make_signup,
    make_subprocessor,
)

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Notice date 2 March: earliest 17 March


@pytest.fixture
def staff(counsel: Any, analyst: Any, viewer: Any) -> dict[str, Any]:
    return {"counsel": counsel, "analyst": analyst, "viewer": viewer}


def form(name: str, *, status: str, access_on: str = "") -> dict[str, str]:
    return {
        "name": name,
        "purpose": "Payments",
        "locations": "United States",
        "data_categories": "Card numbers",
        "website": "",
        "status": status,
        "access_began_on": access_on,
        "retired_on": "",
        "change_reason": "Trying the gate",
        **NO_LOCATIONS,
    }


def announced(name: str = "Stripe", *, published_at: datetime | None = None) -> SubProcessor:
    """An announced sub-processor; with ``published_at``, its change is published then (no
    signups: the Notice date is that day)."""
    subprocessor = make_subprocessor(name, status=SubProcessorStatus.ANNOUNCED)
    if published_at is not None:
        change = make_change(subprocessor)
        with time_machine.travel(published_at, tick=False):
            change_publish(change=change)
        subprocessor.refresh_from_db()
    return subprocessor


def is_listed_current(client: Client, name: str) -> bool:
    page = client.get("/sub-processors/").content.decode()
    return name in page.split('id="current"')[1]


@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_s3_the_admin_edit_cannot_activate_without_a_published_change(
    staff: dict[str, Any], signed_in: Callable[[Any], Client], client: Client, person: str
) -> None:
    """The reported break: announced, then edited to active with access from today."""
    stripe = announced()
    today = legal_today().isoformat()

    response = signed_in(staff[person]).post(
        f"/admin/subprocessors/subprocessor/{stripe.pk}/change/",
        form("Stripe", status="active", access_on=today),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "publish its change" in errors["access_began_on"][0]
    stripe.refresh_from_db()
    assert (stripe.status, stripe.access_began_on) == ("announced", None)
    assert not is_listed_current(client, "Stripe")
    assert not SubProcessor.objects.current().exists()


@pytest.mark.parametrize("person", ["counsel", "analyst"])
@pytest.mark.parametrize("access_on", ["", "2026-03-20"], ids=["no-date", "with-date"])
def test_rule_s3_adding_a_subprocessor_as_active_is_a_form_error_not_a_500(
    staff: dict[str, Any], signed_in: Callable[[Any], Client], person: str, access_on: str
) -> None:
    response = signed_in(staff[person]).post(
        "/admin/subprocessors/subprocessor/add/",
        form("Stripe", status="active", access_on=access_on),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "publish its change" in " ".join(
        errors.get("status", []) + errors.get("access_began_on", [])
    )
    assert not SubProcessor.objects.exists()


def test_rule_s3_adding_an_announced_subprocessor_with_an_access_date_is_refused(
    analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(analyst).post(
        "/admin/subprocessors/subprocessor/add/",
        form("Stripe", status="announced", access_on="2026-03-20"),
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["access_began_on"]
    assert not SubProcessor.objects.exists()


def test_adding_an_announced_subprocessor_still_works(
    analyst: Any, signed_in: Callable[[Any], Client]
) -> None:
    response = signed_in(analyst).post(
        "/admin/subprocessors/subprocessor/add/", form("Stripe", status="announced")
    )

    assert response.status_code == 302
    assert SubProcessor.objects.get().status == SubProcessorStatus.ANNOUNCED


def test_rule_s3_the_viewer_cannot_edit_at_all(
    viewer: Any, signed_in: Callable[[Any], Client]
) -> None:
    stripe = announced()

    response = signed_in(viewer).post(
        f"/admin/subprocessors/subprocessor/{stripe.pk}/change/",
        form("Stripe", status="active", access_on="2026-03-20"),
    )

    assert response.status_code == 403
    stripe.refresh_from_db()
    assert stripe.status == SubProcessorStatus.ANNOUNCED


@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_s3_the_admin_edit_waits_for_the_earliest_access_date_to_arrive(
    staff: dict[str, Any], signed_in: Callable[[Any], Client], person: str
) -> None:
    """Published today: the earliest access date is 15 days away, even if typed as the access
    date."""
    stripe = announced(published_at=datetime.now(UTC))
    earliest = stripe.earliest_access_on
    assert earliest == legal_today() + timedelta(days=15)

    response = signed_in(staff[person]).post(
        f"/admin/subprocessors/subprocessor/{stripe.pk}/change/",
        form("Stripe", status="active", access_on=earliest.isoformat()),
    )

    assert response.status_code == 200
    assert (
        f"earliest access date is {earliest}"
        in (response.context["adminform"].form.errors["access_began_on"][0])
    )
    stripe.refresh_from_db()
    assert stripe.status == SubProcessorStatus.ANNOUNCED


def test_rule_s3_the_admin_edit_is_refused_while_the_notice_is_held(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    """A delivery still waiting: no Notice date, so no earliest access date to reach."""
    make_signup("dpo@acme.com", status="active")
    stripe = make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED)
    change = make_change(stripe)
    with time_machine.travel(PUBLISHED, tick=False):
        change_publish(change=change)  # the task never runs: the delivery stays queued
    assert Delivery.objects.get().status == "queued"

    response = signed_in(counsel).post(
        f"/admin/subprocessors/subprocessor/{stripe.pk}/change/",
        form("Stripe", status="active", access_on="2026-04-01"),
    )

    assert response.status_code == 200
    stripe.refresh_from_db()
    assert stripe.status == SubProcessorStatus.ANNOUNCED


def test_rule_s3_the_gate_open_the_admin_edit_records_access(
    analyst: Any, signed_in: Callable[[Any], Client], client: Client
) -> None:
    stripe = announced(published_at=PUBLISHED)

    response = signed_in(analyst).post(
        f"/admin/subprocessors/subprocessor/{stripe.pk}/change/",
        form("Stripe", status="active", access_on="2026-03-17"),
    )

    assert response.status_code == 302
    stripe.refresh_from_db()
    assert (stripe.status, stripe.earliest_access_on) == ("active", date(2026, 3, 17))
    assert is_listed_current(client, "Stripe")


def test_rule_s3_save_from_the_shell_refuses_and_so_does_the_database() -> None:
    stripe = announced()
    stripe.status = SubProcessorStatus.ACTIVE
    stripe.access_began_on = legal_today()

    with pytest.raises(ValidationError, match="publish its change"):
        stripe.save()
    # A typed earliest access date is not trusted: save() takes it from the changes.
    stripe.earliest_access_on = date(2020, 1, 1)
    with pytest.raises(ValidationError):
        stripe.save()
    # Past save() (a raw write), the database refuses an access date without a gate.
    stripe.earliest_access_on = None
    with pytest.raises(IntegrityError), transaction.atomic():
        Model.save(stripe)
    stripe.refresh_from_db()
    assert stripe.status == SubProcessorStatus.ANNOUNCED


def test_rule_s3_a_draft_change_opens_nothing() -> None:
    stripe = announced()
    make_change(stripe)
    stripe.status = SubProcessorStatus.ACTIVE
    stripe.access_began_on = legal_today()

    with pytest.raises(ValidationError):
        stripe.save()


def test_rule_s3_the_earliest_access_date_on_a_change_follows_its_notice_date() -> None:
    stripe = announced(published_at=PUBLISHED)
    change = Change.objects.get()
    change.earliest_access_on = date(2026, 3, 3)  # typed in the shell: not trusted
    change.save()

    change.refresh_from_db()
    assert change.earliest_access_on == date(2026, 3, 17)
    stripe.save()
    assert stripe.earliest_access_on == date(2026, 3, 17)


def test_rule_s3_only_a_published_change_has_a_notice_date() -> None:
    change = make_change(announced())
    change.notice_date = date(2026, 3, 2)

    with pytest.raises(IntegrityError), transaction.atomic():
        change.save()


def test_rule_s3_publishing_a_change_for_an_active_subprocessor_is_refused() -> None:
    postmark = make_subprocessor("Postmark")
    change = make_change(postmark, summary="Again")

    with pytest.raises(ValidationError, match="already active"):
        change_publish(change=change)

    change.refresh_from_db()
    assert change.status == ChangeStatus.DRAFT


def test_rule_s3_a_retired_subprocessor_is_announced_again_without_its_old_access_date() -> None:
    oldmail = make_subprocessor("OldMail")
    oldmail.status = SubProcessorStatus.RETIRED
    oldmail.save()
    change = make_change(oldmail, summary="OldMail returns")

    with pytest.raises(ValidationError, match="has an access date"):
        change_publish(change=change)

    oldmail.status = SubProcessorStatus.ANNOUNCED
    oldmail.access_began_on = None
    oldmail.save()
    change_publish(change=change)
    oldmail.refresh_from_db()
    # The new Notice's gate, not the old one, now governs its access.
    assert oldmail.earliest_access_on == legal_today() + timedelta(days=15)


# --- S3: a withdrawn sub-processor comes back only as a new addition ---------------------------

WITHDRAWN = datetime(2026, 6, 1, 15, tzinfo=UTC)


def withdrawn(name: str = "Postmark") -> SubProcessor:
    """Active since 1 March 2024 through its change, withdrawn on 1 January 2025."""
    subprocessor = make_subprocessor(name, access_began_on=date(2024, 3, 1))
    subprocessor.status = SubProcessorStatus.RETIRED
    subprocessor.retired_on = date(2025, 1, 1)
    subprocessor.save()
    return subprocessor


@time_machine.travel(WITHDRAWN, tick=False)
def test_rule_s3_a_withdrawn_subprocessor_is_not_reactivated_without_a_new_change() -> None:
    """A sub-processor that was withdrawn (retired) is an intended *addition* again when it
    comes back: it needs a new published Change and 15 days. The shell (and the admin form,
    which runs the same clean()) set it active again with its old access date, no Notice."""
    sp = withdrawn()

    sp.status = SubProcessorStatus.ACTIVE
    sp.retired_on = None
    with pytest.raises(ValidationError, match="withdrawn on 2025-01-01"):
        sp.save()
    sp.refresh_from_db()
    assert sp.status == SubProcessorStatus.RETIRED


@time_machine.travel(WITHDRAWN, tick=False)
def test_rule_s3_a_withdrawn_subprocessor_is_not_reactivated_in_two_steps() -> None:
    """Announced first (harmless: no access), then active with the old access date: the old
    change still does not count, and the stored earliest access date is gone."""
    sp = withdrawn()
    sp.status = SubProcessorStatus.ANNOUNCED
    sp.access_began_on = None
    sp.retired_on = None
    sp.save()
    assert sp.earliest_access_on is None

    sp.status = SubProcessorStatus.ACTIVE
    sp.access_began_on = date(2024, 3, 1)
    with pytest.raises(ValidationError, match="new addition"):
        sp.save()
    sp.access_began_on = date(2026, 6, 1)
    with pytest.raises(ValidationError, match="new addition"):
        sp.save()


@pytest.mark.parametrize("person", ["counsel", "analyst"])
def test_rule_s3_the_admin_edit_does_not_reactivate_a_withdrawn_subprocessor(
    staff: dict[str, Any], signed_in: Callable[[Any], Client], client: Client, person: str
) -> None:
    with time_machine.travel(WITHDRAWN, tick=False):
        sp = withdrawn()
    response = signed_in(staff[person]).post(
        f"/admin/subprocessors/subprocessor/{sp.pk}/change/",
        form("Postmark", status="active", access_on="2024-03-01"),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "new addition" in errors["access_began_on"][0]
    sp.refresh_from_db()
    assert sp.status == SubProcessorStatus.RETIRED
    assert not is_listed_current(client, "Postmark")


def test_rule_s3_a_withdrawn_subprocessor_cannot_be_announced_while_still_retired() -> None:
    """S1: a published change for a withdrawn sub-processor would be on neither list."""
    sp = withdrawn()
    sp.access_began_on = None
    sp.save()
    change = make_change(sp, summary="Postmark returns")

    with pytest.raises(ValidationError, match="withdrawn"):
        change_publish(change=change)
    change.refresh_from_db()
    assert change.status == ChangeStatus.DRAFT


def test_rule_s3_a_withdrawn_subprocessor_returns_through_a_new_change_after_15_days() -> None:
    with time_machine.travel(WITHDRAWN, tick=False):
        sp = withdrawn()
    with time_machine.travel(datetime(2026, 6, 2, 15, tzinfo=UTC), tick=False):
        sp.status = SubProcessorStatus.ANNOUNCED
        sp.access_began_on = None
        sp.retired_on = None
        sp.save()
    returns = datetime(2026, 6, 3, 15, tzinfo=UTC)
    with time_machine.travel(returns, tick=False):
        change_publish(change=make_change(sp, summary="Postmark returns"))
    sp.refresh_from_db()
    assert sp.earliest_access_on == date(2026, 6, 18)

    with time_machine.travel(datetime(2026, 6, 17, 15, tzinfo=UTC), tick=False):
        sp.status = SubProcessorStatus.ACTIVE
        sp.access_began_on = date(2026, 6, 17)
        with pytest.raises(ValidationError, match="earliest access date is 2026-06-18"):
            sp.save()
    with time_machine.travel(datetime(2026, 6, 18, 15, tzinfo=UTC), tick=False):
        sp.access_began_on = date(2026, 6, 18)
        sp.save()
    sp.refresh_from_db()
    assert (sp.status, sp.access_began_on) == ("active", date(2026, 6, 18))


def test_rule_s3_a_withdrawn_subprocessor_keeps_its_record_while_retired() -> None:
    """Its old change still stands behind the access it had: editing it while retired works."""
    sp = withdrawn()
    sp.purpose = "Transactional email (until 2025)"
    sp.save()
    sp.refresh_from_db()
    assert (sp.access_began_on, sp.earliest_access_on) == (date(2024, 3, 1), date(2024, 3, 1))


# --- S3: the Notice date comes from the deliveries, never typed -------------------------------

MAY_1 = datetime(2026, 5, 1, 15, tzinfo=UTC)


def failed_delivery(change: Change, email: str = "dpo@acme.com") -> Delivery:
    delivery = Delivery(
        change=change,
        signup=make_signup(email, status="active"),
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="550",
    )
    delivery.save()
    return delivery


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_the_model_does_not_take_a_notice_date_while_a_failed_delivery_holds_the_gate() -> (
    None
):
    """S3 "in the model/database, not only the form": a delivery failed for good without
    counsel's waiver holds the gate, so no Notice date. From the shell, Change.save() took a
    typed Notice date anyway, and the sub-processor could then become active."""
    sp = make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED)
    change = make_change(sp, published_at=MAY_1)
    failed_delivery(change)
    assert Change.objects.gate_held().filter(pk=change.pk).exists()

    change.notice_date = date(2026, 5, 1)  # typed: the earliest access date would follow
    with pytest.raises(ValidationError, match="a delivery still holds the gate"):
        change.save()

    change.refresh_from_db()
    assert (change.notice_date, change.earliest_access_on) == (None, None)
    sp.status = SubProcessorStatus.ACTIVE
    sp.access_began_on = date(2026, 5, 16)
    with pytest.raises(ValidationError):
        sp.save()


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_a_typed_notice_date_other_than_the_last_delivery_is_refused() -> None:
    """Nothing holds the gate: the Notice date is the last successful delivery's legal date
    (4 May), not an earlier day typed in the shell; the date the deliveries give is taken."""
    change = make_change(
        make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED), published_at=MAY_1
    )
    make_delivery(
        change, make_signup("dpo@acme.com", status="active"), sent_at=MAY_1 + timedelta(days=3)
    )

    change.notice_date = date(2026, 5, 1)
    with pytest.raises(ValidationError, match="2026-05-04 from the deliveries"):
        change.save()
    change.notice_date = date(2026, 5, 4)
    change.save()
    change.refresh_from_db()
    assert change.earliest_access_on == date(2026, 5, 19)


def test_rule_s3_the_notice_date_that_admitted_access_no_longer_moves() -> None:
    """Postmark's access began on its change's earliest access date: that Notice date stays,
    even if typed to what the deliveries would give today."""
    make_subprocessor("Postmark", access_began_on=date(2024, 3, 1))
    change = Change.objects.get()
    admitted = change.notice_date

    change.notice_date = date(2024, 2, 1)
    with pytest.raises(ValidationError, match="admitted the sub-processor's access"):
        change.save()
    change.refresh_from_db()
    assert change.notice_date == admitted


# --- S3: the waiver is counsel's on every path ----------------------------------------------


@pytest.fixture
def held_on_may_1() -> Delivery:
    """Mailgun's Notice, published 1 May, reached bob on 4 May and failed for good for alice."""
    change = make_change(
        make_subprocessor("Mailgun", status=SubProcessorStatus.ANNOUNCED), published_at=MAY_1
    )
    make_delivery(
        change, make_signup("bob@acme.com", status="active"), sent_at=MAY_1 + timedelta(days=3)
    )
    return failed_delivery(change, "alice@acme.com")


def waive_in_the_shell(delivery: Delivery, by: Any) -> None:
    delivery.waived_at = datetime.now(UTC)
    delivery.waived_by = by
    delivery.waiver_reason = "Bounced"
    delivery.save()


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
@pytest.mark.parametrize("person", ["analyst", "viewer"])
def test_rule_s3_an_analyst_cannot_waive_a_failed_delivery_through_the_model(
    staff: dict[str, Any], held_on_may_1: Delivery, person: str
) -> None:
    """S3: only counsel records the decision to proceed without an address. The service
    checked the permission, the model did not: a save from the shell, an import or any other
    path recorded an analyst's waiver, and the delivery stopped holding the gate."""
    with pytest.raises(ValidationError, match="Only counsel"):
        waive_in_the_shell(held_on_may_1, staff[person])

    held_on_may_1.refresh_from_db()
    assert held_on_may_1.waived_at is None
    assert Change.objects.gate_held().filter(pk=held_on_may_1.change_id).exists()
    assert Change.objects.get().notice_date is None


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_counsel_waives_through_the_model_and_the_gate_follows(
    counsel: Any, held_on_may_1: Delivery
) -> None:
    """The same save by counsel is the decision: the Notice date is bob's delivery day at
    once, on the change and its sub-processor, without calling the service."""
    waive_in_the_shell(held_on_may_1, counsel)

    change = Change.objects.get()
    assert (change.notice_date, change.earliest_access_on) == (date(2026, 5, 4), date(2026, 5, 19))
    assert change.subprocessor is not None
    assert change.subprocessor.earliest_access_on == date(2026, 5, 19)


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_counsel_waiver_handed_to_an_analyst_is_refused(
    counsel: Any, analyst: Any, held_on_may_1: Delivery
) -> None:
    waive_in_the_shell(held_on_may_1, counsel)

    held_on_may_1.waived_by = analyst
    with pytest.raises(ValidationError, match="Only counsel"):
        held_on_may_1.save()
    held_on_may_1.refresh_from_db()
    assert held_on_may_1.waived_by == counsel


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_a_waiver_without_counsel_is_a_clear_refusal_not_a_database_error(
    held_on_may_1: Delivery,
) -> None:
    held_on_may_1.waived_at = datetime.now(UTC)
    held_on_may_1.waiver_reason = "Bounced"

    with pytest.raises(ValidationError, match="Only counsel"):
        held_on_may_1.save()


@time_machine.travel(datetime(2026, 6, 1, 15, tzinfo=UTC), tick=False)
def test_rule_s3_a_queued_delivery_is_not_waived_through_the_model(
    counsel: Any, held_on_may_1: Delivery
) -> None:
    """Still being retried: there is nothing to proceed without yet."""
    held_on_may_1.status = DeliveryStatus.QUEUED
    held_on_may_1.save()

    with pytest.raises(ValidationError, match="has not failed for good"):
        waive_in_the_shell(held_on_may_1, counsel)
